"""The do-not-contact list: kept by staff in the admin, marked in results, never contacted."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from huey.contrib.djhuey import HUEY

from contacts import services, worker
from contacts.geo import lookup_zip
from contacts.models import AttemptStatus, ContactAttempt, Dealer, DoNotContact, Search


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user("stella", "stella@example.org", "password", is_staff=True, is_superuser=True)


@pytest.fixture
def bobs(db) -> Dealer:
    return Dealer.objects.create(name="Bob's Ford", website="https://www.bobsford.com/", website_key="bobsford.com",
                                 latitude=34.07, longitude=-118.39, city="Beverly Hills", state="CA")


@pytest.fixture
def other_dealer(db) -> Dealer:
    return Dealer.objects.create(name="Pasadena Honda", website="https://pasadenahonda.com/",
                                 website_key="pasadenahonda.com", latitude=34.15, longitude=-118.14)


@pytest.fixture
def near_search(owner, profile) -> Search:
    place = lookup_zip("90210")
    return Search.objects.create(owner=owner, customer=profile, zip_code="90210", radius_miles=25,
                                 latitude=place.latitude, longitude=place.longitude)


def add_in_admin(client, domain: str, reason: str):
    return client.post(reverse("admin:contacts_donotcontact_add"),
                       {"domain": domain, "reason": reason, "added": "2026-12-01"}, follow=True)


def test_it_takes_any_address_and_keeps_the_registrable_domain(client, staff):
    client.force_login(staff)
    response = add_in_admin(client, "https://sales.BobsFord.com/contact-us?utm_source=x", "Asked us to stop")
    assert response.status_code == 200
    entry = DoNotContact.objects.get()
    assert (entry.domain, entry.reason, entry.added_by, str(entry.added)) == (
        "bobsford.com", "Asked us to stop", staff, "2026-12-01")
    # The same site again is refused with a field error, not a server error.
    response = add_in_admin(client, "www.bobsford.com", "Again")
    assert "bobsford.com is on the list already." in response.content.decode()
    assert DoNotContact.objects.count() == 1
    response = add_in_admin(client, "mailto:bob@bobsford.com", "Bad")
    assert "only http and https sites can be contacted" in response.content.decode()


def test_it_refuses_a_dealer_added_in_the_admin_for_every_user(client, staff, owner, teammate, profile, bobs,
                                                               other_dealer, near_search,
                                                               django_capture_on_commit_callbacks, empty_queue):
    client.force_login(staff)
    add_in_admin(client, "bobsford.com", "Owner asked to be left alone")

    with django_capture_on_commit_callbacks(execute=True):
        result = services.start_attempts(owner, profile, [bobs, other_dealer], contact_again=True)
    assert [(d, e.domain) for d, e in result.do_not_contact] == [(bobs, "bobsford.com")]
    assert [a.dealer for a in result.created] == [other_dealer]
    assert not ContactAttempt.objects.filter(dealer=bobs).exists()
    assert HUEY.pending_count() == 1

    # Through the web app: told why, and nothing queued.
    client.force_login(owner)
    response = client.post(reverse("search_contact", args=[near_search.pk]),
                           {"customer": profile.pk, "dealer": [bobs.pk]}, follow=True)
    text = response.content.decode()
    assert "Not contacted, on the do-not-contact list: Bob&#x27;s Ford (Owner asked to be left alone)." in text
    assert not ContactAttempt.objects.filter(dealer=bobs).exists()


def test_it_marks_the_dealer_in_results(client, staff, owner, bobs, other_dealer, near_search):
    DoNotContact.objects.create(domain="bobsford.com", reason="Legal request", added_by=staff)
    client.force_login(owner)
    page = client.get(reverse("search_detail", args=[near_search.pk])).content.decode()
    row = page[page.index(f'id="dealer-{bobs.pk}"'):]
    row = row[:row.index("</tr>")]
    assert "Do not contact" in row and "Legal request" in row
    assert "disabled" in row and 'name="only"' not in row
    other = page[page.index(f'id="dealer-{other_dealer.pk}"'):]
    assert "Do not contact" not in other[:other.index("</tr>")]


def test_the_worker_refuses_an_attempt_queued_before_the_dealer_was_listed(owner, profile, bobs,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        [attempt] = services.start_attempts(owner, profile, [bobs]).created
    DoNotContact.objects.create(domain="bobsford.com", reason="Complained about spam")
    # The worker checks before it claims, so no browser ever opens the site.
    assert worker.execute_attempt(attempt.pk) is None
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.CANCELLED and attempt.started is None
    assert attempt.error == "Not contacted: bobsford.com is on the do-not-contact list (Complained about spam)."
    assert attempt.events.filter(kind="finished").exists()


def test_listing_in_the_admin_ends_queued_attempts_at_once(client, staff, owner, profile, bobs,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        [attempt] = services.start_attempts(owner, profile, [bobs]).created
    client.force_login(staff)
    add_in_admin(client, "bobsford.com", "Closed down")
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.CANCELLED and "do-not-contact list (Closed down)" in attempt.error


def test_only_staff_can_see_the_list(client, owner):
    client.force_login(owner)
    response = client.get(reverse("admin:contacts_donotcontact_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
