"""The sandbox dealer websites, the page that shows what they received, and load_sandbox_dealers."""

from __future__ import annotations

import io
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from contacts.directory import search_dealers
from contacts.engine import outcomes
from contacts.engine.types import Customer, EngineOptions, Hooks
from contacts.geo import lookup_zip
from contacts.models import Dealer, SandboxSubmission
from contacts.sandbox.sites import (
    CONSENT_FIELD,
    FORM_MULTI_FIELD,
    HONEYPOT_FIELD,
    MARKETING_OPT_IN_FIELD,
    SITES,
    SITES_BY_SLUG,
)

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) SandboxTest/1.0"

# A valid post for every site that has a contact form: (slug, path under the site, fields).
VALID_POSTS = [
    ("canyon-crest-toyota", "", {"first_name": "Alice", "last_name": "Buyer", "email": "alice@example.org",
                                 "phone": "(310) 555-0123", "message": "Best price on a RAV4?"}),
    ("bayside-ford", "contact/", {"name": "Alice Buyer", "email": "alice@example.org", "phone": "3105550123",
                                  "zip": "90210", "comments": "Is the F-150 still available?"}),
    ("culver-city-honda", "lead-frame/", {"fname": "Alice", "lname": "Buyer", "email_address": "alice@example.org",
                                          "phone_number": "", "questions": "CR-V lease offers?"}),
    ("sunset-strip-bmw", "", {"first_name": "Alice", "last_name": "Buyer", "email": "alice@example.org",
                              "phone": "", "message": "X5 test drive", "g-recaptcha-response": "token-from-google"}),
    ("brand-boulevard-hyundai", "", {"utf8": "✓", "lead[source]": "website-home", "lead[first_name]": "Alice",
                                     "lead[last_name]": "Buyer", "lead[email]": "alice@example.org",
                                     "lead[phone]": "", "lead[message]": "Tucson pricing", "commit": "Submit"}),
    ("south-bay-auto-group", "", {"department": "sales", "first_name": "Alice", "last_name": "Buyer",
                                  "email": "alice@example.org", "phone": "310-555-0123", "contact_method": "phone",
                                  "vehicle_year": "2024", "vehicle_make": "Toyota", "vehicle_model": "RAV4",
                                  "comments": "", HONEYPOT_FIELD: "", "consent": "yes"}),
]
SLOW_SLUG = "brand-boulevard-hyundai"


def site_url(slug: str, path: str = "") -> str:
    return f"/sandbox/{slug}/{path}"


# --- The sites ----------------------------------------------------------------------


def test_it_registers_eight_distinct_dealers_around_beverly_hills(db) -> None:
    assert len(SITES) == 8
    assert len({site.name for site in SITES}) == len({site.city for site in SITES}) == 8
    assert len({site.colour for site in SITES}) == 8
    centre = lookup_zip("90210")
    call_command("load_sandbox_dealers", stdout=io.StringIO())
    nearby = {hit.dealer.source_id for hit in search_dealers(centre.latitude, centre.longitude, 25)}
    assert nearby == set(SITES_BY_SLUG)


@pytest.mark.parametrize("site", [s for s in SITES if s.slug != SLOW_SLUG], ids=lambda s: s.slug)
def test_it_renders_each_home_page(client, owner, site) -> None:
    # Logged in on purpose: the dealer sites must show nothing of the app's user.
    client.force_login(owner)
    response = client.get(site_url(site.slug))
    page = response.content.decode()
    assert response.status_code == 200
    assert site.name in page and site.phone_display in page and "Featured inventory" in page
    assert owner.username not in page and owner.email not in page
    # Nothing on any site comes from another host: the reCAPTCHA loader is a local stand-in.
    assert 'src="https://' not in page and 'src="http://' not in page and 'src="//' not in page


