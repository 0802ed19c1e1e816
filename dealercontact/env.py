"""Small helpers that read settings from the environment.

Each helper returns the default when the variable is unset or empty, and raises
ImproperlyConfigured with the variable's name when the value cannot be used, so a
typo in a deployment fails at start-up instead of at the first request.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str = "") -> str:
    value = os.environ.get(name, "")
    return value if value != "" else default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}; got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def development_secret_key(path) -> str:
    """A random key made once per install and kept in `path`, for development only.

    Written with O_EXCL so two processes starting at once agree on one key.
    """
    import secrets
    from pathlib import Path

    path = Path(path)
    try:
        key = path.read_text().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip() or key
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


_EMAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}


def email_settings(*, production: bool) -> dict:
    """Django's EMAIL_* settings from EMAIL_URL, else from the EMAIL_* variables.

    EMAIL_URL: smtp://user:password@host:587?tls=1 (or ssl=1), smtps://… (implicit TLS),
    console:, file:///path/to/folder, locmem: or dummy:. User and password may be
    percent-encoded.
    """
    from urllib.parse import parse_qs, unquote, urlsplit

    url = env_str("EMAIL_URL")
    if url:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _EMAIL_BACKENDS:
            raise ImproperlyConfigured(
                f"EMAIL_URL must start with one of {', '.join(s + ':' for s in _EMAIL_BACKENDS)}; got {url.split(':')[0]!r}"
            )
        values: dict = {"EMAIL_BACKEND": _EMAIL_BACKENDS[scheme]}
        if scheme == "file":
            if not parts.path:
                raise ImproperlyConfigured("EMAIL_URL file:///path needs a folder path")
            values["EMAIL_FILE_PATH"] = unquote(parts.path)
        if scheme in ("smtp", "smtps"):
            query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
            try:
                port = parts.port
            except ValueError:
                raise ImproperlyConfigured("EMAIL_URL has a port that is not a number") from None
            values.update(
                EMAIL_HOST=parts.hostname or "localhost",
                EMAIL_PORT=port or (465 if scheme == "smtps" else 25),
                EMAIL_HOST_USER=unquote(parts.username or ""),
                EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
                EMAIL_USE_SSL=scheme == "smtps" or query.get("ssl") in _TRUE,
                EMAIL_USE_TLS=query.get("tls") in _TRUE,
            )
            if values["EMAIL_USE_SSL"] and values["EMAIL_USE_TLS"]:
                raise ImproperlyConfigured("EMAIL_URL: use tls=1 (STARTTLS) or ssl (smtps://), not both")
        return values
    default_backend = "smtp" if production else "console"
    backend = env_str("EMAIL_BACKEND", _EMAIL_BACKENDS[default_backend])
    backend = _EMAIL_BACKENDS.get(backend, backend)
    use_tls, use_ssl = env_bool("EMAIL_USE_TLS", False), env_bool("EMAIL_USE_SSL", False)
    if use_tls and use_ssl:
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on")
    return {
        "EMAIL_BACKEND": backend,
        "EMAIL_HOST": env_str("EMAIL_HOST", "localhost"),
        "EMAIL_PORT": env_int("EMAIL_PORT", 465 if use_ssl else 25, minimum=1, maximum=65535),
        "EMAIL_HOST_USER": env_str("EMAIL_HOST_USER"),
        "EMAIL_HOST_PASSWORD": env_str("EMAIL_HOST_PASSWORD"),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
    }
