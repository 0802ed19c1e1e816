"""The dashboard, searching, the results page and contacting dealers from it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from contacts.models import AttemptStatus, ContactAttempt, CustomerProfile, Event, Search
from contacts.results import refresh_snapshot
from tests.conftest import make_dealer


pytestmark = pytest.mark.usefixtures("empty_queue")


@pytest.fixture
def owner_client(client, owner) -> Client:
    client.force_login(owner)
    return client


def login(client: Client, user) -> Client:
    client.force_login(user)
    return client


def record_attempt(search, dealer, status=AttemptStatus.SUBMITTED, **fields) -> ContactAttempt:
    attempt = ContactAttempt.objects.create(
        owner=search.owner, customer=search.customer, dealer=dealer, search=search, status=status, **fields
    )
    attempt.record_event("finished" if attempt.is_final else "queued")
    return attempt


def contact_url(search) -> str:
    return reverse("search_contact", args=[search.pk])


def page_text(response) -> str:
    return response.content.decode()


# --- home --------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_shows_the_dashboard(owner_client, search, dealers):
    record_attempt(search, dealers[0], AttemptStatus.SUBMITTED)
    record_attempt(search, dealers[1], AttemptStatus.CAPTCHA)
    response = owner_client.get(reverse("home"))
    assert response.status_code == 200
    assert response.context["recent_searches"][0] == search
    assert response.context["recent_searches"][0].attempt_count == 2
    assert response.context["summary"].total == 2
    assert response.context["follow_up_count"] == 1
    assert reverse("search_detail", args=[search.pk]) in page_text(response)
    assert "Create a customer profile first" not in page_text(response)


def test_it_asks_for_a_customer_profile_first(client, owner):
    response = login(client, owner).get(reverse("home"))
    assert "Create a customer profile first" in page_text(response)
    assert reverse("profile_create") in page_text(response)


def test_it_shows_nobody_elses_searches_on_the_dashboard(client, teammate, search):
    response = login(client, teammate).get(reverse("home"))
    assert list(response.context["recent_searches"]) == []


# --- search_list -------------------------------------------------------------------


def test_it_lists_only_my_searches(client, owner, teammate, outsider, search):
    response = login(client, owner).get(reverse("search_list"))
    assert list(response.context["page"].object_list) == [search]
    for other in (teammate, outsider):
        response = login(Client(), other).get(reverse("search_list"))
        assert list(response.context["page"].object_list) == []


# --- search_create -----------------------------------------------------------------


def test_it_creates_a_search_where_the_zip_code_is(owner_client, owner, profile):
    response = owner_client.post(
        reverse("search_create"),
        {"zip_code": " 90210 ", "radius_miles": "30", "make": " Toyota ", "customer": profile.pk},
    )
    search = Search.objects.get()
    assert response.status_code == 302 and response.url == reverse("search_detail", args=[search.pk])
    assert (search.owner, search.customer, search.zip_code, search.radius_miles, search.make) == (
        owner, profile, "90210", 30, "Toyota"
    )
    assert search.latitude == pytest.approx(34.09, abs=0.05)
    assert search.longitude == pytest.approx(-118.41, abs=0.05)


def test_it_allows_a_search_without_a_customer(owner_client):
    owner_client.post(reverse("search_create"), {"zip_code": "90210", "radius_miles": "25"})
    assert Search.objects.get().customer is None


@pytest.mark.parametrize(
    ("zip_code", "message"),
    [
        ("9021", "is not a ZIP code"),
        ("abcde", "is not a ZIP code"),
        ("", "enter the five-digit ZIP code"),
        ("00000", "does not exist"),
    ],
)
def test_it_rejects_a_bad_zip_code(owner_client, zip_code, message):
    response = owner_client.post(reverse("search_create"), {"zip_code": zip_code, "radius_miles": "25", "make": "Ford"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["zip_code"]
    assert errors["zip_code"][0].startswith("ZIP code:") and message in errors["zip_code"][0]
    # Nothing typed is lost.
    assert 'value="Ford"' in page_text(response)
    assert Search.objects.count() == 0


@pytest.mark.parametrize("radius", ["4", "201", "-5", "abc", "", "2.5"])
def test_it_rejects_a_radius_out_of_range(owner_client, radius):
    response = owner_client.post(reverse("search_create"), {"zip_code": "90210", "radius_miles": radius})
    assert response.status_code == 200
    assert response.context["form"].errors["radius_miles"] == [
        "Radius: enter a whole number of miles from 5 to 200."
    ]
    assert Search.objects.count() == 0


@pytest.mark.parametrize("radius", ["5", "200"])
def test_it_accepts_the_radius_limits(owner_client, radius):
    owner_client.post(reverse("search_create"), {"zip_code": "90210", "radius_miles": radius})
    assert Search.objects.get().radius_miles == int(radius)


def test_it_refuses_someone_elses_customer(client, teammate, profile):
    response = login(client, teammate).post(
        reverse("search_create"), {"zip_code": "90210", "radius_miles": "25", "customer": profile.pk}
    )
    assert "customer" in response.context["form"].errors
    assert Search.objects.count() == 0


def test_it_starts_from_the_customers_zip_code_but_not_their_make(owner_client, profile):
    # The customer's make would hide every dealer selling other makes without the user noticing.
    response = owner_client.get(reverse("search_create"), {"customer": profile.pk})
    form = response.context["form"]
    assert form.initial == {"customer": profile, "zip_code": "90210"}
    assert 'value="Toyota"' not in response.content.decode()


def test_it_rejects_other_methods_on_search_create(owner_client):
    assert owner_client.put(reverse("search_create")).status_code == 405


# --- search_detail -----------------------------------------------------------------


def test_it_lists_dealers_nearest_first(owner_client, search, dealers):
    make_dealer("Far Away Motors", 36.0, -115.0, "http://127.0.0.1:9/far/")
    response = owner_client.get(reverse("search_detail", args=[search.pk]))
    rows = response.context["rows"]
    assert [row.dealer.name for row in rows] == ["Beverly Hills Toyota", "Santa Monica Ford", "Pasadena Honda"]
    assert [row.distance_miles for row in rows] == sorted(row.distance_miles for row in rows)
    text = page_text(response)
    assert text.index("Beverly Hills Toyota") < text.index("Santa Monica Ford") < text.index("Pasadena Honda")
    assert "Far Away Motors" not in text
    assert 'href="http://127.0.0.1:9/bh/"' in text


def test_it_filters_by_make(owner_client, owner, dealers):
    search = Search.objects.create(owner=owner, zip_code="90210", radius_miles=25, make="Ford",
                                   latitude=34.09, longitude=-118.41)
    response = owner_client.get(reverse("search_detail", args=[search.pk]))
    assert [row.dealer.name for row in response.context["rows"]] == ["Santa Monica Ford"]


def test_it_shows_the_last_outcome_for_the_customer_from_any_search(owner_client, owner, profile, search, dealers):
    earlier = Search.objects.create(owner=owner, customer=profile, zip_code="90210", latitude=34.09,
                                    longitude=-118.41)
    old = record_attempt(earlier, dealers[0], AttemptStatus.FAILED, error="Old failure")
    old.created = timezone.now() - timedelta(days=2)
    old.save()
    latest = record_attempt(earlier, dealers[0], AttemptStatus.CAPTCHA, error="A CAPTCHA guards the form.")
    response = owner_client.get(reverse("search_detail", args=[search.pk]))
    attempts = {row.dealer.pk: row.attempt for row in response.context["rows"]}
    assert attempts == {dealers[0].pk: latest, dealers[1].pk: None, dealers[2].pk: None}
    text = page_text(response)
    assert "badge badge-captcha" in text and "A CAPTCHA guards the form." in text
    assert "from an earlier search" in text and "Old failure" not in text


def test_it_does_not_show_another_customers_outcomes(owner_client, owner, search, dealers):
    other = CustomerProfile.objects.create(
        owner=owner, first_name="Other", last_name="Buyer", email="o@example.org", phone="+13105550124",
        zip_code="90210", vehicle_year=2024, vehicle_make="Ford", vehicle_model="F-150",
    )
    ContactAttempt.objects.create(owner=owner, customer=other, dealer=dealers[0], status=AttemptStatus.SUBMITTED)
    response = owner_client.get(reverse("search_detail", args=[search.pk]))
    assert [row.attempt for row in response.context["rows"]] == [None, None, None]


def test_it_shows_progress_of_a_running_attempt(owner_client, search, dealers):
    record_attempt(search, dealers[0], AttemptStatus.RUNNING, phase="filling", started=timezone.now())
    response = owner_client.get(reverse("search_detail", args=[search.pk]))
    text = page_text(response)
    assert "Filling" in text and '<progress class="progress" max="100" value="' in text
    assert reverse("attempt_cancel", args=[dealers[0].attempts.get().pk]) in text
    assert f'sse-connect="{reverse("search_events", args=[search.pk])}?since=' in text
    assert 'sse-swap="dealer-%d"' % dealers[0].pk in text
    assert response.context["summary"].active == 1


def test_it_ends_stuck_attempts_when_the_page_is_shown(owner_client, search, dealers, settings):
    stuck = record_attempt(search, dealers[0], AttemptStatus.RUNNING, phase="opening",
                           started=timezone.now() - timedelta(seconds=settings.CONTACT_TIMEOUT_S
                                                              + settings.CONTACT_GRACE_S + 5))
    long_ago = stuck.started
    owner_client.get(reverse("search_detail", args=[search.pk]))
    stuck.refresh_from_db()
    # Nothing was sent: queued again once, then failed if it gets stuck again.
    assert stuck.status == AttemptStatus.QUEUED and stuck.retries == 1
    ContactAttempt.objects.filter(pk=stuck.pk).update(status=AttemptStatus.RUNNING, started=long_ago)
    owner_client.get(reverse("search_detail", args=[search.pk]))
    stuck.refresh_from_db()
    assert stuck.status == AttemptStatus.FAILED and "stopped responding" in stuck.error


def test_it_hides_a_search_from_teammates_and_outsiders(client, teammate, outsider, search):
    for user in (teammate, outsider):
        assert login(Client(), user).get(reverse("search_detail", args=[search.pk])).status_code == 404


def test_it_changes_the_customer_on_the_results_page(owner_client, owner, search, dealers):
    other = CustomerProfile.objects.create(
        owner=owner, first_name="Other", last_name="Buyer", email="o@example.org", phone="+13105550124",
        zip_code="90210", vehicle_year=2024, vehicle_make="Ford", vehicle_model="F-150",
    )
    response = owner_client.post(reverse("search_detail", args=[search.pk]), {"customer": other.pk})
    assert response.status_code == 302
    search.refresh_from_db()
    assert search.customer == other


def test_it_answers_a_customer_change_from_htmx_with_the_rows(owner_client, search, dealers):
    response = owner_client.post(reverse("search_detail", args=[search.pk]), {"customer": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    text = page_text(response)
    assert text.lstrip().startswith('<div id="dealer-table"') and "<html" not in text
    assert 'id="summary"' in text and 'hx-swap-oob="outerHTML"' in text
    search.refresh_from_db()
    assert search.customer is None


def test_it_refuses_to_set_someone_elses_customer(client, teammate, owner, search):
    theirs = CustomerProfile.objects.create(
        owner=teammate, first_name="T", last_name="Mate", email="t@example.org", phone="+13105550125",
        zip_code="90210", vehicle_year=2024, vehicle_make="Ford", vehicle_model="F-150",
    )
    response = login(client, owner).post(reverse("search_detail", args=[search.pk]), {"customer": theirs.pk})
    assert response.status_code == 200
    assert "customer" in response.context["customer_form"].errors
    search.refresh_from_db()
    assert search.customer.owner == owner


def test_it_tells_htmx_when_the_chosen_customer_is_gone(owner_client, search, dealers):
    response = owner_client.post(reverse("search_detail", args=[search.pk]), {"customer": 999}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Customer: that profile no longer exists" in page_text(response)
    search.refresh_from_db()
    assert search.customer is not None


def test_it_rejects_other_methods_on_search_detail(owner_client, search):
    assert owner_client.delete(reverse("search_detail", args=[search.pk])).status_code == 405


# --- search_contact ----------------------------------------------------------------


def test_it_contacts_one_dealer(owner_client, search, dealers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            contact_url(search), {"customer": search.customer_id, "only": dealers[1].pk, "dealer": [dealers[0].pk]}
        )
    assert response.status_code == 302 and response.url == reverse("search_detail", args=[search.pk])
    attempt = ContactAttempt.objects.get()
    assert (attempt.dealer, attempt.customer, attempt.search, attempt.status) == (
        dealers[1], search.customer, search, AttemptStatus.QUEUED
    )
    assert "Santa Monica Ford" in attempt.message
    assert HUEY.pending_count() == 1
    assert Event.objects.filter(attempt=attempt, kind="queued").exists()


def test_it_contacts_the_selected_dealers(owner_client, search, dealers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            contact_url(search), {"customer": search.customer_id, "dealer": [dealers[0].pk, dealers[2].pk]},
            follow=True,
        )
    assert set(ContactAttempt.objects.values_list("dealer", "status")) == {
        (dealers[0].pk, "queued"), (dealers[2].pk, "queued")
    }
    assert HUEY.pending_count() == 2
    assert "Contacting 2 dealers for Alice Buyer" in page_text(response)


def test_it_answers_htmx_with_the_rows(owner_client, search, dealers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            contact_url(search), {"customer": search.customer_id, "only": dealers[0].pk}, HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200
    text = page_text(response)
    assert text.lstrip().startswith('<div id="dealer-table"') and "<html" not in text
    assert "Queued" in text and "Contacting 1 dealer for Alice Buyer" in text
    assert 'id="notices"' in text and 'id="summary"' in text
    assert HUEY.pending_count() == 1


def test_it_only_contacts_dealers_in_the_results(owner_client, search, dealers):
    far = make_dealer("Far Away Motors", 36.0, -115.0, "http://127.0.0.1:9/far/")
    response = owner_client.post(contact_url(search), {"customer": search.customer_id, "dealer": [far.pk]})
    assert response.status_code == 200
    assert "no longer in this search&#x27;s results" in page_text(response)
    assert ContactAttempt.objects.count() == 0


def test_it_asks_for_a_selection(owner_client, search, dealers):
    response = owner_client.post(contact_url(search), {"customer": search.customer_id})
    assert response.status_code == 200
    assert "Select at least one dealer to contact" in page_text(response)
    assert ContactAttempt.objects.count() == 0 and HUEY.pending_count() == 0


def test_it_asks_for_a_customer(owner_client, owner, profile, dealers):
    search = Search.objects.create(owner=owner, zip_code="90210", latitude=34.09, longitude=-118.41)
    response = owner_client.post(contact_url(search), {"customer": "", "dealer": [dealers[0].pk]})
    assert response.status_code == 200
    assert "Customer: choose whose enquiry to send" in page_text(response)
    # The ticked box stays ticked.
    assert response.context["selected_ids"] == {dealers[0].pk}
    assert ContactAttempt.objects.count() == 0


def test_it_asks_for_a_customer_profile_before_contacting(client, owner, dealers):
    search = Search.objects.create(owner=owner, zip_code="90210", latitude=34.09, longitude=-118.41)
    response = login(client, owner).post(contact_url(search), {"only": dealers[0].pk})
    assert response.status_code == 200
    assert "create a customer profile first" in page_text(response)
    assert reverse("profile_create") in page_text(response)
    assert ContactAttempt.objects.count() == 0


def test_it_explains_a_missing_search(owner_client, dealers):
    response = owner_client.post(reverse("search_contact", args=[999]), {"only": dealers[0].pk})
    assert response.status_code == 404
    assert "That search is not available" in page_text(response)
    assert ContactAttempt.objects.count() == 0


def test_it_does_not_let_others_contact_from_my_search(client, teammate, outsider, search, dealers):
    for user in (teammate, outsider):
        response = login(Client(), user).post(contact_url(search), {"only": dealers[0].pk})
        assert response.status_code == 404
    assert ContactAttempt.objects.count() == 0


def test_it_uses_and_saves_the_customer_chosen_on_the_results_page(owner_client, owner, profile, dealers):
    search = Search.objects.create(owner=owner, zip_code="90210", latitude=34.09, longitude=-118.41)
    owner_client.post(contact_url(search), {"customer": profile.pk, "only": dealers[0].pk})
    search.refresh_from_db()
    assert search.customer == profile
    assert ContactAttempt.objects.get().customer == profile


def test_it_asks_before_contacting_again(owner_client, search, dealers, django_capture_on_commit_callbacks):
    # Long enough ago to be past the re-contact cooldown (tests/test_limits.py covers it).
    submitted = record_attempt(search, dealers[0], AttemptStatus.SUBMITTED, created=timezone.now() - timedelta(days=30))
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            contact_url(search), {"customer": search.customer_id, "dealer": [dealers[0].pk, dealers[1].pk]}
        )
    # The new dealer is contacted; the one contacted before waits for a yes.
    assert response.status_code == 200
    assert [(row.dealer, row.attempt) for row in response.context["confirm"]] == [(dealers[0], submitted)]
    text = page_text(response)
    assert "Already contacted for Alice Buyer" in text and 'name="contact_again" value="1"' in text
    assert "last time <span class=\"badge badge-submitted\">Submitted</span>" in text
    assert ContactAttempt.objects.filter(dealer=dealers[0]).count() == 1
    assert ContactAttempt.objects.filter(dealer=dealers[1], status="queued").count() == 1
    assert HUEY.pending_count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            contact_url(search), {"customer": search.customer_id, "dealer": [dealers[0].pk], "contact_again": "1"}
        )
    assert response.status_code == 302
    assert ContactAttempt.objects.filter(dealer=dealers[0], status="queued").count() == 1
    assert HUEY.pending_count() == 2


def test_it_asks_before_contacting_again_over_htmx(owner_client, search, dealers):
    record_attempt(search, dealers[0], AttemptStatus.FAILED)
    response = owner_client.post(
        contact_url(search), {"customer": search.customer_id, "only": dealers[0].pk}, HTTP_HX_REQUEST="true"
    )
    text = page_text(response)
    assert "Already contacted for Alice Buyer" in text and "Contact again" in text
    assert ContactAttempt.objects.count() == 1


def test_it_never_queues_a_dealer_twice(owner_client, search, dealers):
    record_attempt(search, dealers[0], AttemptStatus.RUNNING)
    response = owner_client.post(
        contact_url(search), {"customer": search.customer_id, "only": dealers[0].pk, "contact_again": "1"},
        follow=True,
    )
    assert "Already being contacted for Alice Buyer" in page_text(response)
    assert ContactAttempt.objects.count() == 1


def test_it_says_when_a_dealer_has_no_website(owner_client, search, dealers):
    no_site = make_dealer("Walk-in Motors", 34.08, -118.40, "")
    response = owner_client.post(
        contact_url(search), {"customer": search.customer_id, "dealer": [no_site.pk]}, follow=True
    )
    assert "No website on file" in page_text(response) and "Walk-in Motors" in page_text(response)
    assert ContactAttempt.objects.count() == 0


def test_it_rejects_get_on_search_contact(owner_client, search):
    assert owner_client.get(contact_url(search)).status_code == 405


def test_it_rejects_a_contact_post_without_a_csrf_token(owner, search, dealers):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(contact_url(search), {"customer": search.customer_id, "only": dealers[0].pk})
    assert response.status_code == 403
    assert ContactAttempt.objects.count() == 0


# --- the results page's cost per row --------------------------------------------------


def dealers_with_every_kind_of_row(search, count: int, start: int = 0) -> None:
    """count dealers near the search: no website, never contacted, running, stopping,
    finished with screenshots, from an earlier search, cancelled."""
    earlier = Search.objects.create(owner=search.owner, customer=search.customer, zip_code="90210",
                                    latitude=search.latitude, longitude=search.longitude)
    kinds = [
        {},
        {"status": AttemptStatus.RUNNING, "phase": "filling"},
        {"status": AttemptStatus.RUNNING, "cancel_requested": True},
        {"status": AttemptStatus.SUBMITTED, "screenshot_form": "shots/f.png", "screenshot_result": "shots/r.png"},
        {"status": AttemptStatus.FAILED, "error": "No reply.", "search": earlier},
        {"status": AttemptStatus.CANCELLED},
    ]
    for i in range(start, start + count):
        website = f"http://127.0.0.1:9/d{i}/" if i % 7 else ""
        dealer = make_dealer(f"Dealer {i}", 34.07, -118.40 + i / 10_000, website, city="Beverly Hills", state="CA")
        kind = dict(kinds[i % len(kinds)])
        if kind:
            ContactAttempt.objects.create(owner=search.owner, customer=search.customer, dealer=dealer,
                                          search=kind.pop("search", search), **kind)
    # A search keeps the dealers it found: these join it through an explicit refresh.
    refresh_snapshot(search)


def test_it_shows_many_dealers_in_the_same_number_of_queries_as_a_few(owner_client, search,
                                                                      django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("search_detail", args=[search.pk])
    dealers_with_every_kind_of_row(search, 6)
    owner_client.get(url)  # the session and the like settle on the first request
    with CaptureQueriesContext(connection) as few:
        assert len(owner_client.get(url).context["rows"]) == 6
    dealers_with_every_kind_of_row(search, 60, start=6)
    with django_assert_num_queries(len(few.captured_queries)):
        response = owner_client.get(url)
    assert len(response.context["rows"]) == 66
    text = page_text(response)
    assert text.count('<tr id="dealer-') == 66 and "shots/f.png" not in text
    assert text.count(reverse("attempt_screenshot", args=[ContactAttempt.objects.filter(
        status=AttemptStatus.SUBMITTED).first().pk, "form"])) == 2


def test_it_links_each_row_to_its_own_attempt_and_dealer(owner_client, search, dealers):
    running = record_attempt(search, dealers[0], AttemptStatus.RUNNING, phase="filling")
    # Past the re-contact cooldown, so the row offers "Contact again".
    submitted = record_attempt(search, dealers[1], AttemptStatus.SUBMITTED, screenshot_form="shots/f.png",
                               created=timezone.now() - timedelta(days=30))
    text = page_text(owner_client.get(reverse("search_detail", args=[search.pk])))
    assert f'formaction="{reverse("attempt_cancel", args=[running.pk])}"' in text
    assert f'href="{reverse("attempt_detail", args=[running.pk])}"' in text
    assert f'href="{reverse("attempt_detail", args=[submitted.pk])}"' in text
    assert f'src="{reverse("attempt_screenshot", args=[submitted.pk, "form"])}"' in text
    assert reverse("attempt_screenshot", args=[submitted.pk, "result"]) not in text
    assert text.count(f'hx-post="{contact_url(search)}"') == 3  # Contact selected, and two rows


def test_it_gives_a_row_rendered_alone_its_contact_button(owner_client, search, dealers):
    queued = record_attempt(search, dealers[0], AttemptStatus.QUEUED)
    response = owner_client.post(
        reverse("attempt_cancel", args=[queued.pk]), {"search": search.pk}, HTTP_HX_REQUEST="true"
    )
    text = page_text(response)
    assert f'id="dealer-{dealers[0].pk}"' in text and "Cancelled" in text
    assert f'hx-post="{contact_url(search)}"' in text


@pytest.mark.parametrize("enabled", [True, False])
def test_it_offers_a_refresh_from_openstreetmap_only_when_enabled(owner_client, search, settings, enabled):
    settings.OSM_ENABLED = enabled
    text = page_text(owner_client.get(reverse("search_detail", args=[search.pk])))
    action = f'action="{reverse("search_refresh_osm", args=[search.pk])}"'
    assert ("Refresh from OpenStreetMap" in text) is enabled
    assert (action in text) is enabled
    if enabled:
        form = text[text.index(action):text.index("</form>", text.index(action))]
        assert 'method="post"' in text[text.rindex("<form", 0, text.index(action)):text.index(action)]
        assert 'name="csrfmiddlewaretoken"' in form