def test_it_builds_each_contact_form_its_own_way(client, db) -> None:
    def home(slug: str) -> str:
        return client.get(site_url(slug)).content.decode()

    assert 'name="first_name"' in home("canyon-crest-toyota")
    ford = home("bayside-ford")
    assert "<form" not in ford and 'href="/sandbox/bayside-ford/contact/">Contact Us</a>' in ford
    assert 'name="comments"' in client.get(site_url("bayside-ford", "contact/")).content.decode()
    honda = home("culver-city-honda")
    assert "<form" not in honda and '<iframe class="lead-frame" src="/sandbox/culver-city-honda/lead-frame/"' in honda
    bmw = home("sunset-strip-bmw")
    assert 'class="g-recaptcha" data-sitekey="' in bmw
    assert f'<script src="{reverse("sandbox_recaptcha_loader")}" async defer>' in bmw
    chevy = home("media-city-chevrolet")
    assert chevy.count("<form") == 2 and 'role="search"' in chevy
    assert 'action="/sandbox/media-city-chevrolet/newsletter/"' in chevy
    subaru = home("arroyo-subaru")
    markup, script = subaru.split("<script>")
    assert "<form" not in markup and 'id="quote-widget"' in markup and "setTimeout(build, 1000)" in script
    south_bay = home("south-bay-auto-group")
    assert south_bay.count("<option value=\"\">-- Select --</option>") == 4
    assert 'type="radio" name="contact_method" value="phone"' in south_bay
    assert f'name="{HONEYPOT_FIELD}" tabindex="-1"' in south_bay
    assert f'name="{MARKETING_OPT_IN_FIELD}" value="yes">' in south_bay


def test_it_answers_the_slow_site_after_its_delay(client, db) -> None:
    started = time.monotonic()
    response = client.get(site_url(SLOW_SLUG))
    assert response.status_code == 200
    assert time.monotonic() - started >= SITES_BY_SLUG[SLOW_SLUG].delay_s
    assert 'name="lead[first_name]"' in response.content.decode()


def test_it_serves_each_sites_other_pages(client, db) -> None:
    for page in ("inventory/", "service/", "about/", "thank-you/"):
        assert client.get(site_url("canyon-crest-toyota", page)).status_code == 200
    assert client.head(site_url("bayside-ford", "contact/")).status_code == 200
    frame = client.get(site_url("culver-city-honda", "lead-frame/"))
    assert frame.status_code == 200 and frame.headers["X-Frame-Options"] == "SAMEORIGIN"
    search = client.get(site_url("media-city-chevrolet", "search/"), {"q": "silverado"})
    assert "2026 Chevrolet Silverado 1500 LT" in search.content.decode()
    # Pages a site does not have are missing, as on any website.
    assert client.get(site_url("canyon-crest-toyota", "contact/")).status_code == 404
    assert client.get(site_url("bayside-ford", "lead-frame/")).status_code == 404
    assert client.get(site_url("canyon-crest-toyota", "careers/")).status_code == 404
    assert client.get(site_url("no-such-dealer")).status_code == 404
    assert client.post(site_url("bayside-ford"), {"name": "Alice"}).status_code == 405
    assert SandboxSubmission.objects.count() == 0


# --- Submissions --------------------------------------------------------------------


@pytest.mark.parametrize("slug, path, fields", [p for p in VALID_POSTS if p[0] != SLOW_SLUG], ids=lambda v: str(v)[:20])
def test_it_records_a_valid_post_with_its_fields(client, db, slug, path, fields) -> None:
    response = client.post(site_url(slug, path), fields, HTTP_USER_AGENT=BROWSER_UA)
    submission = SandboxSubmission.objects.get()
    assert (submission.site, submission.fields, submission.user_agent) == (slug, fields, BROWSER_UA)
    if response.status_code == 302:
        assert response.headers["Location"] == site_url(slug, "thank-you/")
    else:
        assert response.status_code == 200 and "Thank" in response.content.decode()


