"""Sign-up; log in, log out and password views are Django's own (see templates/registration)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from contacts.forms import SignupForm
from contacts.models import Preferences
from contacts.time_zones import remember_time_zone, valid_time_zone


def signup(request: HttpRequest) -> HttpResponse:
    if not settings.SIGNUP_ENABLED:
        raise Http404("Sign-up is disabled on this site.")
    if request.user.is_authenticated:
        return redirect("home")

    if request.method == "POST":
        form = SignupForm(request.POST)
        if form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.get_username()}! Add your first customer to get started.")
            return redirect("profile_create")
    else:
        form = SignupForm()
    return render(request, "registration/signup.html", {"form": form})


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
