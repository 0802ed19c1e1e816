"""Showing times in each user's own time zone.

The browser reports its zone (static/js/timezone.js posts it to set_time_zone), which is
stored per user (Preferences) and in a cookie; the middleware activates the cookie's zone
for each request, or else the user's stored one, or else settings.TIME_ZONE. Templates
always print the zone beside a time ("H:i T").
"""

from __future__ import annotations

import zoneinfo
from functools import lru_cache
from typing import AsyncIterator

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

COOKIE = "dc_tz"
COOKIE_MAX_AGE = 365 * 24 * 3600


@lru_cache(maxsize=1024)
def zone_named(name: str) -> zoneinfo.ZoneInfo | None:
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def valid_time_zone(name: str) -> bool:
    return zone_named(name) is not None


def remember_time_zone(response: HttpResponse, name: str) -> None:
    response.set_cookie(COOKIE, name, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=False)


async def in_zone(content: AsyncIterator[bytes], zone: zoneinfo.ZoneInfo) -> AsyncIterator[bytes]:
    """The chunks of a streaming response, each produced with the user's zone active.

    Activated before every step, not once: whoever reads the stream may run each step in
    a context of its own (asyncio.wait_for does), and a step sees only its own context.
    """
    chunks = aiter(content)
    try:
        while True:
            timezone.activate(zone)
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            finally:
                timezone.deactivate()
            yield chunk
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()  # the stream's own clean-up (it stops polling) runs as before


class TimeZoneMiddleware:
    """Activates the request's time zone; works in front of sync and async views alike."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self.__acall__(request)
        self.activate(request, stored=self.stored_zone(request))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    async def __acall__(self, request: HttpRequest):
        # The async path (the live stream) uses the cookie only: no query on every connect.
        self.activate(request, stored="")
        try:
            response = await self.get_response(request)
        finally:
            timezone.deactivate()
        zone = zone_named(request.COOKIES.get(COOKIE, ""))
        if zone is not None and getattr(response, "is_async", False):
            # A stream renders long after this returns: keep the zone for its whole life.
            response.streaming_content = in_zone(response.streaming_content, zone)
        return response

    @staticmethod
    def stored_zone(request: HttpRequest) -> str:
        if request.COOKIES.get(COOKIE):
            return ""
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return ""
        from contacts.models import Preferences

        return Preferences.objects.filter(user=user).values_list("time_zone", flat=True).first() or ""

    @staticmethod
    def activate(request: HttpRequest, stored: str) -> None:
        zone = zone_named(request.COOKIES.get(COOKIE, "")) or zone_named(stored)
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