def test_it_redirects_the_slow_sites_post_to_its_thank_you_page(client, db) -> None:
    slug, path, fields = next(p for p in VALID_POSTS if p[0] == SLOW_SLUG)
    response = client.post(site_url(slug, path), fields)
    assert response.status_code == 302 and response.headers["Location"] == site_url(slug, "thank-you/")
    assert SandboxSubmission.objects.get().fields == fields


@pytest.mark.parametrize("slug, path, fields", [p for p in VALID_POSTS if p[0] != SLOW_SLUG], ids=lambda v: str(v)[:20])
def test_it_records_nothing_when_a_required_field_is_missing(client, db, slug, path, fields) -> None:
    site = SITES_BY_SLUG[slug]
    for missing in site.required:
        response = client.post(site_url(slug, path), {**fields, missing: ""})
        page = response.content.decode()
        assert response.status_code == 200 and 'role="alert"' in page and "Thank you" not in page
    # What was typed is kept, so a person only fixes the missing field.
    first_missing = client.post(site_url(slug, path), {**fields, site.required[0]: ""})
    assert 'value="alice@example.org"' in first_missing.content.decode()
    assert SandboxSubmission.objects.count() == 0


def test_it_refuses_an_invalid_email(client, db) -> None:
    fields = dict(VALID_POSTS[0][2], email="alice-at-example")
    response = client.post(site_url("canyon-crest-toyota"), fields)
    assert "Please enter a valid email address." in response.content.decode()
    assert SandboxSubmission.objects.count() == 0


def test_it_refuses_the_captcha_sites_post_without_a_token(client, db) -> None:
    fields = dict(next(p[2] for p in VALID_POSTS if p[0] == "sunset-strip-bmw"))
    del fields["g-recaptcha-response"]
    page = client.post(site_url("sunset-strip-bmw"), fields).content.decode()
    assert "Please confirm that you are not a robot." in page
    assert 'class="g-recaptcha"' in page
    assert SandboxSubmission.objects.count() == 0


def test_it_takes_the_script_sites_lead_as_json(client, db) -> None:
    url = site_url("arroyo-subaru", "api/leads/")
    lead = {"firstName": "Alice", "lastName": "Buyer", "email": "alice@example.org", "phone": "",
            "zipCode": "90210", "message": "Outback?"}
    response = client.post(url, json.dumps(lead), content_type="application/json", HTTP_USER_AGENT=BROWSER_UA)
    assert response.status_code == 200 and response.json()["ok"] is True
    assert response.json()["message"].startswith("Thank you, Alice!")
    incomplete = client.post(url, json.dumps({**lead, "message": " "}), content_type="application/json")
    assert incomplete.status_code == 400 and incomplete.json()["fields"] == {"message": "Please fill in the "
                                                                            "required fields marked with *."}
    assert client.post(url, "{not json", content_type="application/json").status_code == 400
    assert client.post(url, "[1, 2]", content_type="application/json").status_code == 400
    submission = SandboxSubmission.objects.get()
    assert (submission.site, submission.fields, submission.user_agent) == ("arroyo-subaru", lead, BROWSER_UA)


def test_it_records_a_newsletter_signup_but_not_a_search(client, db) -> None:
    slug = "media-city-chevrolet"
    client.get(site_url(slug, "search/"), {"q": "tahoe"})
    refused = client.post(site_url(slug, "newsletter/"), {"email": "nope"})
    assert "Please enter a valid email address." in refused.content.decode()
    joined = client.post(site_url(slug, "newsletter/"), {"email": "alice@example.org"})
    assert "on the list" in joined.content.decode()
    assert list(SandboxSubmission.objects.values_list("site", "fields")) == [(slug, {"email": "alice@example.org"})]


