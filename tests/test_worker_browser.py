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


# --- the queue's edges with a real browser --------------------------------------------------

FINAL = ("submitted", "unconfirmed", "captcha", "no_form", "failed", "cancelled")


def test_an_attempt_whose_enqueue_failed_runs_once_the_queue_is_back(owner, profile, huey_consumer, dealer_site,
                                                                      settings, monkeypatch):
    from tests.test_worker import queue_unreachable

    settings.REAPER_INTERVAL_S, settings.QUEUE_REENQUEUE_AFTER_S = 1, 1
    dealer = make_dealer("Valley Motors", 34.1, -118.4, dealer_site.url)
    with monkeypatch.context() as down:
        queue_unreachable(down)
        result = services.start_attempts(owner, profile, [dealer])
        assert [a.pk for a in result.waiting_for_queue] == [result.created[0].pk]
        time.sleep(2.5)  # reaper passes while the queue is still down: nothing lost, nothing run
        assert ContactAttempt.objects.get().status == "queued" and dealer_site.received == []

    attempt = final_attempt(result.created[0].pk)
    assert attempt.status == "submitted", attempt.error
    assert len(dealer_site.received) == 1
    time.sleep(2.5)  # more reaper passes: never enqueued again once claimed
    assert len(dealer_site.received) == 1


def test_cancel_racing_the_click_never_sends_after_a_cancel(owner, profile, huey_consumer):
    """Cancel pressed the moment a row shows "submitting", several times: each time either
    the cancel won (nothing arrived, the user was told "stopped before sending") or the
    click did (one submission arrived, the user was told "already sent")."""
    import threading

    answers = []
    for round_number in range(4):
        site = Site({"GET /": CONTACT_FORM, "POST /send": THANKS})
        try:
            dealer = make_dealer(f"Race Motors {round_number}", 34.1, -118.4, site.url)
            attempt = services.start_attempts(owner, profile, [dealer]).created[0]
            answer: list[str] = []

            def cancel_at_submit():
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline:
                    row = ContactAttempt.objects.filter(pk=attempt.pk).values("phase", "status").first()
                    if row["phase"] in ("submitting", "verifying") or row["status"] in FINAL:
                        answer.extend(services.cancel_attempts([ContactAttempt.objects.get(pk=attempt.pk)]).values())
                        return
                    time.sleep(0.002)

            watcher = threading.Thread(target=cancel_at_submit)
            watcher.start()
            watcher.join(100)
            done = final_attempt(attempt.pk)
            received = list(site.received)
        finally:
            site.close()
        answers.append(answer[0])
        if answer[0] == "stopping":
            assert done.status == "cancelled" and done.submit_pressed_at is None, (done.status, done.error)
            assert "Stopped before sending" in done.error
            assert received == []
        else:
            assert answer[0] in ("already_sent", "finished"), answer
            assert done.submit_pressed_at is not None and done.status in ("submitted", "unconfirmed")
            assert len(received) == 1
    print("cancel at the submit moment:", answers)


def worker_env(**overrides: str) -> dict[str, str]:
    import os

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dealercontact.test_settings",
        "DEALERCONTACT_TEST_RUN_PID": str(os.getpid()),
        "HUEY_WORKERS": "2",
        "REAPER_INTERVAL_S": "1",
        "QUEUE_REENQUEUE_AFTER_S": "3600",
        **overrides,
    }


