"""Customer profile views: list, create, live validation, edit and delete, each scoped to its owner."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts.models import AttemptStatus, ContactAttempt, CustomerProfile, Search
from tests.browsers import person_browser

pytestmark = pytest.mark.django_db

GOOD = {
    "first_name": "Dana",
    "last_name": "Driver",
    "email": "dana@example.org",
    "phone": "310.555.0199",
    "zip_code": "90210",
    "preferred_contact": "text",
    "vehicle_year": "2023",
    "vehicle_make": "Honda",
    "vehicle_model": "Civic",
    "vehicle_trim": "Sport",
    "message_template": "Hi {dealer_name}, price on the {vehicle}? {full_name}",
}


def validate(client, field: str, **overrides: str):
    return client.post(f"{reverse('profile_validate')}?field={field}", {**GOOD, **overrides},
                       HTTP_HX_REQUEST="true")


# --- login required --------------------------------------------------------------------


@pytest.mark.parametrize("name,args", [
    ("profile_list", []), ("profile_create", []), ("profile_edit", [1]),
])
def test_it_redirects_anonymous_users_to_login(client, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("name,args", [("profile_validate", []), ("profile_delete", [1])])
def test_it_redirects_anonymous_posts_to_login(client, profile, name, args):
    response = client.post(reverse(name, args=args), GOOD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert CustomerProfile.objects.count() == 1


# --- list ------------------------------------------------------------------------------


def test_it_lists_only_my_profiles(client, owner, teammate, profile):
    CustomerProfile.objects.create(owner=teammate, first_name="Tess", last_name="Mate", email="t@example.org",
                                   phone="+13105550100", zip_code="10001", vehicle_year=2020,
                                   vehicle_make="Ford", vehicle_model="Focus")
    client.force_login(owner)
    response = client.get(reverse("profile_list"))
    assert response.status_code == 200
    assert list(response.context["profiles"]) == [profile]
    assert b"Alice Buyer" in response.content
    assert b"(310) 555-0123" in response.content
    assert b"Tess" not in response.content


def test_it_invites_a_first_profile_when_there_are_none(client, outsider):
    client.force_login(outsider)
    response = client.get(reverse("profile_list"))
    assert b"No customers yet" in response.content
    assert reverse("profile_create").encode() in response.content


# --- create ----------------------------------------------------------------------------


def test_it_shows_an_empty_form_with_placeholders_and_preview(client, owner):
    client.force_login(owner)
    response = client.get(reverse("profile_create"))
    assert response.status_code == 200
    assert b'id="message-preview"' in response.content
    assert b"<code>{dealer_name}</code>" in response.content
    assert b'hx-post="/profiles/validate/?field=email"' in response.content


def test_it_creates_a_profile_for_the_user(client, owner):
    client.force_login(owner)
    response = client.post(reverse("profile_create"), GOOD)
    assert response.status_code == 302
    assert response["Location"] == reverse("profile_list")
    profile = CustomerProfile.objects.get()
    assert profile.owner == owner
    assert profile.phone == "+13105550199"
    assert profile.preferred_contact == "text"
    assert profile.vehicle == "2023 Honda Civic Sport"
    assert profile.message_template == GOOD["message_template"]


def test_it_saves_the_answers_to_dealers_questions(client, owner):
    client.force_login(owner)
    response = client.post(reverse("profile_create"), {**GOOD, "trade_in": "yes", "financing": "no",
                                                       "best_time": "morning"})
    assert response.status_code == 302
    profile = CustomerProfile.objects.get()
    assert (profile.current_customer, profile.trade_in, profile.financing, profile.heard_about,
            profile.best_time) == ("no", "yes", "no", "internet", "morning")


def test_it_shows_the_answers_with_their_defaults_chosen(client, owner):
    client.force_login(owner)
    html = client.get(reverse("profile_create")).content.decode()
    assert "Answers to dealers’ questions" in html
    assert '<option value="undecided" selected>Undecided</option>' in html
    assert '<option value="any" selected>Any time</option>' in html


def test_it_re_renders_a_bad_answer_with_its_message_and_saves_nothing(client, owner):
    client.force_login(owner)
    response = client.post(reverse("profile_create"), {**GOOD, "heard_about": "carrier pigeon"})
    assert response.status_code == 200
    assert CustomerProfile.objects.count() == 0
    assert "How they heard about the dealer: choose one of internet" in response.content.decode()


def test_it_re_renders_with_field_errors_and_keeps_the_input(client, owner):
    client.force_login(owner)
    bad = {**GOOD, "phone": "555-01", "zip_code": "00000", "vehicle_year": "1975",
           "message_template": "Hi {dealer} {"}
    response = client.post(reverse("profile_create"), bad)
    assert response.status_code == 200
    assert CustomerProfile.objects.count() == 0
    html = response.content.decode()
    assert "Please fix 4 fields below" in html
    assert 'value="555-01"' in html
    assert 'value="00000"' in html
    assert 'value="1975"' in html
    assert "Hi {dealer} {</textarea>" in html
    assert "ZIP code: 00000 does not exist" in html
    assert "Year: 1975 is out of range" in html
    assert 'value="Dana"' in html
    assert 'aria-invalid="true"' in html


# --- live validation ---------------------------------------------------------------------


def test_it_validates_one_field_and_returns_its_partial(client, owner):
    client.force_login(owner)
    response = validate(client, "email", email="dana@")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="field has-error" id="field-email"')
    assert "Email: enter a valid address like name@example.com." in html
    assert 'value="dana@"' in html
    # Only the asked-for field: other fields' errors are not sent.
    assert 'id="field-phone"' not in html


def test_it_shows_the_normalised_phone_back(client, owner):
    client.force_login(owner)
    html = validate(client, "phone", phone="3105550199").content.decode()
    assert 'value="(310) 555-0199"' in html
    assert "field-errors" not in html


def test_it_names_the_place_for_a_valid_zip(client, owner):
    client.force_login(owner)
    html = validate(client, "zip_code", zip_code="90210").content.decode()
    assert "Beverly Hills, CA" in html
    html = validate(client, "zip_code", zip_code="00000").content.decode()
    assert "ZIP code: 00000 does not exist" in html
    assert "Beverly Hills" not in html


def test_it_updates_the_preview_out_of_band(client, owner):
    client.force_login(owner)
    response = validate(client, "first_name", first_name="Robin", message_template="Hi {dealer_name}, {first_name}")
    html = response.content.decode()
    assert 'id="message-preview" hx-swap-oob="true">Hi Example Motors, Robin</pre>' in html


def test_it_reports_unknown_placeholders_live(client, owner):
    client.force_login(owner)
    html = validate(client, "message_template", message_template="Hi {name}").content.decode()
    assert "unknown placeholder {name}" in html
    assert 'id="feedback-message_template"' in html


def test_it_saves_nothing_when_validating(client, owner):
    client.force_login(owner)
    validate(client, "email")
    assert CustomerProfile.objects.count() == 0


def test_it_answers_400_for_an_unknown_field(client, owner):
    client.force_login(owner)
    response = validate(client, "owner")
    assert response.status_code == 400
    assert "There is no profile field named “owner”." in response.content.decode()


def test_it_requires_post_to_validate(client, owner):
    client.force_login(owner)
    assert client.get(f"{reverse('profile_validate')}?field=email").status_code == 405


# --- edit ---------------------------------------------------------------------------------


def test_it_shows_my_profile_with_formatted_phone(client, owner, profile):
    client.force_login(owner)
    response = client.get(reverse("profile_edit", args=[profile.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="(310) 555-0123"' in html
    assert "Beverly Hills, CA" in html
    assert reverse("profile_delete", args=[profile.pk]) in html


def test_it_saves_changes(client, owner, profile):
    client.force_login(owner)
    response = client.post(reverse("profile_edit", args=[profile.pk]), {**GOOD, "first_name": "Alicia"})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.first_name == "Alicia"
    assert profile.phone == "+13105550199"
    assert profile.owner == owner


def test_it_keeps_the_saved_profile_when_an_edit_is_invalid(client, owner, profile):
    client.force_login(owner)
    response = client.post(reverse("profile_edit", args=[profile.pk]), {**GOOD, "email": "nope"})
    assert response.status_code == 200
    assert b'value="nope"' in response.content
    profile.refresh_from_db()
    assert profile.email == "alice.buyer@example.org"


@pytest.mark.parametrize("who", ["teammate", "outsider"])
def test_it_returns_404_for_someone_elses_profile(client, request, profile, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("profile_edit", args=[profile.pk])).status_code == 404
    assert client.post(reverse("profile_edit", args=[profile.pk]), {**GOOD, "first_name": "Hacked"}).status_code == 404
    profile.refresh_from_db()
    assert profile.first_name == "Alice"


def test_it_returns_404_for_a_missing_profile(client, owner):
    client.force_login(owner)
    assert client.get(reverse("profile_edit", args=[999])).status_code == 404


# --- delete -------------------------------------------------------------------------------


def test_it_asks_before_deleting(client, owner, profile, dealers, search):
    ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealers[0], status=AttemptStatus.SUBMITTED)
    client.force_login(owner)
    response = client.post(reverse("profile_delete", args=[profile.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Delete Alice Buyer?" in html
    assert "1 record of dealers contacted" in html
    assert 'name="confirm" value="yes"' in html
    assert CustomerProfile.objects.filter(pk=profile.pk).exists()


def test_it_deletes_after_confirmation(client, owner, profile, dealers, search):
    ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealers[0], status=AttemptStatus.FAILED)
    client.force_login(owner)
    response = client.post(reverse("profile_delete", args=[profile.pk]), {"confirm": "yes"})
    assert response.status_code == 302
    assert response["Location"] == reverse("profile_list")
    assert not CustomerProfile.objects.filter(pk=profile.pk).exists()
    assert ContactAttempt.objects.count() == 0
    # The search itself stays, without its customer.
    assert Search.objects.get(pk=search.pk).customer is None


def test_it_refuses_to_delete_while_attempts_are_in_progress(client, owner, profile, dealers):
    ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealers[0], status=AttemptStatus.RUNNING)
    client.force_login(owner)
    response = client.post(reverse("profile_delete", args=[profile.pk]), {"confirm": "yes"}, follow=True)
    assert CustomerProfile.objects.filter(pk=profile.pk).exists()
    assert "has 1 contact attempt in progress" in response.content.decode()


def test_it_requires_post_to_delete(client, owner, profile):
    client.force_login(owner)
    assert client.get(reverse("profile_delete", args=[profile.pk])).status_code == 405
    assert CustomerProfile.objects.filter(pk=profile.pk).exists()


@pytest.mark.parametrize("who", ["teammate", "outsider"])
def test_it_returns_404_when_deleting_someone_elses_profile(client, request, profile, who):
    client.force_login(request.getfixturevalue(who))
    response = client.post(reverse("profile_delete", args=[profile.pk]), {"confirm": "yes"})
    assert response.status_code == 404
    assert CustomerProfile.objects.filter(pk=profile.pk).exists()


# --- in a real browser ------------------------------------------------------------------


@pytest.mark.browser
def test_it_validates_live_in_the_browser_without_losing_input(asgi_server, owner):
    from playwright.sync_api import expect
    with person_browser() as browser:
        page = browser.new_page()
        page.goto(f"{asgi_server.url}{reverse('login')}?next={reverse('profile_create')}")
        page.fill("#id_username", "alice")
        page.fill("#id_password", "password")
        page.click("button[type=submit]")

        # Leaving a field validates it: the phone comes back formatted, the ZIP names its town.
        page.fill("#id_phone", "3105550199")
        page.fill("#id_zip_code", "90210")
        page.focus("#id_first_name")
        expect(page.locator("#id_phone")).to_have_value("(310) 555-0199")
        expect(page.locator("#field-zip_code")).to_contain_text("Beverly Hills, CA")

        page.fill("#id_email", "alice@")
        page.focus("#id_last_name")
        expect(page.locator("#field-email")).to_contain_text("Email: enter a valid address")

        # Pausing while typing the message shows its error and preview, and what was typed stays.
        page.fill("#id_first_name", "Robin")
        page.fill("#id_message_template", "")
        page.type("#id_message_template", "Hi {dealer_name}, {first_name} here {oops}")
        expect(page.locator("#feedback-message_template")).to_contain_text("unknown placeholder {oops}")
        expect(page.locator("#message-preview")).to_have_text("Hi Example Motors, Robin here {oops}")
        expect(page.locator("#id_message_template")).to_have_value("Hi {dealer_name}, {first_name} here {oops}")
        expect(page.locator("#id_message_template")).to_be_focused()
    assert not CustomerProfile.objects.exists()
