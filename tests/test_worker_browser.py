"""The whole task path with a real browser: Huey storage -> consumer -> engine -> rows and events."""

from __future__ import annotations

import time

import pytest
from huey.contrib.djhuey import HUEY

from contacts import services
from contacts.models import ContactAttempt, Event
from tests.conftest import make_dealer
from tests.engine.conftest import THANKS, Reply, Site, page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONTACT_FORM = page("""
<h1>Valley Motors</h1>
<form method="post" action="/send">
  <label for="fn">First Name *</label><input id="fn" name="first_name" required>
  <label for="ln">Last Name *</label><input id="ln" name="last_name" required>
  <label for="em">Email *</label><input id="em" name="email" type="email" required>
  <label for="ph">Phone</label><input id="ph" name="phone" type="tel">
  <label for="msg">Comments</label><textarea id="msg" name="comments"></textarea>
  <button type="submit">Send Message</button>
</form>""")


@pytest.fixture
def dealer_site():
    site = Site({"GET /": CONTACT_FORM, "POST /send": THANKS})
    yield site
    site.close()


@pytest.fixture
def slow_dealer_site():
    site = Site({"GET /": Reply(CONTACT_FORM, delay_s=4), "POST /send": THANKS})
    yield site
    site.close()


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def final_attempt(pk: int) -> ContactAttempt:
    return wait_for(lambda: ContactAttempt.objects.filter(pk=pk, status__in=["submitted", "unconfirmed", "captcha",
                                                                             "no_form", "failed", "cancelled"]).first())


def test_it_contacts_a_dealer_through_the_queue(owner, profile, huey_consumer, dealer_site):
    dealer = make_dealer("Valley Motors", 34.1, -118.4, dealer_site.url)

    result = services.start_attempts(owner, profile, [dealer])
    attempt = final_attempt(result.created[0].pk)

    assert attempt.status == "submitted", attempt.error
    # Exactly one submission arrived, with the customer's details in the right fields.
    assert len(dealer_site.received) == 1
    sent = dealer_site.received[0]["data"]
    assert sent["first_name"] == "Alice" and sent["last_name"] == "Buyer"
    assert sent["email"] == "alice.buyer@example.org"
    assert "".join(ch for ch in sent["phone"] if ch.isdigit()).endswith("3105550123")
    assert "RAV4" in sent["comments"] and "Valley Motors" in sent["comments"]
    # Evidence and timings were recorded.
    assert attempt.screenshot_form.name and attempt.screenshot_result.name
    assert attempt.screenshot_form.read(3) == b"\xff\xd8\xff"  # JPEG
    assert attempt.submit_pressed_at is not None
    assert {"opening", "finding_form", "filling", "submitting"} <= set(attempt.phase_timings)
    assert {f["kind"] for f in attempt.filled_fields} >= {"first_name", "last_name", "email", "message"}
    kinds = list(Event.objects.filter(attempt=attempt).values_list("kind", flat=True))
    assert kinds[0] == "queued" and kinds[1] == "started" and kinds[-1] == "finished"
    assert "phase" in kinds
    assert HUEY.pending_count() == 0


def test_a_task_delivered_twice_submits_once(owner, profile, huey_consumer, dealer_site):
    from contacts.tasks import enqueue_attempt

    dealer = make_dealer("Valley Motors", 34.1, -118.4, dealer_site.url)
    attempt = services.start_attempts(owner, profile, [dealer]).created[0]
    enqueue_attempt(attempt.pk)  # a duplicate delivery, as a queue may do after a restart

    final_attempt(attempt.pk)
    time.sleep(1.5)  # give the duplicate time to run, if it were going to
    assert len(dealer_site.received) == 1


def test_it_cancels_a_running_attempt_before_submitting(owner, profile, huey_consumer, slow_dealer_site):
    dealer = make_dealer("Slow Motors", 34.1, -118.4, slow_dealer_site.url)
    attempt = services.start_attempts(owner, profile, [dealer]).created[0]
    wait_for(lambda: ContactAttempt.objects.filter(pk=attempt.pk, status="running").exists())

    services.cancel_attempts([ContactAttempt.objects.get(pk=attempt.pk)])

    attempt = final_attempt(attempt.pk)
    assert attempt.status == "cancelled"
    assert attempt.submit_pressed_at is None
    assert slow_dealer_site.received == []
