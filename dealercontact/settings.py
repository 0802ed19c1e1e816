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

from dealercontact.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "huey.contrib.djhuey",
    "contacts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
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

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    except Exception as exc:  # dj_database_url raises several types for a bad URL
        raise ImproperlyConfigured(f"DATABASE_URL is not a usable database URL: {exc}") from None
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {
                # WAL lets the web processes read while a worker writes; IMMEDIATE
                # transactions take the write lock up front instead of failing with
                # "database is locked" when a read transaction later tries to write.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

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
# The browser refuses private, loopback and link-local addresses unless this is on.
ALLOW_PRIVATE_TARGETS = env_bool("ALLOW_PRIVATE_TARGETS", False)
# A worker's browser is closed and relaunched after this many attempts, so a long-lived
# worker does not grow without bound.
BROWSER_RECYCLE_AFTER = env_int("BROWSER_RECYCLE_AFTER", 25, minimum=1)
# Human pace: seconds an attempt stays on the form page before submitting, counted from
# when that page loaded (form plugins silently drop faster leads); 0 turns it off.
CONTACT_MIN_DWELL_S = env_int("CONTACT_MIN_DWELL_S", 5, minimum=0, maximum=60)

# --- Huey ---------------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
# Attempts overlap on one engine loop per process, so threads are cheap: four at once hold
# about 600 MB with the browser (bench/README.md).
HUEY_WORKERS = env_int("HUEY_WORKERS", 4, minimum=1, maximum=64)
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # run_huey attaches its own handler to "huey"; propagating too would print twice.
        "huey": {"level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}

VAR_DIR.mkdir(parents=True, exist_ok=True)