def test_it_hides_the_sandbox_when_it_is_disabled(client, owner, settings) -> None:
    settings.SANDBOX_ENABLED = False
    client.force_login(owner)
    assert client.get(reverse("sandbox_index")).status_code == 404
    assert client.get(site_url("canyon-crest-toyota")).status_code == 404
    assert client.get(site_url("bayside-ford", "contact/")).status_code == 404
    assert client.get(site_url("canyon-crest-toyota", "about/")).status_code == 404
    for slug, path, fields in VALID_POSTS:
        if slug != SLOW_SLUG:
            assert client.post(site_url(slug, path), fields).status_code == 404
    lead_api = site_url("arroyo-subaru", "api/leads/")
    assert client.post(lead_api, "{}", content_type="application/json").status_code == 404
    assert client.get(reverse("sandbox_recaptcha_loader")).status_code == 404
    assert client.get(reverse("sandbox_recaptcha_anchor")).status_code == 404
    assert SandboxSubmission.objects.count() == 0


def test_it_serves_a_local_stand_in_for_the_recaptcha_loader(client, db) -> None:
    loader = client.get(reverse("sandbox_recaptcha_loader"))
    assert loader.status_code == 200 and loader["Content-Type"].startswith("text/javascript")
    script = loader.content.decode()
    # It builds what Google's loader builds, with its anchor frame served beside it.
    assert "g-recaptcha-response" in script and "api2/anchor.html" in script
    assert reverse("sandbox_recaptcha_loader").endswith("/recaptcha/api.js")
    assert reverse("sandbox_recaptcha_anchor") == reverse("sandbox_recaptcha_loader").replace(
        "api.js", "api2/anchor.html")
    anchor = client.get(reverse("sandbox_recaptcha_anchor"))
    assert anchor.status_code == 200 and "I'm not a robot" in anchor.content.decode()
    assert client.post(reverse("sandbox_recaptcha_loader")).status_code == 405


# --- What arrived -------------------------------------------------------------------


def test_it_requires_a_login_for_the_sandbox_page(client, db) -> None:
    response = client.get(reverse("sandbox_index"))
    assert response.status_code == 302 and response.headers["Location"].startswith(reverse("login"))


def running_attempt_to(owner, slug: str, email: str = "alice@example.org"):
    """A running attempt by `owner` to the sandbox site `slug`, for a customer with `email`."""
    from contacts.models import ContactAttempt, CustomerProfile

    call_command("load_sandbox_dealers", verbosity=0) if not Dealer.objects.filter(source="sandbox").exists() else None
    customer = CustomerProfile.objects.filter(owner=owner, email=email).first() or CustomerProfile.objects.create(
        owner=owner, first_name="Alice", last_name="Buyer", email=email, phone="+13105550123", zip_code="90210",
        vehicle_year=2024, vehicle_make="Toyota", vehicle_model="RAV4",
    )
    dealer = Dealer.objects.get(source="sandbox", source_id=slug)
    return ContactAttempt.objects.create(owner=owner, customer=customer, dealer=dealer, status="running")


def test_it_shows_what_each_site_received_newest_first(client, owner) -> None:
    running_attempt_to(owner, "canyon-crest-toyota")
    running_attempt_to(owner, "bayside-ford")
    client.post(site_url("canyon-crest-toyota"), dict(VALID_POSTS[0][2], first_name="Older"))
    client.post(site_url("canyon-crest-toyota"), dict(VALID_POSTS[0][2], first_name="Newer"))
    client.post(site_url("bayside-ford", "contact/"), VALID_POSTS[1][2])
    client.force_login(owner)
    page = client.get(reverse("sandbox_index")).content.decode()
    for site in SITES:
        assert f'href="{site.path}">{site.name}</a>' in page
    toyota = page[page.index('id="site-canyon-crest-toyota"'):page.index('id="site-bayside-ford"')]
    assert "(2 in all)" in toyota and toyota.index("Newer") < toyota.index("Older")
    assert "<th scope=\"row\"><code>email</code></th><td>alice@example.org</td>" in toyota
    ford = page[page.index('id="site-bayside-ford"'):page.index('id="site-culver-city-honda"')]
    assert "<code>zip</code></th><td>90210</td>" in ford and "Alice Buyer" in ford
    assert 'Expected result: <span class="badge badge-no_form">No form</span>' in page
    honda = page[page.index('id="site-culver-city-honda"'):]
    assert "Nothing received from you yet." in honda[:honda.index("</section>")]


