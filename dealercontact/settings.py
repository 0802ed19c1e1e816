"""Django settings for DealerContact.

Every deployment-specific value comes from an environment variable read through the
helpers in dealercontact.env; the defaults run on one machine with nothing to install
(SQLite in WAL mode and Huey's SQLite storage). Set DATABASE_URL and REDIS_URL to
scale out onto PostgreSQL and Redis.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from dealercontact.env import email_settings, env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# The one switch for a public deployment: HTTPS hardening, secure cookies, and no
# development fallbacks (a missing SECRET_KEY stops the start instead of being made up).
DJANGO_ENV = env_choice("DJANGO_ENV", "development", ("development", "production"))
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when DJANGO_ENV=production")

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production")
    from dealercontact.env import development_secret_key

    # Development and tests need no environment: a random key made once per install.
    SECRET_KEY = development_secret_key(VAR_DIR / "dev-secret-key")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "django_htmx",
    "template_partials",
    "huey.contrib.djhuey",
    "contacts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the app process (no separate web server); a path that
    # escapes the static folders is a 404 like any other missing file.
    "dealercontact.static.StaticFilesMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Times in each user's own zone (browser-detected), else TIME_ZONE.
    "contacts.time_zones.TimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "dealercontact.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "contacts.context_processors.site_flags",
            ],
        },
    },
]

ASGI_APPLICATION = "dealercontact.asgi.application"
WSGI_APPLICATION = "dealercontact.wsgi.application"

# WAL lets the web processes read while a worker writes; IMMEDIATE transactions take the
# write lock up front instead of failing with "database is locked" when a read
# transaction later tries to write (the sending limits count, then insert).
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    except Exception as exc:  # dj_database_url raises several types for a bad URL
        raise ImproperlyConfigured(f"DATABASE_URL is not a usable database URL: {exc}") from None
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Logins (site and admin) and sign-ups are rate-limited per client address and per
# username with token buckets in the database (contacts.throttle), so every web process
# shares them.
LOGIN_ATTEMPTS_PER_USERNAME = env_int("LOGIN_ATTEMPTS_PER_USERNAME", 10, minimum=1)
LOGIN_ATTEMPTS_PER_ADDRESS = env_int("LOGIN_ATTEMPTS_PER_ADDRESS", 30, minimum=1)
LOGIN_THROTTLE_WINDOW_S = env_int("LOGIN_THROTTLE_WINDOW_S", 900, minimum=1)
SIGNUPS_PER_ADDRESS = env_int("SIGNUPS_PER_ADDRESS", 5, minimum=1)
SIGNUP_THROTTLE_WINDOW_S = env_int("SIGNUP_THROTTLE_WINDOW_S", 3600, minimum=1)
PASSWORD_RESETS_PER_ADDRESS = env_int("PASSWORD_RESETS_PER_ADDRESS", 5, minimum=1)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
# Times show in each user's browser-detected zone; this one until the browser has said.
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise serves straight from the app's and packages' static folders, so a fresh
# clone needs no collectstatic; collected files in STATIC_ROOT are used when present.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Email (password reset) -----------------------------------------------------------
# EMAIL_URL (smtp://user:password@host:587?tls=1, smtps://…, console:, file:///path, locmem:)
# or the EMAIL_* settings; without either, development prints mail to the console and
# production sends through SMTP on EMAIL_HOST (default localhost:25).
_email = email_settings(production=PRODUCTION)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
if "EMAIL_FILE_PATH" in _email:
    EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "DealerContact <noreply@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# --- HTTPS and browser hardening --------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Behind a reverse proxy that terminates TLS and sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Asking browsers to preload HSTS is a deliberate, hard-to-undo choice for the
        # whole domain, so it stays opt-in rather than a warning to silence by turning it on.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # /healthz-style probes from the proxy come over plain HTTP on the private side.
    SECURE_REDIRECT_EXEMPT = env_list("SECURE_REDIRECT_EXEMPT", [])

# Content-Security-Policy (django-csp): only this site's own scripts, styles, images and
# event stream; no inline scripts, inline styles or eval. htmx runs under it with its
# indicator styles in app.css (see the htmx-config meta tag in base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# Screenshots live here; they are served only through an owner-checked view, never
# from a public media URL.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"

# --- Product settings ---------------------------------------------------------------

SIGNUP_ENABLED = env_bool("SIGNUP_ENABLED", True)
# Sandbox dealer websites served by this app, so a newcomer sees the whole flow work
# without contacting a real business. Never on in production unless asked for.
SANDBOX_ENABLED = env_bool("SANDBOX_ENABLED", DEBUG)
SANDBOX_BASE_URL = env_str("SANDBOX_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
OSM_ENABLED = env_bool("OSM_ENABLED", False)
OVERPASS_URL = env_str("OVERPASS_URL", "https://overpass-api.de/api/interpreter")
# Overpass etiquette: one query at a time per process, a User-Agent that says who is
# asking, and retries on 429/504 that wait OVERPASS_BACKOFF_S, doubling (or Retry-After).
OVERPASS_USER_AGENT = env_str(
    "OVERPASS_USER_AGENT", "DealerContact/1.0 (car-dealer directory refresh; self-hosted Django app)"
)
OVERPASS_TIMEOUT_S = env_int("OVERPASS_TIMEOUT_S", 90, minimum=5, maximum=900)
OVERPASS_RETRIES = env_int("OVERPASS_RETRIES", 3, minimum=0, maximum=10)
OVERPASS_BACKOFF_S = env_int("OVERPASS_BACKOFF_S", 5, minimum=0, maximum=600)

# The contact engine.
BROWSER_EXECUTABLE = env_str("BROWSER_EXECUTABLE")
BROWSER_HEADLESS = env_bool("BROWSER_HEADLESS", True)
CONTACT_TIMEOUT_S = env_int("CONTACT_TIMEOUT_S", 90, minimum=5, maximum=3600)
# How long past CONTACT_TIMEOUT_S a running attempt may go before the reaper ends it.
CONTACT_GRACE_S = env_int("CONTACT_GRACE_S", 30, minimum=1, maximum=3600)
# The browser reaches the public internet and these hosts, nothing else private:
# "host" (any port) or "host:port", comma-separated (contacts/engine/network_guard.py).
ALLOWED_PRIVATE_HOSTS = env_list("ALLOWED_PRIVATE_HOSTS", [])
try:
    from contacts.engine.network_guard import LOOPBACK_ALLOWLIST, parse_allowlist

    parse_allowlist(ALLOWED_PRIVATE_HOSTS)
except ValueError as bad_entry:
    raise ImproperlyConfigured(f"ALLOWED_PRIVATE_HOSTS: {bad_entry}") from None
# The old switch, kept: on means 127.0.0.1 and localhost are allowed (any port).
ALLOW_PRIVATE_TARGETS = env_bool("ALLOW_PRIVATE_TARGETS", False)
if ALLOW_PRIVATE_TARGETS:
    ALLOWED_PRIVATE_HOSTS = list(dict.fromkeys([*ALLOWED_PRIVATE_HOSTS, *LOOPBACK_ALLOWLIST]))
# When the worker runs as root, the browser runs as this user so that Chromium's own
# sandbox can work (contacts/engine/sandbox.py).
BROWSER_USER = env_str("BROWSER_USER", "nobody")
# A worker's browser is closed and relaunched after this many attempts, so a long-lived
# worker does not grow without bound.
BROWSER_RECYCLE_AFTER = env_int("BROWSER_RECYCLE_AFTER", 25, minimum=1)
# The reaper runs on its own thread in every consumer process, at start and this often.
REAPER_INTERVAL_S = env_int("REAPER_INTERVAL_S", 15, minimum=1, maximum=600)
# A queued attempt whose task has been missing from the queue this long is enqueued again.
QUEUE_REENQUEUE_AFTER_S = env_int("QUEUE_REENQUEUE_AFTER_S", 30, minimum=0, maximum=3600)
# Open live-result streams one user may hold at once (each further one is answered 429).
LIVE_STREAMS_PER_USER = env_int("LIVE_STREAMS_PER_USER", 20, minimum=1, maximum=10000)
# How often the web process's one poller reads new events for every live stream.
LIVE_POLL_INTERVAL_MS = env_int("LIVE_POLL_INTERVAL_MS", 250, minimum=50, maximum=10000)
# The live view (a person solving a CAPTCHA in the worker's page): how long one may stay
# open, and how long without a sign from the viewer (their page open) before it closes.
LIVE_VIEW_LIMIT_S = env_int("LIVE_VIEW_LIMIT_S", 300, minimum=10, maximum=3600)
LIVE_VIEW_IDLE_S = env_int("LIVE_VIEW_IDLE_S", 20, minimum=5, maximum=600)

# --- Operations (/healthz, /metrics) -------------------------------------------------

# /healthz answers 503 when the newest worker heartbeat (each worker process writes one
# every 30 s) is older than this, or when a queued attempt has waited longer than
# HEALTH_QUEUED_MAX_AGE_S (a big batch legitimately queues for a while).
HEALTH_HEARTBEAT_MAX_AGE_S = env_int("HEALTH_HEARTBEAT_MAX_AGE_S", 120, minimum=60, maximum=86400)
HEALTH_QUEUED_MAX_AGE_S = env_int("HEALTH_QUEUED_MAX_AGE_S", 1800, minimum=60, maximum=7 * 86400)
# /metrics answers only a request with "Authorization: Bearer <METRICS_TOKEN>"; unset, it
# does not exist (404).
METRICS_TOKEN = env_str("METRICS_TOKEN")
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 16 characters")

# Sending limits, enforced in contacts.services.start_attempts for every entry point
# (contacts.limits says which limit stopped what, its value and when it frees up).
# Contact attempts one user may start in any 24 hours, and have queued or running at once.
ATTEMPTS_PER_USER_PER_DAY = env_int("ATTEMPTS_PER_USER_PER_DAY", 300, minimum=1)
ACTIVE_ATTEMPTS_PER_USER = env_int("ACTIVE_ATTEMPTS_PER_USER", 60, minimum=1)
# Minimum time between two submissions to one dealer (registrable domain), counting
# every user; a later attempt waits in the queue until its turn.
DEALER_MIN_INTERVAL_S = env_int("DEALER_MIN_INTERVAL_S", 300, minimum=0, maximum=7 * 86400)
# How long after a dealer was contacted for a customer before "contact again" may
# contact it again for that customer (staff may override in the admin).
RECONTACT_COOLDOWN_H = env_int("RECONTACT_COOLDOWN_H", 72, minimum=0, maximum=24 * 365)
# How long a filled form waits for its owner's review before it is cancelled unsent.
REVIEW_EXPIRY_H = env_int("REVIEW_EXPIRY_H", 24, minimum=1, maximum=24 * 30)
# The longest message template; dealer forms commonly cap their comment box near here.
MESSAGE_MAX_CHARS = env_int("MESSAGE_MAX_CHARS", 2000, minimum=200, maximum=20000)
# Screenshots older than this many days are deleted (0 keeps them forever).
SCREENSHOT_RETENTION_DAYS = env_int("SCREENSHOT_RETENTION_DAYS", 90, minimum=0)

# Human pace: seconds an attempt stays on the form page before submitting, counted from
# when that page loaded (form plugins silently drop faster leads); 0 turns it off.
CONTACT_MIN_DWELL_S = env_int("CONTACT_MIN_DWELL_S", 5, minimum=0, maximum=60)

# --- Huey ---------------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
# Attempts overlap on one engine loop per process, so threads are cheap: four at once hold
# about 600 MB with the browser (bench/README.md). With the human-pace wait on, an attempt
# spends most of its time idle on the form, so a process keeps about four more open per
# second of the wait to hold the rate it has without it (24 for the default 5 s: about
# 1.2 GB); only 2 per core load and search at once (EngineOptions.busy_attempts).
HUEY_WORKERS = env_int("HUEY_WORKERS", min(64, 4 + 4 * CONTACT_MIN_DWELL_S), minimum=1, maximum=64)
_huey_consumer = {
    "workers": HUEY_WORKERS,
    # Threads: a process's worker threads share its engine loop, driver and Chromium.
    # Worker processes each start their own (more memory, same behaviour).
    "worker_type": env_str("HUEY_WORKER_TYPE", "thread"),
    "periodic": True,
    "check_worker_health": True,
}
if _huey_consumer["worker_type"] not in {"thread", "process"}:
    raise ImproperlyConfigured("HUEY_WORKER_TYPE must be thread or process")
HUEY = {
    "name": "dealercontact",
    # Set explicitly: djhuey would otherwise follow DEBUG and run tasks inside requests.
    "immediate": env_bool("HUEY_IMMEDIATE", False),
    "results": False,
    "consumer": _huey_consumer,
}
if REDIS_URL:
    HUEY.update({"huey_class": "huey.RedisHuey", "url": REDIS_URL})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(VAR_DIR / "huey.sqlite3")})
# A Redis that does not answer fails an enqueue within seconds (the attempt row waits for the
# reaper to enqueue it again) rather than hanging the Contact request.
if REDIS_URL and "socket_connect_timeout" not in REDIS_URL:
    HUEY["url"] = REDIS_URL + ("&" if "?" in REDIS_URL else "?") + "socket_connect_timeout=5"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        # contacts.attempt_log writes whole JSON objects: one parseable line each.
        "bare": {"format": "%(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "json_lines": {"class": "logging.StreamHandler", "formatter": "bare"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # run_huey attaches its own handler to "huey"; propagating too would print twice.
        "huey": {"level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "contacts.attempt_log": {"handlers": ["json_lines"], "level": "INFO", "propagate": False},
    },
}

