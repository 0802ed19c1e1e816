"""Sign-up, password reset and deleting one's account; log in, log out and the rest of the
password views are Django's own (see templates/registration), rate-limited in dealercontact/urls.py."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from contacts import lifecycle, throttle
from contacts.forms import SignupForm
from contacts.models import ContactAttempt, Preferences
from contacts.time_zones import remember_time_zone, valid_time_zone

THROTTLED = 429


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.SIGNUP_ENABLED:
        raise Http404("Sign-up is disabled on this site.")
    if request.user.is_authenticated:
        return redirect("home")

    if request.method == "POST":
        form = SignupForm(request.POST)
        if not throttle.signup_post_allowed(request) or (form.is_valid() and not throttle.signup_allowed(request)):
            form.add_error(
                None,
                "Too many sign-ups from your network. Wait "
                f"{throttle.minutes(settings.SIGNUP_THROTTLE_WINDOW_S // settings.SIGNUPS_PER_ADDRESS)} and try again.",
            )
            return render(request, "registration/signup.html", {"form": form}, status=THROTTLED)
        if form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.get_username()}! Add your first customer to get started.")
            return redirect("profile_create")
    else:
        form = SignupForm()
    return render(request, "registration/signup.html", {"form": form})


_password_reset = auth_views.PasswordResetView.as_view()


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """Django's reset view, limited per client address (each post can send an email).

    Whether or not an account has the address, the answer is the same "check your inbox".
    """
    if request.method == "POST" and not throttle.password_reset_allowed(request):
        context = {"throttled": True, "form": None}
        return render(request, "registration/password_reset_form.html", context, status=THROTTLED)
    return _password_reset(request)


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    """GET shows what goes; POST with the username typed deletes the account and all in it."""
    user = request.user
    counts = {
        "customers": user.profiles.count(),
        "searches": user.searches.count(),
        "attempts": ContactAttempt.objects.filter(owner=user).count(),
        "active": ContactAttempt.objects.filter(owner=user).active().count(),
    }
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm_username", "").strip() != user.get_username():
            error = "Type your username exactly to confirm."
        else:
            # Stop anything still queued or running first, so no worker contacts a
            # dealer for a customer who no longer exists.
            from contacts.services import cancel_attempts

            cancel_attempts(list(ContactAttempt.objects.filter(owner=user).active()))
            username = user.get_username()
            logout(request)
            lifecycle.delete_account(user)
            messages.success(request, f"Deleted the account {username} and everything in it.")
            return redirect("login")
    status = 400 if error else 200
    return render(request, "registration/account_delete.html", {"counts": counts, "error": error}, status=status)


@login_required
@require_POST
def set_time_zone(request: HttpRequest) -> HttpResponse:
    """Store the time zone the browser reports (static/js/timezone.js) for this user.

    Answers 204; the cookie lets the middleware show times in it without a query.
    """
    name = request.POST.get("time_zone", "").strip()
    if not valid_time_zone(name):
        return HttpResponseBadRequest(f"Unknown time zone “{name[:64]}”.", content_type="text/plain")
    Preferences.objects.update_or_create(user=request.user, defaults={"time_zone": name})
    response = HttpResponse(status=204)
    remember_time_zone(response, name)
    return response
