"""The production switch (DJANGO_ENV=production), the Content-Security-Policy, static files
through WhiteNoise, and every README command on a fresh clone with an empty environment."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


def empty_env(**extra: str) -> dict[str, str]:
    """What `env -i PATH=$PATH HOME=$HOME` leaves, plus `extra`."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), **extra}


def manage(*args: str, env: dict[str, str], cwd: Path = ROOT, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return empty_env(DJANGO_ENV="production", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="testserver",
                     VAR_DIR=str(tmp_path / "var"), **extra)


# --- the production switch ------------------------------------------------------------------------


def test_check_deploy_is_clean_under_the_production_switch(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    # And without the switch it is not: the switch is what turns the hardening on.
    result = manage("check", "--deploy", "--fail-level", "WARNING",
                    env=empty_env(SECRET_KEY=secrets.token_urlsafe(50), VAR_DIR=str(tmp_path / "var")))
    assert result.returncode != 0 and "security.W004" in result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DJANGO_ENV=production" in result.stderr
    assert not (tmp_path / "var" / "dev-secret-key").exists()


def test_production_refuses_debug(tmp_path):
    result = manage("check", env=production_env(tmp_path, DEBUG="1"))
    assert result.returncode != 0 and "DEBUG must be off when DJANGO_ENV=production" in result.stderr


PROBE = """
import django, os
django.setup()
from django.test import Client
from django.conf import settings
client = Client()
plain = client.get("/accounts/login/")
print("REDIRECT", plain.status_code, plain.get("Location"))
page = client.get("/accounts/login/", secure=True)
print("STATUS", page.status_code)
print("HSTS", page.get("Strict-Transport-Security"))
print("CSP", page.get("Content-Security-Policy"))
print("CSRF_COOKIE_SECURE", settings.CSRF_COOKIE_SECURE, "SESSION_COOKIE_SECURE", settings.SESSION_COOKIE_SECURE)
print("PROXY", settings.SECURE_PROXY_SSL_HEADER)
proxied = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
print("PROXIED", proxied.status_code)
print("EMAIL", settings.EMAIL_BACKEND)
print("ESCAPE", client.get("/static/../manage.py", secure=True).status_code)
print("STATIC", client.get("/static/js/app.js", secure=True).status_code)
"""


def test_the_production_switch_hardens_https(tmp_path):
    env = production_env(tmp_path, DJANGO_SETTINGS_MODULE="dealercontact.settings",
                         DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    out = dict(line.split(" ", 1) for line in result.stdout.strip().splitlines())
    assert out["REDIRECT"] == "301 https://testserver/accounts/login/"
    assert out["STATUS"] == "200"
    assert out["HSTS"] == "max-age=31536000; includeSubDomains"
    assert "script-src 'self'" in out["CSP"] and "'unsafe-inline'" not in out["CSP"]
    assert out["CSRF_COOKIE_SECURE"] == "True SESSION_COOKIE_SECURE True"
    assert out["PROXY"] == "('HTTP_X_FORWARDED_PROTO', 'https')"
    assert out["PROXIED"] == "200"  # behind a TLS-terminating proxy, no redirect loop
    assert out["EMAIL"] == "django.core.mail.backends.smtp.EmailBackend"
    assert out["ESCAPE"] == "404" and out["STATIC"] == "200"


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mailer%40example.org:s%3Acret@mail.example.org:587?tls=1",
     {"EMAIL_HOST": "mail.example.org", "EMAIL_PORT": 587, "EMAIL_HOST_USER": "mailer@example.org",
      "EMAIL_HOST_PASSWORD": "s:cret", "EMAIL_USE_TLS": True, "EMAIL_USE_SSL": False}),
    ("smtps://mail.example.org", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True}),
    ("console:", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
    ("file:///tmp/mail", {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                          "EMAIL_FILE_PATH": "/tmp/mail"}),
])
def test_it_reads_email_url(monkeypatch, url, expected):
    from dealercontact.env import email_settings

    monkeypatch.setenv("EMAIL_URL", url)
    values = email_settings(production=True)
    assert {key: values[key] for key in expected} == expected


def test_it_refuses_a_bad_email_url(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from dealercontact.env import email_settings

    monkeypatch.setenv("EMAIL_URL", "pop3://mail.example.org")
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL must start with one of"):
        email_settings(production=False)


def test_development_prints_mail_to_the_console(monkeypatch):
    from dealercontact.env import email_settings

    monkeypatch.delenv("EMAIL_URL", raising=False)
    monkeypatch.delenv("EMAIL_BACKEND", raising=False)
    assert email_settings(production=False)["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


# --- Content-Security-Policy ------------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\s(on[a-z]+|hx-on[:\w-]*)=", re.I)
INLINE_STYLE = re.compile(r"<[^>]+\sstyle=", re.I)


def test_every_app_page_has_the_policy_and_nothing_inline(client, owner, profile, search, dealers):
    from contacts.models import AttemptStatus, ContactAttempt

    running = ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealers[0], search=search,
                                            status=AttemptStatus.RUNNING, phase="filling")
    anonymous = [reverse("login"), reverse("signup"), reverse("password_reset")]
    logged_in = [reverse("home"), reverse("profile_list"), reverse("profile_create"),
              reverse("profile_edit", args=[profile.pk]), reverse("search_create"), reverse("search_list"),
              reverse("search_detail", args=[search.pk]), reverse("attempt_detail", args=[running.pk]),
              reverse("password_change"), reverse("account_delete"), reverse("sandbox_index")]
    for url in anonymous + logged_in:
        if url == logged_in[0]:
            client.force_login(owner)
        response = client.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "unsafe" not in policy
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), (url, INLINE_SCRIPT.search(html).group(0))
        assert not INLINE_HANDLER.search(html), (url, INLINE_HANDLER.search(html).group(0))
        assert not INLINE_STYLE.search(html), (url, INLINE_STYLE.search(html).group(0))
    # Progress is a <progress> element's value, not an inline style's width.
    assert '<progress class="progress"' in client.get(reverse("search_detail", args=[search.pk])).content.decode()