def test_it_shows_only_the_latest_submissions_per_site(client, owner) -> None:
    attempt = running_attempt_to(owner, "culver-city-honda")
    for n in range(7):
        SandboxSubmission.objects.create(site="culver-city-honda", fields={"fname": f"Visitor{n}"}, attempt=attempt)
    client.force_login(owner)
    page = client.get(reverse("sandbox_index")).content.decode()
    assert "(7 in all, latest 5 shown)" in page
    assert "Visitor6" in page and "Visitor2" in page and "Visitor1" not in page


def test_it_shows_each_user_only_their_own_submissions(client, owner, teammate, outsider) -> None:
    running_attempt_to(owner, "canyon-crest-toyota", "alice@example.org")
    running_attempt_to(teammate, "canyon-crest-toyota", "bob.customer@example.org")
    client.post(site_url("canyon-crest-toyota"), VALID_POSTS[0][2])
    client.post(site_url("canyon-crest-toyota"), dict(VALID_POSTS[0][2], first_name="Robert",
                                                      email="bob.customer@example.org"))
    # Posted by someone by hand: no attempt sent it, so no user sees it.
    client.post(site_url("canyon-crest-toyota"), dict(VALID_POSTS[0][2], first_name="Stranger",
                                                      email="stranger@example.org"))
    assert SandboxSubmission.objects.count() == 3
    assert SandboxSubmission.objects.get(fields__email="alice@example.org").attempt.owner == owner
    assert SandboxSubmission.objects.get(fields__email="bob.customer@example.org").attempt.owner == teammate
    assert SandboxSubmission.objects.get(fields__email="stranger@example.org").attempt is None

    for user, seen, unseen in [
        (owner, ["alice@example.org"], ["bob.customer@example.org", "stranger@example.org", "Robert"]),
        (teammate, ["bob.customer@example.org"], ["alice@example.org", "stranger@example.org"]),
        (outsider, [], ["alice@example.org", "bob.customer@example.org", "stranger@example.org"]),
    ]:
        client.force_login(user)
        page = client.get(reverse("sandbox_index")).content.decode()
        for text in seen:
            assert text in page, (user, text)
        for text in unseen:
            assert text not in page, (user, text)


# --- load_sandbox_dealers -----------------------------------------------------------


def load(*args: str) -> str:
    out = io.StringIO()
    call_command("load_sandbox_dealers", *args, stdout=out)
    return out.getvalue()


def test_it_loads_the_sandbox_dealers_once(db, settings) -> None:
    settings.SANDBOX_BASE_URL = "http://127.0.0.1:8000"
    assert load() == "Sandbox dealers: 8 created, 0 updated, 0 unchanged; websites at http://127.0.0.1:8000/sandbox/\n"
    toyota = Dealer.objects.get(source="sandbox", source_id="canyon-crest-toyota")
    assert (toyota.name, toyota.website, toyota.website_key) == (
        "Canyon Crest Toyota", "http://127.0.0.1:8000/sandbox/canyon-crest-toyota/", "sandbox:canyon-crest-toyota")
    assert (toyota.city, toyota.state, toyota.zip_code) == ("Beverly Hills", "CA", "90210")
    assert (toyota.phone, toyota.latitude, toyota.longitude) == ("+13105550141", 34.0671, -118.4009)
    assert Dealer.objects.get(source_id="south-bay-auto-group").makes == ",honda,kia,mazda,nissan,toyota,"
    before = list(Dealer.objects.values())
    assert load().startswith("Sandbox dealers: 0 created, 0 updated, 8 unchanged;")
    assert list(Dealer.objects.values()) == before


def test_it_points_the_websites_at_a_new_base_url(db) -> None:
    load("--base-url", "http://127.0.0.1:8000")
    assert load("--base-url", "http://192.168.1.20:8080/").startswith("Sandbox dealers: 0 created, 8 updated,")
    assert Dealer.objects.count() == 8
    assert Dealer.objects.get(source_id="arroyo-subaru").website == "http://192.168.1.20:8080/sandbox/arroyo-subaru/"


