"""/healthz and /metrics, against the configured database and Huey storage (SQLite by
default, PostgreSQL and Redis in the scale-out pass), with real failures: a database
connection that cannot connect, a queue storage nobody listens on, an old heartbeat."""

from __future__ import annotations

import copy
import http.client
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from huey import RedisHuey, SqliteHuey
from huey.contrib.djhuey import HUEY
from prometheus_client.parser import text_string_to_metric_families

from contacts import ops, services
from contacts.models import AttemptStatus, ContactAttempt, WorkerHeartbeat
from contacts.views import live

pytestmark = pytest.mark.usefixtures("empty_queue")

TOKEN = "s3cret-metrics-token-for-tests"


def healthz(client):
    response = client.get(reverse("healthz"))
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    return response, response.json()


def fresh_heartbeat(seconds_ago: float = 0) -> None:
    WorkerHeartbeat.objects.create(worker="worker-host:4242", last_seen=timezone.now() - timedelta(seconds=seconds_ago))


def expected_backend() -> str:
    return "redis" if settings.REDIS_URL else "sqlite"


@pytest.fixture
def database_down(db):
    """The default connection replaced by one to a database that does not exist or listen."""
    real = connections["default"]
    broken_settings = copy.deepcopy(real.settings_dict)
    if real.vendor == "sqlite":
        broken_settings["NAME"] = "/nonexistent-dir/dealercontact/down.sqlite3"
    else:
        broken_settings["HOST"], broken_settings["PORT"] = "127.0.0.1", "1"
    broken = real.__class__(broken_settings, alias="default")
    connections["default"] = broken
    yield broken
    broken.close()
    connections["default"] = real


def unreachable_queue(kind: str):
    if kind == "redis":
        return RedisHuey("unreachable", url="redis://127.0.0.1:1/0")
    return SqliteHuey("unreachable", filename="/nonexistent-dir/dealercontact/huey.sqlite3", create_tables=False)


# --- /healthz ------------------------------------------------------------------------


def test_it_is_healthy_when_every_part_answers(client, db):
    fresh_heartbeat(seconds_ago=5)
    response, body = healthz(client)
    assert response.status_code == 200
    assert body["status"] == "ok" and body["unhealthy"] == []
    checks = body["checks"]
    assert checks["database"]["ok"] and checks["database"]["vendor"] == connections["default"].vendor
    assert checks["queue"] == {"ok": True, "backend": expected_backend(), "pending_tasks": 0}
    assert checks["worker_heartbeat"]["ok"] and 4 <= checks["worker_heartbeat"]["age_s"] < 60
    assert checks["worker_heartbeat"]["workers_alive"] == 1
    assert checks["oldest_queued_attempt"] == {"ok": True, "age_s": None, "max_age_s": 1800}


def test_it_reports_queue_depth_and_a_young_queued_attempt_as_healthy(client, owner, profile, dealers,
                                                                       django_capture_on_commit_callbacks):
    fresh_heartbeat()
    with django_capture_on_commit_callbacks(execute=True):
        services.start_attempts(owner, profile, dealers[:2])
    response, body = healthz(client)
    assert response.status_code == 200
    assert body["checks"]["queue"]["pending_tasks"] == 2 == HUEY.pending_count()
    assert 0 <= body["checks"]["oldest_queued_attempt"]["age_s"] < 60


def test_it_is_unhealthy_before_any_worker_reported(client, db):
    response, body = healthz(client)
    assert response.status_code == 503
    assert body["unhealthy"] == ["worker_heartbeat"]
    assert body["checks"]["worker_heartbeat"]["age_s"] is None
    assert "no worker" in body["checks"]["worker_heartbeat"]["error"]


def test_it_is_unhealthy_when_the_heartbeat_is_stale(client, db, settings):
    settings.HEALTH_HEARTBEAT_MAX_AGE_S = 120
    fresh_heartbeat(seconds_ago=121)
    response, body = healthz(client)
    assert response.status_code == 503
    assert body["status"] == "unhealthy" and body["unhealthy"] == ["worker_heartbeat"]
    heartbeat = body["checks"]["worker_heartbeat"]
    assert heartbeat["ok"] is False and heartbeat["age_s"] >= 121 and heartbeat["max_age_s"] == 120
    assert heartbeat["workers_alive"] == 0


def test_it_is_unhealthy_when_a_queued_attempt_waited_too_long(client, owner, profile, dealers, settings):
    settings.HEALTH_QUEUED_MAX_AGE_S = 600
    fresh_heartbeat()
    ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealers[0],
                                  created=timezone.now() - timedelta(seconds=700))
    ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealers[1])
    # A long-finished attempt is not waiting for anything.
    ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealers[2], status=AttemptStatus.SUBMITTED,
                                  created=timezone.now() - timedelta(days=3))
    response, body = healthz(client)
    assert response.status_code == 503
    assert body["unhealthy"] == ["oldest_queued_attempt"]
    assert 700 <= body["checks"]["oldest_queued_attempt"]["age_s"] < 760


