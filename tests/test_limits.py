"""Sending limits: per user (at once, per 24 hours), per dealer across all users (minimum
interval, waiting in the queue), per customer and dealer (re-contact cooldown), message
length; inside one user, across users and across concurrent web processes."""

from __future__ import annotations

import threading
from datetime import timedelta
from datetime import timezone as dt_timezone

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from contacts import limits, services, worker
from contacts.models import AttemptStatus, ContactAttempt, CustomerProfile, Dealer


def make_dealer(name: str, lat: float, lng: float, website: str, website_key: str | None = None) -> Dealer:
    from contacts.websites import website_key as key_of

    return Dealer.objects.create(name=name, website=website, website_key=website_key or key_of(website),
                                 latitude=lat, longitude=lng)


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def customer_for(user: User, email: str | None = None) -> CustomerProfile:
    return CustomerProfile.objects.create(
        owner=user, first_name=user.username.title(), last_name="Buyer",
        email=email or f"{user.username}.buyer@example.org", phone="+13105550123", zip_code="90210",
        vehicle_year=2024, vehicle_make="Toyota", vehicle_model="RAV4",
    )


def many_dealers(count: int) -> list[Dealer]:
    return [
        make_dealer(f"Dealer {n}", 34.07, -118.39, f"https://dealer{n}-motors.com/")
        for n in range(count)
    ]


def start(owner, customer, dealers, callbacks, **kw) -> services.StartResult:
    with callbacks(execute=True):
        return services.start_attempts(owner, customer, dealers, **kw)


@pytest.fixture(autouse=True)
def _empty_queue(empty_queue):
    yield


# --- per user -----------------------------------------------------------------------------------


def test_it_refuses_a_whole_batch_over_the_at_once_limit(owner, teammate, profile, settings,
                                                        django_capture_on_commit_callbacks):
    settings.ACTIVE_ATTEMPTS_PER_USER = 3
    settings.DEALER_MIN_INTERVAL_S = 0
    dealers = many_dealers(5)
    result = start(owner, profile, dealers[:4], django_capture_on_commit_callbacks)
    # Nothing half-queued: the batch of four does not fit, so none of it is queued.
    assert result.created == [] and ContactAttempt.objects.count() == 0 and HUEY.pending_count() == 0
    assert result.limit.name == "attempts queued or running at once" and result.limit.value == 3
    assert "limit of 3 attempts queued or running at once" in result.limit.message
    assert "room for 3" in result.limit.message and "frees up as your queued and running" in result.limit.message

    assert len(start(owner, profile, dealers[:3], django_capture_on_commit_callbacks).created) == 3
    result = start(owner, profile, dealers[3:4], django_capture_on_commit_callbacks)
    assert result.created == [] and "no room" in result.limit.message
    # Another user has their own allowance.
    assert len(start(teammate, customer_for(teammate), dealers[3:5], django_capture_on_commit_callbacks).created) == 2
    # A finished attempt makes room again.
    ContactAttempt.objects.filter(owner=owner).first().finish(AttemptStatus.FAILED, error="site down")
    assert len(start(owner, profile, dealers[3:4], django_capture_on_commit_callbacks).created) == 1
    assert HUEY.pending_count() == 6


def test_it_counts_attempts_per_24_hours_and_says_when_room_frees_up(owner, teammate, profile, settings,
                                                                     django_capture_on_commit_callbacks):
    settings.ATTEMPTS_PER_USER_PER_DAY = 3
    settings.DEALER_MIN_INTERVAL_S = 0
    dealers = many_dealers(6)
    now = timezone.now()
    oldest = now - timedelta(hours=20)
    for dealer, created, status, started in [
        (dealers[0], now - timedelta(hours=30), AttemptStatus.SUBMITTED, now),  # over a day ago: free again
        (dealers[1], oldest, AttemptStatus.SUBMITTED, now),
        (dealers[2], now - timedelta(hours=2), AttemptStatus.FAILED, now),
        (dealers[3], now - timedelta(hours=1), AttemptStatus.CANCELLED, None),  # never started: sent nothing
    ]:
        ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealer, status=status, created=created,
                                      started=started)
    assert len(start(owner, profile, dealers[4:5], django_capture_on_commit_callbacks).created) == 1
    result = start(owner, profile, dealers[5:6], django_capture_on_commit_callbacks)
    assert result.created == []
    assert result.limit.name == "attempts per 24 hours" and result.limit.value == 3 and result.limit.used == 3
    assert f"frees up at {limits.when(oldest + timedelta(hours=24))}" in result.limit.message
    # The teammate's day is their own.
    assert len(start(teammate, customer_for(teammate), dealers[5:6], django_capture_on_commit_callbacks).created) == 1


