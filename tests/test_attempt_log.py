"""One parseable log line per phase per attempt, and the site platform the worker records."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from contacts import services, worker
from contacts.engine.platform import platform_from_markers
from contacts.models import MAX_AUTOMATIC_RETRIES, ContactAttempt
from tests.conftest import make_dealer
from tests.engine.conftest import THANKS, Site
from tests.test_worker_browser import final_attempt

LOGGER = "contacts.attempt_log"

WORDPRESS_CONTACT_PAGE = """<!doctype html><html><head><meta charset=utf-8><title>Valley Motors</title>
<meta name="generator" content="WordPress 6.5.2">
<link rel="stylesheet" href="/wp-content/themes/valley/style.css">
</head><body>
<h1>Contact Valley Motors</h1>
<form method="post" action="/send">
  <label for="fn">First Name *</label><input id="fn" name="first_name" required>
  <label for="ln">Last Name *</label><input id="ln" name="last_name" required>
  <label for="em">Email *</label><input id="em" name="email" type="email" required>
  <label for="msg">Comments</label><textarea id="msg" name="comments"></textarea>
  <button type="submit">Send Message</button>
</form></body></html>"""


@pytest.fixture
def log_lines():
    """What the configured attempt-log handler prints, line by line (the real formatter)."""
    logger = logging.getLogger(LOGGER)
    configured = next(h for h in logger.handlers if h.formatter is not None)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configured.formatter)
    logger.addHandler(handler)
    yield lambda: stream.getvalue().splitlines()
    logger.removeHandler(handler)


def test_the_attempt_log_prints_bare_json_lines():
    logger = logging.getLogger(LOGGER)
    assert logger.propagate is False  # not again, with a timestamp prefix, through the root logger
    configured = next(h for h in logger.handlers if h.formatter is not None)
    record = logging.LogRecord(LOGGER, logging.INFO, __file__, 1, '{"a": 1}', None, None)
    assert configured.formatter.format(record) == '{"a": 1}'


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_real_attempt_logs_each_phase_once_and_records_its_platform(owner, profile, huey_consumer, log_lines):
    site = Site({"GET /": WORDPRESS_CONTACT_PAGE, "POST /send": THANKS})
    try:
        dealer = make_dealer("Valley Motors \"North\"", 34.1, -118.4, site.url)
        attempt = final_attempt(services.start_attempts(owner, profile, [dealer]).created[0].pk)
    finally:
        site.close()
    assert attempt.status == "submitted", attempt.error
    assert attempt.site_platform == "WordPress"

    lines = [json.loads(line) for line in log_lines()]  # every line parses on its own
    assert [line["phase"] for line in lines] == ["opening", "finding_form", "filling", "submitting", "verifying"]
    assert [line["outcome"] for line in lines] == ["done"] * 4 + ["submitted"]
    for line in lines:
        assert line["event"] == "attempt_phase"
        assert line["attempt_id"] == attempt.pk and line["dealer_id"] == dealer.pk
        assert line["dealer"] == 'Valley Motors "North"'
        assert isinstance(line["duration_s"], float) and 0 <= line["duration_s"] < 60
        assert timezone.datetime.fromisoformat(line["ts"])
    # The last phase's duration is the one the attempt recorded.
    assert lines[-1]["duration_s"] == pytest.approx(attempt.phase_timings["verifying"], abs=0.001)


def test_the_reaper_logs_the_phase_a_dead_worker_was_in(owner, profile, dealers, settings, log_lines):
    settings.CONTACT_TIMEOUT_S, settings.CONTACT_GRACE_S = 90, 30
    long_ago = timezone.now() - timedelta(seconds=200)
    attempt = ContactAttempt.objects.create(
        owner=owner, customer=profile, dealer=dealers[0], status="running", started=long_ago,
        phase="filling", phase_started=long_ago + timedelta(seconds=20),
        phase_timings={"opening": 8.0, "finding_form": 12.0},
        retries=MAX_AUTOMATIC_RETRIES,  # already run again once, so this time it ends failed
    )
    worker.reap_stale_attempts()
    (line,) = [json.loads(text) for text in log_lines()]
    attempt.refresh_from_db()
    assert line["attempt_id"] == attempt.pk and line["dealer"] == dealers[0].name
    assert line["phase"] == "filling" and line["outcome"] == "failed" == attempt.status
    assert line["duration_s"] == pytest.approx((attempt.finished - attempt.phase_started).total_seconds(), abs=0.01)


@pytest.mark.parametrize("generator, urls, body_class, platform", [
    ("WordPress 6.4", [], "", "WordPress"),
    ("", ["/wp-content/plugins/contact-form-7/includes/js/index.js"], "", "WordPress"),
    ("WordPress 6.4", ["https://www.example-motors.com/wp-content/themes/dealerinspire/style.css"], "",
     "Dealer Inspire"),
    ("", ["https://static.dealer.com/v9/media/js/ddc.js", "/wp-content/x.css"], "", "Dealer.com"),
    ("", ["https://cdn.dealeron.com/assets/site.js"], "", "DealerOn"),
    ("Drupal 10 (https://www.drupal.org)", [], "", "Drupal"),
    ("Wix.com Website Builder", [], "", "Wix"),
    ("", ["/_next/static/chunks/main.js"], "", "Next.js"),
    ("", ["/assets/site.css", "https://maps.example.org/embed.js"], "home page", ""),
    ("", [], "", ""),
])
def test_platform_from_markers(generator, urls, body_class, platform):
    assert platform_from_markers(generator, urls, body_class) == platform
