"""Refreshing a search's area of the dealer directory from OpenStreetMap."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from contacts.models import Search
from contacts.osm import OverpassError, refresh_area
from contacts.results import ensure_snapshot, refresh_snapshot


@login_required
@require_POST
def refresh_from_osm(request: HttpRequest, pk: int) -> HttpResponse:
    search = get_object_or_404(Search, pk=pk, owner=request.user)
    if not settings.OSM_ENABLED:
        raise Http404("OpenStreetMap refresh is not enabled.")
    ensure_snapshot(search)  # what the search had before, to say what the refresh added
    try:
        result = refresh_area(search.latitude, search.longitude, search.radius_miles)
    except OverpassError as exc:
        messages.error(request, f"Could not refresh from OpenStreetMap: {exc}")
    else:
        # The search keeps its dealers until refreshed: this is that refresh, so say what it changed.
        change = refresh_snapshot(search)
        messages.success(request, f"{result.summary()} {change.summary()}")
    return redirect(search)
