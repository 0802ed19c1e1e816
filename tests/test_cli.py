"""manage.py contact_dealers: every bad input is one readable line, and real runs against
the fixture dealer sites write what the sites actually received."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tests.fixture_server import FixtureServer

GOOD_CUSTOMER = {
    "first_name": "Alice",
    "last_name": "Buyer",
    "email": "alice.buyer@example.org",
    "phone": "(310) 555-0123",
    "zip_code": "90210",
    "vehicle": {"year": 2024, "make": "Toyota", "model": "RAV4", "trim": "XLE"},
    "message": "Hello {dealer_name}, what is your best price on the {vehicle}?",
    "preferred_contact": "email",
}


@pytest.fixture
def files(tmp_path):
    """Write customer.json and dealers.csv (good ones unless told otherwise)."""

    def write(customer=GOOD_CUSTOMER, dealers="name,website\nSunset Auto,http://127.0.0.1:9/\n"):
        customer_file = tmp_path / "customer.json"
        customer_file.write_text(customer if isinstance(customer, str) else json.dumps(customer))
        dealers_file = tmp_path / "dealers.csv"
        dealers_file.write_text(dealers)
        return customer_file, dealers_file, tmp_path / "results.json"

    return write


def run(customer_file, dealers_file, out, *extra) -> str:
    stdout = StringIO()
    call_command("contact_dealers", "--customer", str(customer_file), "--dealers", str(dealers_file),
                 "--out", str(out), *extra, stdout=stdout)
    return stdout.getvalue()


def with_changes(**changes) -> dict:
    customer = json.loads(json.dumps(GOOD_CUSTOMER))
    for key, value in changes.items():
        if value is None:
            customer.pop(key)
        else:
            customer[key] = value
    return customer


@pytest.mark.parametrize(
    "customer, expected",
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        (with_changes(email=None, phone=None), "is missing email, phone"),
        (with_changes(vehicle={"year": 2024, "make": "Toyota"}), "vehicle is missing model"),
        (with_changes(vehicle="RAV4"), '"vehicle" must be an object'),
        (with_changes(first_name="  "), "'first_name' must be a non-empty string"),
        (with_changes(email="alice@"), "email 'alice@' is not a valid email address"),
        (with_changes(phone="555-0123"), "phone '555-0123' is not a valid US phone number"),
        (with_changes(phone="+44 20 7946 0958"), "is not a valid US phone number"),
        (with_changes(zip_code="00000"), "zip_code '00000' is not a known 5-digit US ZIP code"),
        (with_changes(zip_code="9021"), "is not a known 5-digit US ZIP code"),
        (with_changes(vehicle={"year": "new", "make": "Toyota", "model": "RAV4"}), "vehicle year 'new' is not a year"),
        (with_changes(preferred_contact="fax"), "preferred_contact 'fax' must be one of email, phone, text"),
        (with_changes(message=""), "message must be a non-empty string"),
        (with_changes(answers=["no"]), '"answers" must be an object'),
        (with_changes(answers={"pets": "no"}), "customer answers has unknown keys pets"),
        (with_changes(answers={"trade_in": "maybe"}), "customer answers.trade_in 'maybe': Trade-in: choose one of"),
        (with_changes(answers={"financing": 3}), "customer answers.financing 3: Financing: choose one of"),
    ],
)
def test_it_rejects_a_bad_customer_with_one_line(files, customer, expected):
    with pytest.raises(CommandError) as error:
        run(*files(customer=customer))
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "dealers, expected",
    [
        ("", "is empty; it needs a header with name and website"),
        ("name,url\nSunset Auto,http://127.0.0.1:9/\n", "has no website column (header: name, url)"),
        ("dealer,website\nSunset Auto,http://127.0.0.1:9/\n", "has no name column"),
        ("name,website\n\n", "has no dealer rows"),
        ('name,website\n"' + "x" * 200_000 + '",http://127.0.0.1:9/\n', "is not valid CSV at line 2"),
    ],
)
def test_it_rejects_a_bad_dealers_file_with_one_line(files, dealers, expected):
    with pytest.raises(CommandError) as error:
        run(*files(dealers=dealers))
    assert expected in str(error.value)


def test_it_names_a_missing_file(files, tmp_path):
    customer_file, dealers_file, out = files()
    with pytest.raises(CommandError, match="customer file not found: .*nowhere.json"):
        run(tmp_path / "nowhere.json", dealers_file, out)
    with pytest.raises(CommandError, match="dealers file not found"):
        run(customer_file, tmp_path / "nowhere.csv", out)
    with pytest.raises(CommandError, match="the folder for --out does not exist"):
        run(customer_file, dealers_file, tmp_path / "missing" / "results.json")


def test_it_rejects_a_dealers_file_that_is_not_text(files):
    customer_file, dealers_file, out = files()
    dealers_file.write_bytes(b"name,website\n\xff\xfe\x00garbage\n")
    with pytest.raises(CommandError, match="is not UTF-8 text"):
        run(customer_file, dealers_file, out)


@pytest.mark.parametrize("argument", [["--concurrency", "0"], ["--concurrency", "two"], ["--timeout", "0"],
                                      ["--min-dwell", "-1"], ["--min-dwell", "61"], ["--min-dwell", "soon"]])
def test_it_rejects_bad_numbers(files, argument):
    with pytest.raises(CommandError, match="must be at least 1|not a whole number|between 1 and 3600|between 0 and 60"
                                           "|not a number of seconds"):
        run(*files(), *argument)


def test_the_human_pace_wait_comes_from_the_setting_unless_the_command_says(settings):
    from contacts.cli import engine_options_from_settings

    settings.CONTACT_MIN_DWELL_S = 7
    assert engine_options_from_settings().min_dwell_s == 7
    assert engine_options_from_settings(min_dwell_s=0).min_dwell_s == 0
    assert engine_options_from_settings(min_dwell_s=2.5).min_dwell_s == 2.5


def test_a_bad_input_exits_non_zero_with_a_readable_line_and_no_traceback(files):
    customer_file, dealers_file, out = files(customer=with_changes(email="alice@"))
    finished = subprocess.run(
        [sys.executable, "manage.py", "contact_dealers", "--customer", str(customer_file),
         "--dealers", str(dealers_file), "--out", str(out)],
        cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "dealercontact.test_settings"},
    )
    assert finished.returncode != 0
    assert finished.stderr.strip() == "CommandError: customer email 'alice@' is not a valid email address"
    assert not out.exists()


# --- real runs against the fixture dealer sites -------------------------------------------


@pytest.fixture(scope="module")
def fixture_server():
    server = FixtureServer().start()
    yield server
    server.stop()


@pytest.fixture
def two_sites_and_two_unusable_rows(files, fixture_server):
    fixture_server.reset()
    dealers = (
        "name,website,city\n"
        f"Sunset Auto Sales,{fixture_server.url('wordpress-cf7')},Los Angeles\n"
        "No Website Motors,,Pasadena\n"
        f"Pacific Hyundai,{fixture_server.url('split-phone')},Torrance\n"
        "Mailto Motors,mailto:sales@example.org,Burbank\n"
    )
    return files(dealers=dealers)


@pytest.mark.browser
@pytest.mark.django_db  # the do-not-contact list is read from the database
def test_it_contacts_each_dealer_and_writes_what_happened(two_sites_and_two_unusable_rows, fixture_server):
    customer_file, dealers_file, out = two_sites_and_two_unusable_rows

    printed = run(customer_file, dealers_file, out, "--concurrency", "2", "--timeout", "45")

    results = json.loads(out.read_text())
    assert [(r["name"], r["status"]) for r in results] == [
        ("Sunset Auto Sales", "submitted"),
        ("No Website Motors", "failed"),
        ("Pacific Hyundai", "submitted"),
        ("Mailto Motors", "failed"),
    ]
    assert results[0]["website"] == fixture_server.url("wordpress-cf7")
    assert results[1]["error"] == "No website given, so it was not contacted."
    assert "not an http:// or https:// address" in results[3]["error"]
    for contacted in (results[0], results[2]):
        assert contacted["elapsed_s"] > 0
        assert contacted["screenshots"], contacted
        for path in contacted["screenshots"]:
            assert Path(path).parent == out.parent / "results_screenshots"
            assert Path(path).read_bytes()[:2] == b"\xff\xd8"  # JPEG
        kinds = {field["kind"]: field["value"] for field in contacted["fields"]}
        assert kinds.get("email") == "alice.buyer@example.org"
    assert results[1]["screenshots"] == [] and results[1]["elapsed_s"] == 0

    # Each dealer got its own rendering of the message, and nothing reached the others.
    (cf7,) = fixture_server.submissions("wordpress-cf7")
    assert cf7.value("your-message") == "Hello Sunset Auto Sales, what is your best price on the 2024 Toyota RAV4 XLE?"
    assert cf7.value("your-email") == "alice.buyer@example.org"
    (split,) = fixture_server.submissions("split-phone")
    assert split.value("questions") == "Hello Pacific Hyundai, what is your best price on the 2024 Toyota RAV4 XLE?"
    assert (split.value("day_phone_area"), split.value("day_phone_exchange"), split.value("day_phone_number")) == (
        "310", "555", "0123")

    assert "Contacting 2 of 4 dealers with 2 browser(s)" in printed
    assert "[3/4] Pacific Hyundai: filling" in printed
    assert "[2/4] No Website Motors: failed: No website given" in printed
    assert "Done: 2 submitted, 2 failed." in printed


@pytest.mark.browser
@pytest.mark.django_db
def test_a_dry_run_fills_but_sends_nothing(two_sites_and_two_unusable_rows, fixture_server):
    customer_file, dealers_file, out = two_sites_and_two_unusable_rows

    printed = run(customer_file, dealers_file, out, "--dry-run", "--timeout", "45")

    results = json.loads(out.read_text())
    assert fixture_server.submissions("wordpress-cf7") == []
    assert fixture_server.submissions("split-phone") == []
    assert "dry run: nothing will be submitted" in printed
    contacted = [results[0], results[2]]
    assert [r["status"] for r in contacted] == ["unconfirmed", "unconfirmed"]
    assert all(r["fields"] and r["screenshots"] for r in contacted)


@pytest.mark.django_db
def test_it_never_contacts_a_dealer_on_the_do_not_contact_list(files):
    from contacts.models import DoNotContact

    DoNotContact.objects.create(domain="bobsford.com", reason="Asked to be left alone")
    customer_file, dealers_file, out = files(dealers="name,website\nBob's Ford,https://sales.bobsford.com/contact\n")
    printed = run(customer_file, dealers_file, out)
    [result] = json.loads(out.read_text())
    assert result["status"] == "failed" and result["screenshots"] == []
    assert result["error"] == "Not contacted: bobsford.com is on the do-not-contact list (Asked to be left alone)."
    assert "Contacting 0 of 1 dealers" in printed


def test_it_refuses_a_message_over_the_length_cap(files, settings):
    settings.MESSAGE_MAX_CHARS = 300
    customer_file, dealers_file, out = files(customer=with_changes(message="x" * 301))
    with pytest.raises(CommandError, match="the limit is 300"):
        run(customer_file, dealers_file, out)
    assert not out.exists()


def test_it_reads_the_customers_answers_and_defaults_the_rest(files):
    from contacts.cli import load_customer

    customer_file, _dealers, _out = files(customer=with_changes(answers={"trade_in": "Yes", "best_time": "evening"}))
    customer = load_customer(customer_file).to_engine_customer("Sunset Auto")
    assert (customer.current_customer, customer.trade_in, customer.financing, customer.heard_about,
            customer.best_time) == ("no", "yes", "undecided", "internet", "evening")
