from django.conf import settings
from django.http import HttpRequest


def site_flags(request: HttpRequest) -> dict:
    return {
        "SIGNUP_ENABLED": settings.SIGNUP_ENABLED,
        "SANDBOX_ENABLED": settings.SANDBOX_ENABLED,
        "OSM_ENABLED": settings.OSM_ENABLED,
    }
