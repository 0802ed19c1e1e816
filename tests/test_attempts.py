"""Cancelling attempts, the attempt page and its screenshots."""

from __future__ import annotations

import io
import os

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from contacts.models import AttemptStatus, ContactAttempt, Event, Search


pytestmark = pytest.mark.usefixtures("empty_queue")


@pytest.fixture
def owner_client(client, owner) -> Client:
    client.force_login(owner)
    return client


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def attempt_for(search, dealer, status=AttemptStatus.QUEUED, **fields) -> ContactAttempt:
    return ContactAttempt.objects.create(
        owner=search.owner, customer=search.customer, dealer=dealer, search=search, status=status, **fields
    )


@pytest.fixture
def queued(search, dealers) -> ContactAttempt:
    return attempt_for(search, dealers[0])


@pytest.fixture
def running(search, dealers) -> ContactAttempt:
    return attempt_for(search, dealers[1], AttemptStatus.RUNNING, phase="filling", started=timezone.now())


def png_bytes(color: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def finished(search, dealers) -> ContactAttempt:
    attempt = attempt_for(
        search,
        dealers[2],
        AttemptStatus.SUBMITTED,
        started=timezone.now(),
        finished=timezone.now(),
        phase_timings={"opening": 1.2, "finding_form": 0.8, "filling": 2.5, "submitting": 0.4, "verifying": 1.1},
        filled_fields=[
            {"kind": "first_name", "label": "First Name", "value": "Alice"},
            {"kind": "email", "label": "Your email", "value": "alice.buyer@example.org"},
        ],
        message="Hello Pasadena Honda, I'm interested in the 2024 Toyota RAV4 XLE.",
        final_url="http://127.0.0.1:9/pa/thanks",
    )
    attempt.screenshot_form.save("form.png", ContentFile(png_bytes("white")), save=False)
    attempt.screenshot_result.save("result.png", ContentFile(png_bytes("green")), save=False)
    attempt.save()
    return attempt


# --- search_cancel -----------------------------------------------------------------


def test_it_cancels_everything_still_running_in_a_search(owner_client, search, queued, running, finished):
    response = owner_client.post(reverse("search_cancel", args=[search.pk]), follow=True)
    assert response.redirect_chain == [(reverse("search_detail", args=[search.pk]), 302)]
    queued.refresh_from_db()
    running.refresh_from_db()
    finished.refresh_from_db()
    # Queued stops at once; running is asked to stop before it submits.
    assert queued.status == AttemptStatus.CANCELLED and queued.finished
    assert running.status == AttemptStatus.RUNNING and running.cancel_requested
    assert finished.status == AttemptStatus.SUBMITTED and not finished.cancel_requested
    text = response.content.decode()
    assert "Cancelled before it started, nothing sent: Bob&#x27;s Ford." in text or \
        f"Cancelled before it started, nothing sent: {queued.dealer.name}." in text.replace("&#x27;", "'")
    assert f"Stopped before sending: {running.dealer.name} (the form will not be submitted)." in \
        text.replace("&#x27;", "'")
    assert set(Event.objects.values_list("attempt", "kind")) == {
        (queued.pk, "finished"), (running.pk, "cancel_requested")
    }


def test_it_says_when_there_is_nothing_to_cancel(owner_client, search, finished):
    response = owner_client.post(reverse("search_cancel", args=[search.pk]), follow=True)
    assert "Nothing to cancel" in response.content.decode()
    finished.refresh_from_db()
    assert finished.status == AttemptStatus.SUBMITTED


def test_it_answers_cancel_all_from_htmx_with_the_rows(owner_client, search, queued):
    response = owner_client.post(reverse("search_cancel", args=[search.pk]), HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="dealer-table"')
    assert "badge badge-cancelled" in text and "Cancelled before it started, nothing sent" in text
    queued.refresh_from_db()
    assert queued.status == AttemptStatus.CANCELLED


def test_it_does_not_let_others_cancel_my_search(teammate, outsider, search, queued):
    for user in (teammate, outsider):
        assert login(user).post(reverse("search_cancel", args=[search.pk])).status_code == 404
    queued.refresh_from_db()
    assert queued.status == AttemptStatus.QUEUED


def test_it_rejects_get_on_search_cancel(owner_client, search, queued):
    assert owner_client.get(reverse("search_cancel", args=[search.pk])).status_code == 405
    queued.refresh_from_db()
    assert queued.status == AttemptStatus.QUEUED


def test_it_rejects_cancel_all_without_a_csrf_token(owner, search, queued):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(reverse("search_cancel", args=[search.pk])).status_code == 403
    queued.refresh_from_db()
    assert queued.status == AttemptStatus.QUEUED


# --- attempt_cancel ----------------------------------------------------------------


def test_it_cancels_a_queued_attempt_at_once(owner_client, search, queued):
    response = owner_client.post(reverse("attempt_cancel", args=[queued.pk]), {"search": search.pk})
    assert response.status_code == 302 and response.url == reverse("search_detail", args=[search.pk])
    queued.refresh_from_db()
    assert queued.status == AttemptStatus.CANCELLED and queued.error == "Cancelled before it started."


def test_it_asks_a_running_attempt_to_stop_before_submitting(owner_client, running):
    response = owner_client.post(reverse("attempt_cancel", args=[running.pk]))
    # Without a results page to go back to, the attempt's own page.
    assert response.status_code == 302 and response.url == reverse("attempt_detail", args=[running.pk])
    running.refresh_from_db()
    assert running.status == AttemptStatus.RUNNING and running.cancel_requested


def test_it_says_already_sent_when_the_click_came_first(owner_client, search, dealers):
    running = attempt_for(search, dealers[1], AttemptStatus.RUNNING, phase="submitting", started=timezone.now(),
                          claimed_by="w")
    assert running.mark_submit_pressed("w") is True

    response = owner_client.post(reverse("attempt_cancel", args=[running.pk]), {"search": search.pk}, follow=True)

    text = response.content.decode().replace("&#x27;", "'")
    assert f"Already sent, too late to cancel: {running.dealer.name}." in text
    assert "Stopped before sending" not in text
    running.refresh_from_db()
    assert running.status == AttemptStatus.RUNNING and not running.cancel_requested


def test_it_leaves_a_finished_attempt_alone(owner_client, finished):
    response = owner_client.post(reverse("attempt_cancel", args=[finished.pk]), follow=True)
    assert "Nothing to cancel" in response.content.decode()
    finished.refresh_from_db()
    assert finished.status == AttemptStatus.SUBMITTED


def test_it_answers_a_row_cancel_from_htmx_with_that_row(owner_client, search, dealers, running):
    response = owner_client.post(
        reverse("attempt_cancel", args=[running.pk]), {"search": search.pk}, HTTP_HX_REQUEST="true"
    )
    text = response.content.decode()
    assert text.lstrip().startswith(f'<tr id="dealer-{dealers[1].pk}"')
    assert "stopping before it submits" in text
    assert 'id="summary"' in text and "Stopped before sending" in text
    assert "create a customer profile first" not in text


def test_it_shows_a_cancelled_row_on_the_results_page_it_came_from(owner_client, owner, profile, dealers, queued):
    later = Search.objects.create(owner=owner, customer=profile, zip_code="90210", latitude=34.09,
                                  longitude=-118.41)
    response = owner_client.post(reverse("attempt_cancel", args=[queued.pk]), {"search": later.pk})
    assert response.url == reverse("search_detail", args=[later.pk])


def test_it_does_not_let_others_cancel_my_attempt(teammate, outsider, queued):
    for user in (teammate, outsider):
        assert login(user).post(reverse("attempt_cancel", args=[queued.pk])).status_code == 404
    queued.refresh_from_db()
    assert queued.status == AttemptStatus.QUEUED and not queued.cancel_requested


def test_it_rejects_get_on_attempt_cancel(owner_client, queued):
    assert owner_client.get(reverse("attempt_cancel", args=[queued.pk])).status_code == 405


# --- attempt_detail ----------------------------------------------------------------


def test_it_shows_the_full_record(owner_client, finished):
    response = owner_client.get(reverse("attempt_detail", args=[finished.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert [(phase.label, phase.seconds) for phase in response.context["phases"]] == [
        ("Opening site", 1.2), ("Finding form", 0.8), ("Filling", 2.5), ("Submitting", 0.4), ("Verifying", 1.1)
    ]
    for expected in ("Your email", "alice.buyer@example.org", "I&#x27;m interested in the 2024 Toyota RAV4 XLE",
                     "http://127.0.0.1:9/pa/thanks", "badge badge-submitted",
                     reverse("attempt_screenshot", args=[finished.pk, "form"]),
                     reverse("attempt_screenshot", args=[finished.pk, "result"])):
        assert expected in text


def test_it_shows_the_error_and_a_cancel_button_while_running(owner_client, running):
    running.error = "The dealer's site answered 503."
    running.save()
    text = owner_client.get(reverse("attempt_detail", args=[running.pk])).content.decode()
    assert "503" in text and reverse("attempt_cancel", args=[running.pk]) in text


def test_it_hides_an_attempt_from_teammates_and_outsiders(teammate, outsider, finished):
    for user in (teammate, outsider):
        assert login(user).get(reverse("attempt_detail", args=[finished.pk])).status_code == 404


def test_it_sends_anonymous_visitors_of_an_attempt_to_login(client, finished):
    response = client.get(reverse("attempt_detail", args=[finished.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_it_404s_for_a_missing_attempt(owner_client, db):
    assert owner_client.get(reverse("attempt_detail", args=[999])).status_code == 404


# --- attempt_screenshot ------------------------------------------------------------


@pytest.mark.parametrize(("which", "color"), [("form", "white"), ("result", "green")])
def test_it_serves_a_screenshot_to_its_owner(owner_client, finished, which, color):
    response = owner_client.get(reverse("attempt_screenshot", args=[finished.pk, which]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content == png_bytes(color)
    assert response["Cache-Control"].startswith("private")


def test_it_hides_screenshots_from_teammates_and_outsiders(teammate, outsider, finished):
    for user in (teammate, outsider):
        client = login(user)
        for which in ("form", "result"):
            assert client.get(reverse("attempt_screenshot", args=[finished.pk, which])).status_code == 404


def test_it_404s_for_an_unknown_screenshot_name(owner_client, finished):
    assert owner_client.get(reverse("attempt_screenshot", args=[finished.pk, "thumbnail"])).status_code == 404


def test_it_404s_when_there_is_no_screenshot(owner_client, queued):
    assert owner_client.get(reverse("attempt_screenshot", args=[queued.pk, "form"])).status_code == 404


def test_it_404s_when_the_screenshot_file_is_gone(owner_client, finished):
    os.remove(finished.screenshot_result.path)
    assert owner_client.get(reverse("attempt_screenshot", args=[finished.pk, "result"])).status_code == 404
    assert owner_client.get(reverse("attempt_screenshot", args=[finished.pk, "form"])).status_code == 200
