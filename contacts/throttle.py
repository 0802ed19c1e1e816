"""Rate limits on logging in, signing up and asking for a password reset.

Token buckets in the database (contacts.models.TokenBucket), so every web process
shares them. A login is limited per client address and per username typed, whether or
not that username exists, so the answer says nothing about which accounts exist.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest

from contacts.models import TokenBucket


def client_address(request: HttpRequest) -> str:
    # Behind a reverse proxy, run uvicorn with --proxy-headers and --forwarded-allow-ips
    # so REMOTE_ADDR is the visitor's address, not the proxy's.
    return request.META.get("REMOTE_ADDR") or "unknown"


def minutes(seconds: int) -> str:
    count = max(1, round(seconds / 60))
    return f"{count} minute{'s' if count != 1 else ''}"


def login_allowed(request: HttpRequest, username: str) -> bool:
    window = settings.LOGIN_THROTTLE_WINDOW_S
    by_address = TokenBucket.authorize(
        f"login-ip:{client_address(request)}", settings.LOGIN_ATTEMPTS_PER_ADDRESS, window
    )
    by_username = TokenBucket.authorize(
        f"login-user:{username.strip().lower()}", settings.LOGIN_ATTEMPTS_PER_USERNAME, window
    )
    return by_address and by_username


def signup_post_allowed(request: HttpRequest) -> bool:
    # Any sign-up post (typos included) at four times the rate of accounts made.
    return TokenBucket.authorize(
        f"signup-post:{client_address(request)}", settings.SIGNUPS_PER_ADDRESS * 4, settings.SIGNUP_THROTTLE_WINDOW_S
    )


def signup_allowed(request: HttpRequest) -> bool:
    return TokenBucket.authorize(
        f"signup:{client_address(request)}", settings.SIGNUPS_PER_ADDRESS, settings.SIGNUP_THROTTLE_WINDOW_S
    )


def password_reset_allowed(request: HttpRequest) -> bool:
    return TokenBucket.authorize(
        f"password-reset:{client_address(request)}", settings.PASSWORD_RESETS_PER_ADDRESS, 3600
    )


def too_many_logins_message() -> str:
    return (
        "Too many login attempts from this address or for this username. "
        f"Wait {minutes(settings.LOGIN_THROTTLE_WINDOW_S // settings.LOGIN_ATTEMPTS_PER_USERNAME)} and try again."
    )


class ThrottledLoginMixin:
    """Checks the login buckets before the password, on the site and in the admin."""

    request: HttpRequest | None

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if self.request is not None and not login_allowed(self.request, username):
            raise forms.ValidationError(too_many_logins_message(), code="throttled")
        return super().clean()


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


def prune_buckets() -> int:
    """Forget buckets that have refilled (run hourly by the worker)."""
    longest = max(settings.LOGIN_THROTTLE_WINDOW_S, settings.SIGNUP_THROTTLE_WINDOW_S, 3600)
    return TokenBucket.prune(longest)
