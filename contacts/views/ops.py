"""Operations endpoints: /healthz for load balancers and monitors, /metrics for Prometheus."""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from contacts import metrics, ops

log = logging.getLogger(__name__)


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when every part works, else 503; the JSON names each part and the unhealthy ones.

    Public on purpose (probes carry no credentials): it reveals states and ages only,
    never hosts or error messages.
    """
    healthy, report = ops.health_report()
    return JsonResponse(report, status=200 if healthy else 503)


def bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@require_GET
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for a scraper holding METRICS_TOKEN.

    Unset METRICS_TOKEN: the endpoint does not exist (404). A missing or wrong token: 403.
    """
    expected = settings.METRICS_TOKEN
    if not expected:
        raise Http404("Metrics are not enabled.")
    if not hmac.compare_digest(bearer_token(request).encode(), expected.encode()):
        return HttpResponseForbidden("A valid bearer token is required.", content_type="text/plain")
    try:
        body = metrics.render_metrics()
    except DatabaseError as exc:
        log.warning("metrics: the database is unreachable: %s", exc)
        return HttpResponse("database unreachable\n", status=503, content_type="text/plain")
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