def test_it_tells_the_user_which_limit_stopped_the_batch(owner_client, owner, search, dealers, settings):
    settings.ACTIVE_ATTEMPTS_PER_USER = 2
    response = owner_client.post(
        reverse("search_contact", args=[search.pk]),
        {"customer": search.customer_id, "dealer": [d.pk for d in dealers]}, follow=True,
    )
    text = response.content.decode()
    assert "Nothing was queued: the limit of 2 attempts queued or running at once is reached" in text
    assert "It frees up as your queued and running attempts finish" in text
    assert ContactAttempt.objects.count() == 0


def test_it_refuses_a_message_over_the_length_cap_from_any_entry_point(owner, profile, dealers, settings,
                                                                       django_capture_on_commit_callbacks):
    settings.MESSAGE_MAX_CHARS = 500
    profile.message_template = "x" * 501  # saved around the form, as a script or old row might
    profile.save()
    result = start(owner, profile, dealers, django_capture_on_commit_callbacks)
    assert result.created == [] and "501 characters; the limit is 500" in result.refused
    assert ContactAttempt.objects.count() == 0 and HUEY.pending_count() == 0


def test_it_caps_the_message_template_in_the_profile_form(owner_client, profile, settings):
    settings.MESSAGE_MAX_CHARS = 300
    form = owner_client.get(reverse("profile_edit", args=[profile.pk])).content.decode()
    assert 'maxlength="300"' in form
    data = {
        "first_name": "Alice", "last_name": "Buyer", "email": "alice.buyer@example.org", "phone": "310 555 0123",
        "zip_code": "90210", "preferred_contact": "email", "vehicle_year": "2024", "vehicle_make": "Toyota",
        "vehicle_model": "RAV4", "vehicle_trim": "", "message_template": "Hello {dealer_name}. " + "a" * 1_000_000,
    }
    response = owner_client.post(reverse("profile_edit", args=[profile.pk]), data)
    assert response.status_code == 200
    assert "Message template: use at most 300 characters (this has 1000021)." in response.content.decode()
    profile.refresh_from_db()
    assert len(profile.message_template) < 300


# --- per dealer, across all users ---------------------------------------------------------------


def test_it_spaces_submissions_to_one_dealer_across_users(owner, teammate, outsider, profile, settings,
                                                          django_capture_on_commit_callbacks):
    settings.DEALER_MIN_INTERVAL_S = 600
    dealer = make_dealer("Bob's Ford", 34.07, -118.39, "https://www.bobsford.com/", website_key="bobsford.com")
    first = start(owner, profile, [dealer], django_capture_on_commit_callbacks).created[0]
    second = start(teammate, customer_for(teammate), [dealer], django_capture_on_commit_callbacks).created[0]
    third = start(outsider, customer_for(outsider), [dealer], django_capture_on_commit_callbacks).created[0]
    assert first.not_before is None
    # Nothing fails: each later attempt waits in the queue for its turn.
    assert second.not_before == first.created + timedelta(seconds=600)
    assert third.not_before == first.created + timedelta(seconds=1200)
    assert {a.status for a in ContactAttempt.objects.all()} == {"queued"}
    # Huey's consumer moves a task with an eta to its schedule when it reads it.
    tasks = HUEY.pending()
    assert len(tasks) == 3 and sum(1 for task in tasks if task.eta is None) == 1
    etas = sorted(task.eta for task in tasks if task.eta)
    assert [eta.replace(microsecond=0) for eta in etas] == [
        a.not_before.astimezone(dt_timezone.utc).replace(tzinfo=None, microsecond=0) for a in (second, third)
    ]
    # An attempt that ended without submitting holds no slot.
    first.finish(AttemptStatus.NO_FORM)
    second.finish(AttemptStatus.CANCELLED)
    fourth = start(owner, customer_for(owner, "other@example.org"), [dealer], django_capture_on_commit_callbacks)
    assert fourth.created[0].not_before == third.not_before + timedelta(seconds=600)


