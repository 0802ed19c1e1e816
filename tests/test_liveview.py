"""The live view's pages and channel, without a browser: who may open and drive it, what
input it accepts, and both channel backends (tests/test_liveview_browser.py runs it whole)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from contacts.live_models import LiveInput, LiveState, LiveView
from contacts.liveview import DatabaseChannel, RedisChannel, channel, open_live_view
from contacts.models import AttemptStatus, ContactAttempt


@pytest.fixture
def attempt(owner, profile, dealers) -> ContactAttempt:
    return ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealers[0], status=AttemptStatus.CAPTCHA,
                                         error="The contact form is protected by a CAPTCHA (reCAPTCHA); nothing was sent.")


@pytest.fixture
def live(attempt, owner) -> LiveView:
    live = LiveView.objects.create(attempt=attempt, opened_by=owner, state=LiveState.LIVE)
    channel().discard(live.pk)  # Redis outlives a test's database: nothing left from an earlier run
    yield live
    channel().discard(live.pk)


def url(name: str, attempt: ContactAttempt) -> str:
    return reverse(name, args=[attempt.pk])


def post_input(client, attempt, event) -> object:
    return client.post(url("live_view_input", attempt), json.dumps(event), content_type="application/json")


def test_it_offers_the_live_view_on_a_captcha_attempt(client, owner, attempt):
    client.force_login(owner)
    assert url("live_view", attempt) in client.get(attempt.get_absolute_url()).content.decode()
    page = client.get(url("live_view", attempt)).content.decode()
    assert "Open live view" in page and "<script>" not in page


def test_it_opens_one_live_view_and_queues_it(client, owner, attempt, empty_queue, django_capture_on_commit_callbacks):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("live_view_open", attempt))
        client.post(url("live_view_open", attempt))  # a double click: still one
    assert response.status_code == 302 and response["Location"] == url("live_view", attempt)
    live = LiveView.objects.get(attempt=attempt)
    assert live.state == LiveState.REQUESTED and live.opened_by == owner
    assert empty_queue.pending_count() == 1
    page = client.get(url("live_view", attempt)).content.decode()
    assert 'id="live-frame"' in page and url("live_view_stream", attempt) in page


def test_it_refuses_a_live_view_for_an_attempt_without_captcha_or_already_sent(client, owner, attempt):
    client.force_login(owner)
    ContactAttempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.FAILED)
    client.post(url("live_view_open", attempt))
    ContactAttempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.CAPTCHA, submit_pressed_at="2026-01-01T00:00Z")
    response = client.post(url("live_view_open", attempt), follow=True)
    assert "never sent twice" in response.content.decode()
    assert not LiveView.objects.exists()


def test_it_404s_every_live_view_page_to_another_user(client, teammate, outsider, attempt, live):
    for user in (teammate, outsider):
        client.force_login(user)
        assert client.get(url("live_view", attempt)).status_code == 404
        assert client.post(url("live_view_open", attempt)).status_code == 404
        assert post_input(client, attempt, {"type": "click", "x": 5, "y": 5}).status_code == 404
    assert not LiveInput.objects.exists()
    assert LiveView.objects.count() == 1


def test_it_redirects_anonymous_visitors_to_log_in(client, attempt, live):
    assert client.get(url("live_view", attempt)).status_code == 302
    assert post_input(client, attempt, {"type": "click", "x": 5, "y": 5}).status_code == 302
    assert not LiveInput.objects.exists()


def test_it_lets_staff_who_follow_up_in_the_admin_use_the_live_view(client, attempt, live):
    staff = User.objects.create_user("sam", "sam@example.org", "password", is_staff=True)
    client.force_login(staff)
    # Staff without the right to change attempts are like anyone else.
    assert client.get(url("live_view", attempt)).status_code == 404
    staff.user_permissions.add(Permission.objects.get(codename="change_contactattempt"))
    client.force_login(User.objects.get(pk=staff.pk))
    assert client.get(url("live_view", attempt)).status_code == 200
    assert post_input(client, attempt, {"type": "click", "x": 5, "y": 5}).status_code == 204
    channel().discard(live.pk)
    admin_page = client.get(reverse("admin:contacts_contactattempt_change", args=[attempt.pk])).content.decode()
    assert url("live_view", attempt) in admin_page


def test_it_queues_input_in_page_coordinates(client, owner, attempt, live):
    client.force_login(owner)
    assert post_input(client, attempt, {"type": "click", "x": 99999, "y": -5}).status_code == 204
    assert post_input(client, attempt, {"type": "text", "text": "abc\x00"}).status_code == 204
    assert post_input(client, attempt, {"type": "key", "key": "Enter"}).status_code == 204
    pipe = channel()  # the deployment's: the database, or Redis in the scale-out pass
    assert pipe.take_inputs(live.pk) == [
        {"type": "click", "x": 1365, "y": 0}, {"type": "text", "text": "abc"}, {"type": "key", "key": "Enter"},
    ]
    assert pipe.take_inputs(live.pk) == []  # taken once
    assert not LiveInput.objects.exists()
    assert pipe.viewer_last_seen(live.pk) is not None
    pipe.discard(live.pk)


def test_it_refuses_input_it_cannot_dispatch(client, owner, attempt, live):
    client.force_login(owner)
    for bad in ({"type": "key", "key": "F12"}, {"type": "navigate", "url": "file:///etc/passwd"}, "click", []):
        assert post_input(client, attempt, bad).status_code == 400
    response = client.post(url("live_view_input", attempt), b"not json", content_type="application/json")
    assert response.status_code == 400
    assert client.get(url("live_view_input", attempt)).status_code == 405
    live.close("done")
    assert post_input(client, attempt, {"type": "click", "x": 5, "y": 5}).status_code == 409
    assert not LiveInput.objects.exists()


def test_it_enforces_csrf_on_input(owner, attempt, live):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert post_input(client, attempt, {"type": "click", "x": 5, "y": 5}).status_code == 403
    assert not LiveInput.objects.exists()


def test_it_keeps_one_open_live_view_per_attempt(attempt, owner):
    first, _ = open_live_view(attempt, owner)
    second, _ = open_live_view(attempt, owner)
    assert first.pk == second.pk
    first.close("done")
    third, _ = open_live_view(attempt, owner)
    assert third.pk != first.pk


def channels():
    from django.conf import settings

    yield DatabaseChannel()
    if settings.REDIS_URL:  # the scale-out pass
        yield RedisChannel(settings.REDIS_URL)


@pytest.mark.django_db
def test_both_channels_keep_the_latest_frame_and_queue_input_in_order(live):
    for pipe in channels():
        pipe.discard(live.pk)
        assert pipe.latest_frame(live.pk, 0) is None
        pipe.publish_frame(live.pk, b"\xff\xd8one")
        pipe.publish_frame(live.pk, b"\xff\xd8two")
        seq, jpeg = pipe.latest_frame(live.pk, 0)
        assert jpeg == b"\xff\xd8two" and seq >= 2
        assert pipe.latest_frame(live.pk, seq) is None  # nothing newer
        pipe.send_input(live.pk, {"type": "key", "key": "Tab"})
        pipe.send_input(live.pk, {"type": "text", "text": "x"})
        assert pipe.take_inputs(live.pk) == [{"type": "key", "key": "Tab"}, {"type": "text", "text": "x"}]
        assert pipe.take_inputs(live.pk) == []
        assert pipe.viewer_last_seen(live.pk) is None or isinstance(pipe.viewer_last_seen(live.pk), float)
        pipe.viewer_seen(live.pk)
        assert pipe.viewer_last_seen(live.pk) is not None
        pipe.discard(live.pk)
        assert pipe.latest_frame(live.pk, 0) is None


def test_it_starts_a_new_attempt_to_solve_myself(client, owner, teammate, attempt, empty_queue,
                                                 django_capture_on_commit_callbacks):
    ContactAttempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.FAILED)
    client.force_login(teammate)
    assert client.post(reverse("live_view_solve_myself", args=[attempt.pk])).status_code == 404
    assert ContactAttempt.objects.count() == 1
    client.force_login(owner)
    assert "Solve it myself" in client.get(attempt.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("live_view_solve_myself", args=[attempt.pk]))
    new = ContactAttempt.objects.exclude(pk=attempt.pk).get()
    assert response["Location"] == url("live_view", new)
    assert new.status == AttemptStatus.QUEUED and new.dealer_id == attempt.dealer_id
    live = LiveView.objects.get(attempt=new)
    assert live.state == LiveState.WAITING
    assert empty_queue.pending_count() == 1  # the attempt; the live view waits for its outcome
    # The attempt meets a CAPTCHA: the view is queued for a worker, once.
    new.finish(AttemptStatus.CAPTCHA, error="CAPTCHA")
    assert "Waiting" not in client.get(url("live_view", new)).content.decode()
    client.get(url("live_view", new))
    assert LiveView.objects.get(pk=live.pk).state == LiveState.REQUESTED
    assert empty_queue.pending_count() == 2


def test_a_waiting_live_view_closes_when_no_captcha_stops_the_attempt(owner, attempt):
    from contacts.liveview import settle_waiting, solve_myself

    ContactAttempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.QUEUED)
    live = solve_myself(ContactAttempt.objects.get(pk=attempt.pk), owner)
    assert settle_waiting(live).state == LiveState.WAITING  # still running
    ContactAttempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.SUBMITTED)
    live = settle_waiting(live)
    assert live.state == LiveState.CLOSED and live.outcome == "submitted"
    assert "No CAPTCHA stopped" in live.closed_reason


def test_it_links_the_live_view_from_a_captcha_row_of_the_results(client, owner, search, attempt):
    ContactAttempt.objects.filter(pk=attempt.pk).update(search=search)
    client.force_login(owner)
    page = client.get(search.get_absolute_url()).content.decode()
    assert url("live_view", attempt) in page and "Solve the CAPTCHA yourself" in page


def test_it_closes_a_live_view_whose_worker_went_away(owner, attempt, live, settings):
    from datetime import timedelta

    from django.utils import timezone

    from contacts.liveview import reap_stale_live_views

    LiveView.objects.filter(pk=live.pk).update(started=timezone.now() - timedelta(seconds=30))
    assert reap_stale_live_views() == []  # within its limits: still held
    LiveView.objects.filter(pk=live.pk).update(
        started=timezone.now() - timedelta(seconds=settings.LIVE_VIEW_LIMIT_S + settings.CONTACT_TIMEOUT_S + 600))
    ContactAttempt.objects.filter(pk=attempt.pk).update(submit_pressed_at=timezone.now())
    assert [v.pk for v in reap_stale_live_views()] == [live.pk]
    live.refresh_from_db()
    assert live.state == LiveState.CLOSED and "stopped responding" in live.closed_reason
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.UNCONFIRMED  # may have been sent: never sent again
    assert reap_stale_live_views() == []


def test_a_stuck_live_view_does_not_block_the_next(client, owner, attempt, settings):
    from datetime import timedelta

    from django.utils import timezone

    stuck = LiveView.objects.create(attempt=attempt, opened_by=owner, state=LiveState.LIVE,
                                    started=timezone.now() - timedelta(days=1))
    client.force_login(owner)
    client.post(url("live_view_open", attempt))
    assert LiveView.objects.get(pk=stuck.pk).state == LiveState.CLOSED
    assert LiveView.objects.filter(attempt=attempt, state=LiveState.REQUESTED).count() == 1