def start_consumer(log_path, **env: str):
    import subprocess
    import sys

    from django.conf import settings

    log = open(log_path, "ab")
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_huey", "--workers", "2", "--worker-type", "thread"],
        cwd=settings.BASE_DIR, env=worker_env(**env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def test_attempts_lost_with_the_queue_storage_still_run_once(owner, profile, dealer_site, tmp_path, settings):
    """The queue's storage loses every task (Redis restarted empty) before any worker ran
    them; a consumer started afterwards finds the queued rows and runs each exactly once."""
    import signal

    from contacts.models import CustomerProfile

    dealer = make_dealer("Valley Motors", 34.1, -118.4, dealer_site.url)
    fields = {f: getattr(profile, f) for f in ("email", "phone", "zip_code", "vehicle_year", "vehicle_make",
                                                 "vehicle_model", "vehicle_trim", "preferred_contact")}
    customers = [profile] + CustomerProfile.objects.bulk_create(
        CustomerProfile(owner=owner, first_name=f"Lost{n}", last_name="Queue", **fields) for n in range(2)
    )
    # Three customers, one dealer: no per-dealer interval, so all three may run at once.
    settings.DEALER_MIN_INTERVAL_S = 0
    attempts = [services.start_attempts(owner, customer, [dealer]).created[0] for customer in customers]
    HUEY.flush()
    assert HUEY.pending_count() == 0

    consumer = start_consumer(tmp_path / "consumer.log", QUEUE_REENQUEUE_AFTER_S="1", DEALER_MIN_INTERVAL_S="0")
    try:
        for attempt in attempts:
            done = wait_for(lambda: ContactAttempt.objects.filter(pk=attempt.pk, status__in=FINAL).first(),
                            timeout=180)
            assert done.status == "submitted" and done.retries == 0, (done.status, done.error)
        time.sleep(3)  # more reaper passes: nothing is enqueued again once it ran
    finally:
        consumer.send_signal(signal.SIGINT)
        try:
            consumer.wait(30)
        except Exception:
            pass
        stop_process_group(consumer)
    senders = sorted(entry["data"]["first_name"] for entry in dealer_site.received)
    assert senders == sorted(customer.first_name for customer in customers)


def stop_process_group(process) -> None:
    import os
    import signal

    from django.db import connection

    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(30)
    if connection.vendor == "postgresql":
        # The server ends a killed client's session a moment later; the test database can
        # only be dropped once it has.
        def others() -> int:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND pid <> pg_backend_pid()")
                return cursor.fetchone()[0]

        deadline = time.monotonic() + 15
        while others() and time.monotonic() < deadline:
            time.sleep(0.1)


def test_kill_9_of_the_worker_with_hundreds_queued(owner, profile, tmp_path, settings):
    """A real consumer process holds two attempts (their pages never finish loading) with
    218 more queued behind them, and is killed with SIGKILL. The next consumer takes the two
    back at its start, not after the queue: re-queued once (nothing had been sent), then
    each sent exactly once; no browser is left behind."""
    import os
    import signal
    import threading

    import psutil

    from contacts.models import CustomerProfile

    gate = threading.Event()

    def front_page(_info):
        gate.wait(120)
        return Reply(CONTACT_FORM)

    site = Site({"GET /": front_page, "POST /send": THANKS})
    dealer = make_dealer("Valley Motors", 34.1, -118.4, site.url)
    fields = {f: getattr(profile, f) for f in ("email", "phone", "zip_code", "vehicle_year", "vehicle_make",
                                                 "vehicle_model", "vehicle_trim", "preferred_contact")}
    customers = CustomerProfile.objects.bulk_create(
        CustomerProfile(owner=owner, first_name=f"Buyer{n:03d}", last_name="Queue", **fields) for n in range(220)
    )
    # 220 customers of one user, one dealer: the sending limits would hold most back.
    settings.DEALER_MIN_INTERVAL_S = 0
    settings.ACTIVE_ATTEMPTS_PER_USER = settings.ATTEMPTS_PER_USER_PER_DAY = 1000
    for customer in customers:
        services.start_attempts(owner, customer, [dealer])
    assert HUEY.pending_count() == 220

    first = start_consumer(tmp_path / "consumer-1.log", DEALER_MIN_INTERVAL_S="0")
    second = None
    try:
        held = wait_for(lambda: list(ContactAttempt.objects.filter(status="running").values_list("pk", flat=True))
                        if ContactAttempt.objects.filter(status="running").count() == 2
                        and site.hits.count("GET /") >= 2 else None, timeout=120)
        browsers = [child.pid for child in psutil.Process(first.pid).children(recursive=True)]
        assert browsers, "the consumer had started no browser"

        os.kill(first.pid, signal.SIGKILL)
        first.wait(30)
        killed_at = time.monotonic()
        second = start_consumer(tmp_path / "consumer-2.log", DEALER_MIN_INTERVAL_S="0")

        # Taken back at the new consumer's start, ahead of the 218 tasks in the queue.
        wait_for(lambda: ContactAttempt.objects.filter(pk__in=held, status="queued", retries=1).count() == 2,
                 timeout=60)
        taken_back_s = time.monotonic() - killed_at
        assert HUEY.pending_count() >= 200
        # The killed consumer's driver and Chromium went with it.
        wait_for(lambda: not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                                 for pid in browsers), timeout=30)

        # Let the rest go: everything else is cancelled, the two re-queued ones run again.
        services.cancel_attempts(list(ContactAttempt.objects.active().exclude(pk__in=held)))
        gate.set()
        for pk in held:
            attempt = wait_for(lambda: ContactAttempt.objects.filter(pk=pk, status__in=FINAL).first(), timeout=180)
            assert attempt.status == "submitted" and attempt.retries == 1, (attempt.status, attempt.error)
        wait_for(lambda: not ContactAttempt.objects.active().exists(), timeout=120)
    finally:
        gate.set()
        stop_process_group(first)
        if second is not None:
            second.send_signal(signal.SIGINT)
            try:
                second.wait(30)
            except Exception:
                pass
            stop_process_group(second)
        site.close()

    print(f"two killed attempts taken back {taken_back_s:.1f} s after kill -9 (consumer start included)")
    # Nothing submitted twice, nothing sent for a cancelled attempt.
    senders = sorted(entry["data"]["first_name"] for entry in site.received)
    held_names = sorted(ContactAttempt.objects.filter(pk__in=held).values_list("customer__first_name", flat=True))
    sent = ContactAttempt.objects.filter(submit_pressed_at__isnull=False)
    assert len(senders) == len(set(senders)) == sent.count()
    assert set(held_names) <= set(senders)
    assert not ContactAttempt.objects.filter(status="cancelled", submit_pressed_at__isnull=False).exists()