def test_it_counts_a_submission_that_just_happened(owner, teammate, profile, settings,
                                                   django_capture_on_commit_callbacks):
    settings.DEALER_MIN_INTERVAL_S = 300
    dealer = make_dealer("Bob's Ford", 34.07, -118.39, "https://bobsford.com/", website_key="bobsford.com")
    pressed = timezone.now() - timedelta(seconds=100)
    ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealer, status=AttemptStatus.SUBMITTED,
                                  submit_pressed_at=pressed, finished=pressed)
    waiting = start(teammate, customer_for(teammate), [dealer], django_capture_on_commit_callbacks).created[0]
    assert waiting.not_before == pressed + timedelta(seconds=300)


def test_it_shows_a_waiting_row_with_its_time(client, owner, teammate, profile, search, settings,
                                              django_capture_on_commit_callbacks):
    settings.DEALER_MIN_INTERVAL_S = 600
    dealer = make_dealer("Bob's Ford", 34.07, -118.39, "https://bobsford.com/", website_key="bobsford.com")
    start(teammate, customer_for(teammate), [dealer], django_capture_on_commit_callbacks)
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("search_contact", args=[search.pk]),
                               {"customer": profile.pk, "dealer": [dealer.pk]}, follow=True)
    attempt = ContactAttempt.objects.get(owner=owner)
    text = response.content.decode()
    expected = f"Waiting until {limits.when(attempt.not_before)} (dealer cooldown)"
    assert expected in text  # in the row
    assert "at most one submission per dealer every 10 minutes, counting every user" in text
    detail = client.get(reverse("attempt_detail", args=[attempt.pk])).content.decode()
    assert "(dealer cooldown)" in detail


def test_the_worker_puts_back_an_attempt_delivered_before_its_turn(owner, profile, dealers, settings,
                                                                   django_capture_on_commit_callbacks):
    later = timezone.now() + timedelta(minutes=5)
    attempt = ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealers[0], not_before=later)
    with django_capture_on_commit_callbacks(execute=True):
        assert worker.execute_attempt(attempt.pk) is None
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.QUEUED and attempt.started is None
    [task] = HUEY.pending()
    assert task.args == (attempt.pk,) and task.eta == later.astimezone(dt_timezone.utc).replace(tzinfo=None)


# --- per customer and dealer --------------------------------------------------------------------


def test_it_holds_contact_again_to_the_recontact_cooldown(owner, profile, dealers, settings,
                                                          django_capture_on_commit_callbacks):
    settings.RECONTACT_COOLDOWN_H = 72
    now = timezone.now()
    sent = ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealers[0],
                                         status=AttemptStatus.SUBMITTED, submit_pressed_at=now - timedelta(hours=1),
                                         finished=now - timedelta(hours=1))
    # Nothing was sent to the second dealer (no form): no cooldown, only the usual question.
    ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealers[1], status=AttemptStatus.NO_FORM,
                                  finished=now)
    result = start(owner, profile, dealers[:2], django_capture_on_commit_callbacks, contact_again=True)
    assert [(d, when) for d, when in result.cooling_down] == [(dealers[0], sent.submit_pressed_at + timedelta(hours=72))]
    assert [a.dealer for a in result.created] == [dealers[1]]
    # Another customer of the same user is not held back.
    other = customer_for(owner, "someone.else@example.org")
    assert len(start(owner, other, dealers[:1], django_capture_on_commit_callbacks).created) == 1
    # Once the cooldown has passed, contact again works.
    ContactAttempt.objects.filter(pk=sent.pk).update(submit_pressed_at=now - timedelta(hours=73))
    assert len(start(owner, profile, dealers[:1], django_capture_on_commit_callbacks, contact_again=True).created) == 1


def test_it_says_when_contact_again_is_allowed(owner_client, owner, search, dealers, settings):
    now = timezone.now()
    ContactAttempt.objects.create(owner=owner, customer=search.customer, dealer=dealers[0], search=search,
                                  status=AttemptStatus.SUBMITTED, finished=now, submit_pressed_at=now)
    response = owner_client.post(
        reverse("search_contact", args=[search.pk]),
        {"customer": search.customer_id, "only": dealers[0].pk, "contact_again": "1"}, HTTP_HX_REQUEST="true",
    )
    text = response.content.decode()
    free = limits.when(now + timedelta(hours=settings.RECONTACT_COOLDOWN_H))
    assert (f"Not contacted again: Beverly Hills Toyota was contacted for Alice Buyer within the last "
            f"{settings.RECONTACT_COOLDOWN_H} hours (re-contact cooldown); it can be contacted again after {free}.") in text
    assert ContactAttempt.objects.count() == 1