def test_the_sandbox_dealer_sites_are_not_under_the_apps_policy(client, db):
    # They imitate real dealer websites, inline scripts and all.
    response = client.get("/sandbox/canyon-crest-toyota/")
    assert response.status_code == 200 and "Content-Security-Policy" not in response


# --- static files -------------------------------------------------------------------------------------


def raw_get(port: int, path: str) -> tuple[int, bytes]:
    """A request sent as written: HTTP clients would tidy the "../" away."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.mark.parametrize("path", ["/static/../manage.py", "/static/%2e%2e/manage.py", "/static/..%2fmanage.py",
                                  "/static/css/../../manage.py", "/static/../dealercontact/settings.py"])
def test_a_path_out_of_the_static_folder_is_a_404(asgi_server, path):
    status, body = raw_get(asgi_server.port, path)
    assert status == 404, (path, status)
    assert b"DJANGO_SETTINGS_MODULE" not in body and b"SECRET_KEY" not in body


def test_static_files_come_from_whitenoise(asgi_server):
    from whitenoise.middleware import WhiteNoiseMiddleware
    from django.utils.module_loading import import_string

    assert any(issubclass(import_string(m), WhiteNoiseMiddleware) for m in settings.MIDDLEWARE)
    status, body = raw_get(asgi_server.port, "/static/css/app.css")
    assert status == 200 and b".htmx-indicator" in body
    status, body = raw_get(asgi_server.port, "/static/js/app.js")
    assert status == 200 and b"htmx:beforeSwap" in body


# --- a fresh clone with an empty environment ------------------------------------------------------


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory) -> Path:
    """The project's files as a clone has them: no var/, no .env, nothing generated."""
    target = tmp_path_factory.mktemp("clone") / "dealercontact"
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    assert not (target / "var").exists()
    return target


def test_every_readme_command_runs_with_an_empty_environment(fresh_clone, tmp_path):
    env = empty_env()
    readme = (fresh_clone / "README.md").read_text()
    commands = {line.split("manage.py ", 1)[1].split()[0] for line in readme.splitlines() if "python manage.py " in line}
    assert {"contact_dealers", "import_dealers", "fetch_osm_dealers", "load_sandbox_dealers"} <= commands
    for command in sorted(commands):
        result = manage(command, "--help", env=env, cwd=fresh_clone)
        assert result.returncode == 0, (command, result.stderr)
        assert "ImproperlyConfigured" not in result.stderr

    # And they do their work, not just print help.
    assert manage("migrate", "--noinput", env=env, cwd=fresh_clone).returncode == 0
    # The sandbox is off unless asked for (DEBUG=1, as `make run` sets): one readable line.
    result = manage("load_sandbox_dealers", env=env, cwd=fresh_clone)
    assert result.returncode == 1 and result.stderr.startswith("CommandError: The sandbox is off")
    assert "Traceback" not in result.stderr
    result = manage("load_sandbox_dealers", env=empty_env(SANDBOX_ENABLED="1"), cwd=fresh_clone)
    assert result.returncode == 0, result.stderr
    csv = tmp_path / "dealers.csv"
    csv.write_text("name,website,zip\nBob's Ford,https://bobsford.example.com/,90210\n")
    result = manage("import_dealers", str(csv), env=env, cwd=fresh_clone)
    assert result.returncode == 0, result.stderr
    result = manage("purge_screenshots", env=env, cwd=fresh_clone)
    assert result.returncode == 0, result.stderr
    # contact_dealers reads its inputs before it needs a browser: a bad file is one readable line.
    result = manage("contact_dealers", "--customer", str(tmp_path / "missing.json"), "--dealers", str(csv),
                    "--out", str(tmp_path / "out.json"), env=env, cwd=fresh_clone)
    assert result.returncode != 0 and "customer file not found" in result.stderr
    assert "Traceback" not in result.stderr

    # The development key was made once, kept private, and is reused.
    key_file = fresh_clone / "var" / "dev-secret-key"
    key = key_file.read_text()
    assert len(key.strip()) >= 50 and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert manage("check", env=env, cwd=fresh_clone).returncode == 0
    assert key_file.read_text() == key