@pytest.mark.parametrize("base_url", ["127.0.0.1:8000", "ftp://example.org", "http://", "http://host/?x=1"])
def test_it_refuses_a_base_url_that_is_not_a_web_address(db, base_url) -> None:
    with pytest.raises(CommandError, match=r"^--base-url must be an http\(s\) address"):
        load("--base-url", base_url)
    assert Dealer.objects.count() == 0


def test_it_refuses_to_load_when_the_sandbox_is_off(db, settings) -> None:
    settings.SANDBOX_ENABLED = False
    with pytest.raises(CommandError, match="^The sandbox is off: set SANDBOX_ENABLED=1"):
        load()
    assert Dealer.objects.count() == 0



# --- The real engine against every sandbox site ---------------------------------------

E2E_CUSTOMER = Customer(
    first_name="Alice",
    last_name="Buyer",
    email="alice.buyer@example.org",
    phone="+13105550123",
    zip_code="90210",
    message="Hello,\n\nI'm interested in the 2024 Toyota RAV4 XLE. Could you send me your best price?\n\n"
            "Thank you,\nAlice Buyer",
    vehicle_year="2024",
    vehicle_make="Toyota",
    vehicle_model="RAV4",
    vehicle_trim="XLE",
    # Not the first radio on the multi-field form, so a default cannot pass for a choice.
    preferred_contact="phone",
    city="Beverly Hills",
    state="CA",
)
E2E_OPTIONS = EngineOptions(allow_private_targets=True, min_dwell_s=0)


def posted_as(kind: str, value: object) -> object:
    """What a site received, in the form the customer's data is compared in."""
    if kind == "phone":
        digits = "".join(ch for ch in str(value) if ch.isdigit())
        return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
    # Browsers post a textarea's line breaks as CRLF.
    return str(value).replace("\r\n", "\n").strip()


def expected_as(kind: str) -> str:
    return E2E_CUSTOMER.phone_digits if kind == "phone" else getattr(E2E_CUSTOMER, kind).strip()


@pytest.fixture(scope="module")
def engine_thread():
    """One thread that owns the browser, as a worker does.

    Playwright's sync API keeps an event loop running on the thread that uses it, where
    Django refuses ORM calls; the test thread stays free for the database.
    """
    from contacts.engine import BrowserSession

    thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine")
    session = BrowserSession(E2E_OPTIONS)
    thread.submit(session.__enter__).result()
    yield thread, session
    thread.submit(session.__exit__, None, None, None).result()
    thread.shutdown()


@pytest.mark.browser
@pytest.mark.parametrize("site", SITES, ids=lambda s: s.slug)
def test_it_gets_each_sites_expected_outcome_from_the_real_engine(live_server, transactional_db, engine_thread,
                                                                   site) -> None:
    from contacts.engine import contact_dealer

    thread, session = engine_thread
    result = thread.submit(contact_dealer, f"{live_server.url}{site.path}", E2E_CUSTOMER, session=session,
                           options=E2E_OPTIONS, hooks=Hooks()).result()

    assert result.status == site.expected_outcome, result.error
    submissions = list(SandboxSubmission.objects.filter(site=site.slug))
    if site.expected_outcome != outcomes.SUBMITTED:
        assert submissions == [] and not result.submit_pressed
        return
    assert len(submissions) == 1
    received = submissions[0].fields
    assert {name: posted_as(kind, received.get(name, "")) for name, kind in site.expected_fields.items()} == {
        name: expected_as(kind) for name, kind in site.expected_fields.items()
    }
    if site.form == FORM_MULTI_FIELD:
        assert (received["department"], received[CONSENT_FIELD]) == ("sales", "yes")
        assert received[HONEYPOT_FIELD] == ""
        assert MARKETING_OPT_IN_FIELD not in received