def test_staff_can_override_the_cooldown_in_the_admin(client, owner, profile, dealers, settings):
    staff = User.objects.create_user("stella", "stella@example.org", "password", is_staff=True, is_superuser=True)
    sent = ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealers[0],
                                         status=AttemptStatus.SUBMITTED, finished=timezone.now())
    client.force_login(staff)
    url = reverse("admin:contacts_contactattempt_changelist")
    response = client.post(url, {"action": "retry", "_selected_action": [sent.pk]}, follow=True)
    assert "re-contact cooldown" in response.content.decode()
    assert ContactAttempt.objects.count() == 1
    response = client.post(url, {"action": "retry_now", "_selected_action": [sent.pk]}, follow=True)
    assert "Queued 1 attempt." in response.content.decode()
    assert ContactAttempt.objects.filter(status=AttemptStatus.QUEUED, dealer=dealers[0]).count() == 1


# --- concurrent web processes sharing the database ----------------------------------------------


def run_together(calls) -> list:
    """Run each call on its own thread and database connection, released at the same moment."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = []

    def run(index, call):
        try:
            barrier.wait(10)
            results[index] = call()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_two_processes_cannot_both_take_the_last_room(owner, settings):
    settings.ACTIVE_ATTEMPTS_PER_USER = 4
    settings.DEALER_MIN_INTERVAL_S = 0
    profile = customer_for(owner)
    dealers = many_dealers(8)
    batches = [dealers[:3], dealers[3:6], dealers[6:8]]
    results = run_together([lambda b=b: services.start_attempts(owner, profile, b) for b in batches])
    queued = ContactAttempt.objects.filter(owner=owner).count()
    assert queued <= 4
    # Each batch went in whole or not at all.
    for batch, result in zip(batches, results):
        assert len(result.created) in (0, len(batch))
        assert (result.limit is None) == bool(result.created)
    assert queued == sum(len(r.created) for r in results) > 0


@pytest.mark.django_db(transaction=True)
def test_two_processes_never_give_two_users_the_same_dealer_slot(settings):
    settings.DEALER_MIN_INTERVAL_S = 600
    dealer = make_dealer("Bob's Ford", 34.07, -118.39, "https://bobsford.com/", website_key="bobsford.com")
    users = [User.objects.create_user(f"user{n}", f"user{n}@example.org", "password") for n in range(4)]
    customers = [customer_for(user) for user in users]
    run_together([lambda u=u, c=c: services.start_attempts(u, c, [dealer]) for u, c in zip(users, customers)])
    attempts = list(ContactAttempt.objects.filter(dealer=dealer))
    assert len(attempts) == 4
    slots = sorted(a.not_before or a.created for a in attempts)
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(slots, slots[1:])]
    assert all(gap >= 600 for gap in gaps), gaps
    assert sum(1 for a in attempts if a.not_before is None) == 1


# Two real web processes: each sets Django up on the same database, says "ready", waits for
# "go" on stdin, then queues its batch.
START_IN_PROCESS = """
import json, sys
import django
django.setup()
from django.contrib.auth.models import User
from contacts import services
from contacts.models import CustomerProfile, Dealer
owner_id, customer_id, *dealer_ids = map(int, sys.argv[1:])
owner = User.objects.get(pk=owner_id)
customer = CustomerProfile.objects.get(pk=customer_id)
dealers = list(Dealer.objects.filter(pk__in=dealer_ids).order_by("pk"))
print("ready", flush=True)
sys.stdin.readline()
result = services.start_attempts(owner, customer, dealers)
print(json.dumps({"created": len(result.created), "limited": result.limit is not None}), flush=True)
"""


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_two_web_processes_share_one_allowance(owner, tmp_path):
    import json
    import os
    import subprocess
    import sys

    from django.conf import settings as django_settings

    profile = customer_for(owner)
    dealers = many_dealers(6)
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    env.update(DJANGO_SETTINGS_MODULE="dealercontact.settings", DATABASE_URL=database_url(),
               VAR_DIR=str(tmp_path), ACTIVE_ATTEMPTS_PER_USER="4", DEALER_MIN_INTERVAL_S="0",
               SECRET_KEY="test-only", ALLOWED_HOSTS="localhost")
    batches = [dealers[:3], dealers[3:6]]
    processes = [
        subprocess.Popen([sys.executable, "-c", START_IN_PROCESS, str(owner.pk), str(profile.pk),
                          *map(str, (d.pk for d in batch))], cwd=django_settings.BASE_DIR, env=env, text=True,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for batch in batches
    ]
    try:
        for process in processes:
            assert process.stdout.readline().strip() == "ready", process.stderr.read()
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        lines = [process.stdout.readline() for process in processes]
        assert all(lines), [process.stderr.read()[-800:] for process in processes]
        answers = [json.loads(line) for line in lines]
    finally:
        for process in processes:
            process.wait(60)
    # Three and three do not fit in four: exactly one process queued its batch, whole.
    assert sorted(answer["created"] for answer in answers) == [0, 3], answers
    assert sorted(answer["limited"] for answer in answers) == [False, True]
    assert ContactAttempt.objects.filter(owner=owner).count() == 3


def test_a_row_in_the_cooldown_says_when_it_can_be_contacted_again(owner_client, owner, search, dealers, settings):
    sent_at = timezone.now() - timedelta(hours=1)
    ContactAttempt.objects.create(owner=owner, customer=search.customer, dealer=dealers[0], search=search,
                                  status=AttemptStatus.SUBMITTED, submit_pressed_at=sent_at, finished=sent_at)
    ContactAttempt.objects.create(owner=owner, customer=search.customer, dealer=dealers[1], search=search,
                                  status=AttemptStatus.SUBMITTED, created=sent_at - timedelta(days=5),
                                  finished=sent_at - timedelta(days=5))
    page = owner_client.get(reverse("search_detail", args=[search.pk])).content.decode()

    def row(dealer):
        text = page[page.index(f'id="dealer-{dealer.pk}"'):]
        return text[:text.index("</tr>")]

    free = limits.when(sent_at + timedelta(hours=settings.RECONTACT_COOLDOWN_H))
    assert f"Can contact again after {free}" in row(dealers[0]) and 'name="only"' not in row(dealers[0])
    assert "Can contact again" not in row(dealers[1]) and ">Contact again</button>" in row(dealers[1])


def test_the_worker_waits_when_a_late_queue_would_break_the_interval(owner, teammate, profile, settings,
                                                                     django_capture_on_commit_callbacks):
    settings.DEALER_MIN_INTERVAL_S = 300
    dealer = make_dealer("Bob's Ford", 34.07, -118.39, "https://bobsford.com/", website_key="bobsford.com")
    long_ago = timezone.now() - timedelta(minutes=30)
    # Queued long ago with its slot long past, but the queue was slow: another attempt to
    # the same dealer started a minute ago.
    late = ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealer, created=long_ago,
                                         not_before=long_ago + timedelta(minutes=5))
    started = timezone.now() - timedelta(minutes=1)
    ContactAttempt.objects.create(owner=teammate, customer=customer_for(teammate), dealer=dealer,
                                  status=AttemptStatus.RUNNING, created=long_ago, started=started)
    with django_capture_on_commit_callbacks(execute=True):
        assert worker.execute_attempt(late.pk) is None
    late.refresh_from_db()
    assert late.status == AttemptStatus.QUEUED and late.not_before == started + timedelta(seconds=300)
    assert late.events.filter(kind="queued").exists()  # the live row says it waits
    [task] = HUEY.pending()
    assert task.eta == late.not_before.astimezone(dt_timezone.utc).replace(tzinfo=None)


def test_a_worker_let_through_marks_the_dealer_for_the_next(owner, teammate, profile, settings):
    from contacts.services import hold_back

    settings.DEALER_MIN_INTERVAL_S = 300
    dealer = make_dealer("Bob's Ford", 34.07, -118.39, "https://bobsford.com/", website_key="bobsford.com")
    first = ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealer)
    second = ContactAttempt.objects.create(owner=teammate, customer=customer_for(teammate), dealer=dealer)
    # Two workers pick both up at once: the first through holds the dealer; the other waits.
    assert hold_back(first.pk) is False
    assert hold_back(second.pk) is True
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.not_before == first.not_before + timedelta(seconds=300)