def test_it_is_unhealthy_when_the_database_is_unreachable(client, database_down):
    response, body = healthz(client)
    assert response.status_code == 503
    assert body["unhealthy"] == ["database", "worker_heartbeat", "oldest_queued_attempt"]
    assert body["checks"]["database"] == {"ok": False, "error": "unreachable (OperationalError)"}
    # The queue does not live in the database: still checked, still fine.
    assert body["checks"]["queue"]["ok"] is True


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_it_is_unhealthy_when_the_queue_is_unreachable(client, db, monkeypatch, kind):
    fresh_heartbeat()
    monkeypatch.setattr(ops, "HUEY", unreachable_queue(kind))
    response, body = healthz(client)
    assert response.status_code == 503
    assert body["unhealthy"] == ["queue"]
    assert body["checks"]["queue"]["ok"] is False
    assert body["checks"]["queue"]["error"].startswith("unreachable (")
    # Nothing about where the queue lives reaches an unauthenticated caller.
    assert "127.0.0.1" not in response.content.decode() and "nonexistent" not in response.content.decode()


def test_it_answers_everyone_the_same_without_logging_in(client, owner, teammate, outsider, db):
    fresh_heartbeat()
    anonymous = healthz(client)[1]
    staff = User.objects.create_user("root", "root@example.org", "password", is_staff=True)
    for user in (owner, teammate, outsider, staff):
        signed_in = Client()
        signed_in.force_login(user)
        response, body = healthz(signed_in)
        assert response.status_code == 200
        assert body["checks"] == anonymous["checks"] | {"worker_heartbeat": body["checks"]["worker_heartbeat"]}


def test_it_answers_head_and_refuses_post_on_healthz(client, db):
    fresh_heartbeat()
    assert client.head(reverse("healthz")).status_code == 200
    assert client.post(reverse("healthz")).status_code == 405


def test_it_404s_near_misses_of_healthz(client, db):
    assert client.get("/healthz/extra").status_code == 404


# --- the heartbeat ---------------------------------------------------------------------


