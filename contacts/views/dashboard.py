"""The dashboard: how a user's contact attempts went (staff: anyone's)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "contacts/dashboard.html", {})