def wait_until(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
    return value


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_beats_until_stopped():
    WorkerHeartbeat.objects.create(worker="gone:1", last_seen=timezone.now() - timedelta(days=2))
    beating = ops.Heartbeat()
    beating.start(interval_s=0.1)
    beating.start(interval_s=0.1)  # every worker thread asks; the process gets one thread
    try:
        first = wait_until(lambda: WorkerHeartbeat.objects.filter(worker=ops.worker_process_name()).first())
        # It keeps beating: last_seen moves on.
        wait_until(lambda: WorkerHeartbeat.objects.get(pk=first.pk).last_seen > first.last_seen)
        assert sum(t.name == "heartbeat" for t in threading.enumerate()) == 1
        # A process not seen for a day (restarted under another pid) is forgotten.
        assert not WorkerHeartbeat.objects.filter(worker="gone:1").exists()
    finally:
        beating.stop()
    assert not any(t.name == "heartbeat" for t in threading.enumerate())


def test_a_starting_consumer_turns_healthz_green_and_stopping_it_stops_the_beat(huey_consumer):
    client = Client()
    wait_until(WorkerHeartbeat.objects.exists)
    response, body = healthz(client)
    assert response.status_code == 200, body
    assert body["checks"]["worker_heartbeat"]["workers_alive"] == 1
    assert sum(t.name == "heartbeat" for t in threading.enumerate()) == 1
    huey_consumer.stop(graceful=True)
    assert not any(t.name == "heartbeat" for t in threading.enumerate())


# --- /metrics -------------------------------------------------------------------------


def scrape(client, token: str | None = TOKEN, **headers):
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get(reverse("metrics"), **headers)


def samples(response) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_it_404s_metrics_when_no_token_is_configured(client, db, settings):
    settings.METRICS_TOKEN = ""
    assert scrape(client).status_code == 404
    assert scrape(client, token="").status_code == 404


def test_it_refuses_metrics_without_the_right_token(client, owner, db, settings):
    settings.METRICS_TOKEN = TOKEN
    assert scrape(client, token=None).status_code == 403
    assert scrape(client, token="wrong-token-wrong-token").status_code == 403
    assert scrape(client, token=TOKEN + "x").status_code == 403
    assert client.get(reverse("metrics"), HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 403
    # A signed-in session, even staff, is no substitute for the token.
    staff = User.objects.create_user("root", "root@example.org", "password", is_staff=True, is_superuser=True)
    for user in (owner, staff):
        signed_in = Client()
        signed_in.force_login(user)
        assert scrape(signed_in, token=None).status_code == 403


def test_it_refuses_post_on_metrics(client, db, settings):
    settings.METRICS_TOKEN = TOKEN
    assert client.post(reverse("metrics"), HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_it_exports_attempts_phases_and_the_queue(client, owner, teammate, profile, dealers, settings,
                                                  django_capture_on_commit_callbacks):
    settings.METRICS_TOKEN = TOKEN
    fresh_heartbeat(seconds_ago=10)
    make = ContactAttempt.objects.create
    make(owner=owner, customer=profile, dealer=dealers[0], status="submitted", finished=timezone.now(),
         phase_timings={"opening": 0.4, "finding_form": 3.0, "filling": 2.0, "submitting": 0.2, "verifying": 1.5})
    # Long enough ago that "contact again" is past the re-contact cooldown.
    make(owner=owner, customer=profile, dealer=dealers[1], status="submitted",
         finished=timezone.now() - timedelta(days=30), phase_timings={"opening": 1.2, "finding_form": 30.0, "filling": 2.5})
    make(owner=owner, customer=profile, dealer=dealers[2], status="captcha", finished=timezone.now(),
         phase_timings={"opening": 95.0, "finding_form": 1.0})
    make(owner=owner, customer=profile, dealer=dealers[0], status="running", started=timezone.now(),
         phase_timings={"opening": 0.1})  # not finished: not in the histograms yet
    with django_capture_on_commit_callbacks(execute=True):
        services.start_attempts(owner, profile, [dealers[1]], contact_again=True)

    response = scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    found = samples(response)

    def value(name, **labels):
        return found[(name, tuple(sorted(labels.items())))]

    assert value("dealercontact_attempts_total", outcome="submitted") == 2
    assert value("dealercontact_attempts_total", outcome="captcha") == 1
    assert value("dealercontact_attempts_total", outcome="failed") == 0
    assert value("dealercontact_attempts_queued") == 1
    assert value("dealercontact_attempts_running") == 1
    assert value("dealercontact_queue_pending_tasks", backend=expected_backend()) == 1 == HUEY.pending_count()
    assert value("dealercontact_queue_up") == 1
    assert 10 <= value("dealercontact_worker_heartbeat_age_seconds") < 60
    assert value("dealercontact_workers_alive") == 1
    assert 0 <= value("dealercontact_oldest_queued_attempt_age_seconds") < 60
    assert value("dealercontact_live_streams_connected") == 0

    hist = "dealercontact_phase_duration_seconds"
    assert value(f"{hist}_count", phase="opening") == 3
    assert value(f"{hist}_sum", phase="opening") == pytest.approx(96.6)
    assert value(f"{hist}_bucket", phase="opening", le="0.5") == 1
    assert value(f"{hist}_bucket", phase="opening", le="2.5") == 2
    assert value(f"{hist}_bucket", phase="opening", le="90.0") == 2
    assert value(f"{hist}_bucket", phase="opening", le="120.0") == 3
    assert value(f"{hist}_bucket", phase="opening", le="+Inf") == 3
    assert value(f"{hist}_bucket", phase="finding_form", le="1.0") == 1
    assert value(f"{hist}_bucket", phase="finding_form", le="20.0") == 2
    assert value(f"{hist}_bucket", phase="finding_form", le="30.0") == 3
    assert value(f"{hist}_count", phase="verifying") == 1
    assert value(f"{hist}_count", phase="submitting") == 1


def test_it_exports_the_queue_as_down_when_unreachable(client, db, settings, monkeypatch):
    settings.METRICS_TOKEN = TOKEN
    monkeypatch.setattr(ops, "HUEY", unreachable_queue("redis"))
    found = samples(scrape(client))
    assert found[("dealercontact_queue_up", ())] == 0
    assert not any(name == "dealercontact_queue_pending_tasks" for name, _ in found)


def test_it_answers_503_for_metrics_when_the_database_is_unreachable(client, settings, database_down):
    settings.METRICS_TOKEN = TOKEN
    response = scrape(client)
    assert response.status_code == 503


def test_it_counts_live_streams_open_on_the_real_server(owner, search, asgi_server, settings, monkeypatch):
    """Scraped from the server that holds the stream: 1 while a browser listens, 0 once it leaves."""
    settings.METRICS_TOKEN = TOKEN
    monkeypatch.setattr(live, "POLL_INTERVAL_S", 0.05)
    browser = Client()
    browser.force_login(owner)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value

    def connected_gauge() -> float:
        scraper = http.client.HTTPConnection("127.0.0.1", asgi_server.port, timeout=10)
        scraper.request("GET", reverse("metrics"), headers={"Authorization": f"Bearer {TOKEN}"})
        answer = scraper.getresponse()
        assert answer.status == 200
        body = answer.read().decode()
        scraper.close()
        family = next(f for f in text_string_to_metric_families(body) if f.name == "dealercontact_live_streams_connected")
        return family.samples[0].value

    assert connected_gauge() == 0
    stream = http.client.HTTPConnection("127.0.0.1", asgi_server.port, timeout=10)
    stream.request("GET", reverse("search_events", args=[search.pk]),
                   headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"})
    response = stream.getresponse()
    assert response.status == 200
    lines = []
    while "event: summary\n" not in lines:
        lines.append(response.readline().decode())
    assert connected_gauge() == 1

    stream.close()
    deadline = time.monotonic() + 10
    while connected_gauge() != 0:
        assert time.monotonic() < deadline, "the stream was still counted after the browser left"
        time.sleep(0.05)
