"""`manage.py import_dealers FILE.csv`: documented columns, line-numbered errors, idempotent."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from contacts.geo import lookup_zip
from contacts.models import Dealer
from tests.conftest import make_dealer

HEADER = "name,website,phone,street,city,state,zip,latitude,longitude,makes,source_id\n"


def write(tmp_path: Path, text: str, name: str = "dealers.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(path: Path, *options: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_dealers", str(path), *options, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(path: Path, *options: str) -> tuple[str, str]:
    """Run a file the command must refuse: its one-line error and what it listed on stderr."""
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import_dealers", str(path), *options, stdout=io.StringIO(), stderr=err)
    return str(failure.value), err.getvalue()


def test_it_imports_every_documented_column(db, tmp_path) -> None:
    path = write(tmp_path, HEADER + (
        'Bob\'s Ford,https://www.BobsFord.com/?utm_source=list,(310) 555-0123,1 Main St,Downey,ca,90241,'
        '33.94,-118.13,"Ford; Lincoln",B-1\n'
    ))
    out, err = run(path)
    assert out.strip() == "imported 1 new, updated 0, unchanged 0, skipped 0 rows with errors"
    assert err == ""
    dealer = Dealer.objects.get()
    assert (dealer.name, dealer.website, dealer.website_key) == ("Bob's Ford", "https://www.bobsford.com/", "bobsford.com")
    assert (dealer.phone, dealer.street, dealer.city, dealer.state, dealer.zip_code) == (
        "+13105550123", "1 Main St", "Downey", "CA", "90241"
    )
    assert (dealer.latitude, dealer.longitude, dealer.makes) == (33.94, -118.13, ",ford,lincoln,")
    assert (dealer.source, dealer.source_id) == ("csv", "B-1")


def test_it_places_a_dealer_without_coordinates_at_its_zip_code(db, tmp_path) -> None:
    path = write(tmp_path, "name,website,zip\nAnchorage Subaru,anchoragesubaru.example.com,99501\n"
                           "Hicksville Kia,hicksvillekia.com,11805\n")
    out, _ = run(path)
    assert "imported 2 new" in out
    anchorage = Dealer.objects.get(name="Anchorage Subaru")
    place = lookup_zip("99501")
    assert (anchorage.latitude, anchorage.longitude) == (place.latitude, place.longitude)
    assert (anchorage.city, anchorage.state) == ("Anchorage", "AK")  # filled in from the ZIP code
    assert Dealer.objects.get(name="Hicksville Kia").state == "NY"  # a PO-box ZIP code


BAD_ROWS = [
    "line 3: name is empty",
    "line 4: 'mailto:sales@badsite.com' is not a web address; only http and https sites can be contacted",
    "line 5: no latitude/longitude and ZIP code 00000 is unknown",
    "line 6: give both latitude and longitude, or neither (to use the ZIP code's centre)",
    "line 7: latitude 95.0 is not between -90 and 90",
    "line 8: state 'California' is not a two-letter US state code such as CA",
    "line 9: no website or source_id to tell this dealer apart",
    "line 10: same website as line 2 (goodone.com)",
    "line 11: a quoted cell runs from line 11 to line 12; cells must be on one line "
    "(an unbalanced \" that swallowed the rows after it?)",
    "line 13: 12 fields but the header names 11 (an unquoted comma?)",
]


def test_it_reports_bad_rows_with_their_line_numbers_and_imports_the_rest(db, tmp_path) -> None:
    path = write(tmp_path, HEADER + "\n".join([
        "Good One,goodone.com,,,,,90210,,,,",                        # line 2
        ",nameless.com,,,,,90210,,,,",                               # line 3
        "Bad Site,mailto:sales@badsite.com,,,,,90210,,,,",           # line 4
        "Nowhere Motors,nowhere.com,,,,,00000,,,,",                  # line 5
        "Half Placed,halfplaced.com,,,,,90210,34.0,,,",              # line 6
        "Far North,farnorth.com,,,,,,95.0,-150.0,,",                 # line 7
        "Bad State,badstate.com,,,,California,90210,,,,",            # line 8
        "Anonymous Autos,,,,,,90210,,,,",                            # line 9
        "Good One Again,http://www.goodone.com/used,,,,,90210,,,,",  # line 10
        '"Multi-line\nName Motors",multiline.com,,,,,90210,,,,',     # lines 11-12
        "Too Many,toomany.com,,,,,90210,,,,,extra",                  # line 13
        "Good Two,goodtwo.com,,,,,02134,,,,",                        # line 14
    ]) + "\n")
    # By default one bad row imports nothing, and every bad row is listed.
    message, err = refused(path)
    assert err.splitlines() == BAD_ROWS
    assert message == f"{path}: 10 rows with errors (listed above); nothing was imported. " \
                      "Fix them, or pass --skip-bad-rows to import the other rows."
    assert Dealer.objects.count() == 0

    out, err = run(path, "--skip-bad-rows")
    assert err.splitlines() == BAD_ROWS
    assert out.strip() == "imported 2 new, updated 0, unchanged 0, skipped 10 rows with errors"
    assert sorted(Dealer.objects.values_list("name", flat=True)) == ["Good One", "Good Two"]


def test_it_changes_nothing_when_run_twice(db, tmp_path) -> None:
    path = write(tmp_path, HEADER + (
        "Bob's Ford,bobsford.com,3105550123,,,,90241,,,Ford,\n"
        "Ann's Honda,,,,,,90210,34.08,-118.40,Honda,ANN-1\n"
        "Broken,,,,,,90210,,,,\n"
    ))
    run(path, "--skip-bad-rows")
    before = list(Dealer.objects.order_by("pk").values())
    out, err = run(path, "--skip-bad-rows")
    assert out.strip() == "imported 0 new, updated 0, unchanged 2, skipped 1 rows with errors"
    assert err.strip() == "line 4: no website or source_id to tell this dealer apart"
    assert list(Dealer.objects.order_by("pk").values()) == before


def test_it_updates_a_dealer_found_by_website_key_however_written(db, tmp_path) -> None:
    run(write(tmp_path, "name,website,zip\nBob's Ford,http://bobsford.com,90241\n"))
    out, _ = run(write(tmp_path, "name,website,zip,phone\nBob's Ford Lincoln,https://www.bobsford.com/new/,90241,3105550123\n",
                       name="second.csv"))
    assert out.strip() == "imported 0 new, updated 1, unchanged 0, skipped 0 rows with errors"
    dealer = Dealer.objects.get()
    assert (dealer.name, dealer.website, dealer.phone) == ("Bob's Ford Lincoln", "https://www.bobsford.com/new/", "+13105550123")


def test_it_updates_a_dealer_without_a_website_by_its_source_id(db, tmp_path) -> None:
    run(write(tmp_path, "name,source_id,zip\nAnn's Honda,ANN-1,90210\n"))
    out, _ = run(write(tmp_path, "name,source_id,zip\nAnn's Honda of Beverly Hills,ANN-1,90210\n", name="b.csv"))
    assert "updated 1" in out
    assert Dealer.objects.get().name == "Ann's Honda of Beverly Hills"


def test_it_never_overwrites_a_dealer_staff_entered(db, tmp_path) -> None:
    staff = make_dealer("Bob's Ford (checked by phone)", 33.9, -118.1, "https://bobsford.com/", source="admin")
    Dealer.objects.filter(pk=staff.pk).update(website_key="bobsford.com")
    out, _ = run(write(tmp_path, "name,website,zip,phone\nBob's Ford,bobsford.com,90241,3105550123\n"))
    assert "updated 1" in out
    staff.refresh_from_db()
    assert (staff.name, staff.source, staff.phone) == ("Bob's Ford (checked by phone)", "admin", "+13105550123")


def test_it_accepts_a_byte_order_mark_and_header_aliases(db, tmp_path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffName,Website,ZIP,Lat,Lng\nBob's Ford,bobsford.com,90241,33.9,-118.1\n".encode("utf-8"))
    out, _ = run(path)
    assert "imported 1 new" in out
    assert Dealer.objects.get().longitude == -118.1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("website,zip\nbobsford.com,90241\n", "missing required column(s): name"),
        ("name,zip\nBob's Ford,90241\n", "missing required column(s): website or source_id"),
        ("name,website\nBob's Ford,bobsford.com\n", "missing required column(s): zip (or latitude and longitude)"),
        ("name,website,zip,Website\nA,a.com,90210,b.com\n", "column(s) named twice: website"),
        ("", "empty; the first row must name the columns"),
    ],
)
def test_it_refuses_a_file_without_the_required_header(db, tmp_path, text: str, message: str) -> None:
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(write(tmp_path, text))
    assert Dealer.objects.count() == 0


def test_it_refuses_a_file_that_is_not_utf8(db, tmp_path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,website,zip\nMotors Peña,pena.com,90210\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8 text"):
        run(path)


def test_it_exits_non_zero_with_one_line_for_a_missing_file(tmp_path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dealercontact.test_settings", "VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "import_dealers", str(tmp_path / "nope.csv")],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip() == f"CommandError: {tmp_path / 'nope.csv'}: no such file"


def test_it_documents_the_columns_in_its_help() -> None:
    from contacts.management.commands.import_dealers import Command

    help_text = Command().create_parser("manage.py", "import_dealers").format_help()
    for column in ("name", "website", "phone", "street, city", "state", "zip", "latitude, longitude", "makes",
                   "source_id"):
        assert f"\n  {column}" in help_text, column


# --- all or nothing, strict CSV, on SQLite and PostgreSQL alike ---------------------------


def good_rows(count: int, start: int = 0) -> str:
    return "".join(f"Motors {n},motors{n}.com,,,,,90210,,,,\n" for n in range(start, start + count))


def test_a_bad_byte_after_thousands_of_good_rows_imports_nothing(db, tmp_path) -> None:
    path = tmp_path / "dealers.csv"
    path.write_bytes((HEADER + good_rows(3000)).encode() + "Motors Peña,pena.com,,,,,90210,,,,\n".encode("latin-1"))

    message, _ = refused(path)

    assert message == (f'{path}: line 3002: not UTF-8 text (byte 0xF1); save the spreadsheet as "CSV UTF-8"; '
                       "nothing was imported")
    assert Dealer.objects.count() == 0


def test_a_stray_quote_that_swallows_rows_is_an_error_naming_its_line(db, tmp_path) -> None:
    path = write(tmp_path, HEADER + good_rows(2) + '"Bob\'s Ford,bobsford.com,,,,,90210,,,,\n'
                 + good_rows(3, start=2) + 'Ann\'s Honda",annshonda.com,,,,,90210,,,,\n')

    message, err = refused(path)

    assert "nothing was imported" in message
    assert err.splitlines()[0].startswith("line 4: a quoted cell runs from line 4 to line 8")
    assert Dealer.objects.count() == 0

    # Closed in the middle of a later cell instead: the same line is named.
    path = write(tmp_path, HEADER + good_rows(2) + '"Bob\'s Ford,bobsford.com,,,,,90210,,,,\n'
                 + good_rows(3, start=2) + 'Ann"s Honda,annshonda.com,,,,,90210,,,,\n')
    message, _ = refused(path)
    assert message.startswith(f"{path}: line 4: a quoted cell opened here is followed by more text")
    assert Dealer.objects.count() == 0


def test_a_quote_never_closed_is_an_error_naming_its_line(db, tmp_path) -> None:
    path = write(tmp_path, HEADER + good_rows(2) + '"Bob\'s Ford,bobsford.com,,,,,90210,,,,\n' + good_rows(3, 2))

    message, _ = refused(path)

    assert message == (f'{path}: line 4: a quote opened here is never closed (an unbalanced " in a cell?); '
                       "nothing was imported")
    assert Dealer.objects.count() == 0


def test_it_refuses_nul_bytes_and_values_too_long_for_their_column(db, tmp_path) -> None:
    long_site = "https://" + "a" * 60 + ".example.com/" + "p" * 520
    path = write(tmp_path, HEADER + good_rows(3) + "\n".join([
        "Nul\x00Motors,nul.example.com,,,,,90210,,,,",  # line 5
        "Long City,longcity.example.com,,," + "c" * 500 + ",,90210,,,,",  # line 6
        "Long Site," + long_site + ",,,,,90210,,,,",  # line 7
        "N" * 201 + ",longname.example.com,,,,,90210,,,,",  # line 8
        "Long Id,,,,,,90210,,,," + "i" * 101,  # line 9
    ]) + "\n")

    message, err = refused(path)

    assert err.splitlines() == [
        "line 5: contains a NUL byte (is the file UTF-16, or not a CSV?)",
        "line 6: city is longer than 100 characters",
        "line 7: the web address is longer than 500 characters",
        "line 8: name is longer than 200 characters",
        "line 9: source_id is longer than 100 characters",
    ]
    assert "5 rows with errors" in message and "nothing was imported" in message
    assert Dealer.objects.count() == 0
    # The rest import once the bad rows are let go, and nothing too long reached the database.
    out, _ = run(path, "--skip-bad-rows")
    assert out.strip() == "imported 3 new, updated 0, unchanged 0, skipped 5 rows with errors"


def test_a_row_the_directory_refuses_undoes_the_whole_import(db, tmp_path) -> None:
    # Two directory rows already hold the website and the source id this row joins together.
    bobs = make_dealer("Bob's Ford", 33.9, -118.1, "https://bobsford.com/", source="csv")
    Dealer.objects.filter(pk=bobs.pk).update(website_key="bobsford.com")
    make_dealer("Ann's Honda", 34.0, -118.4, "", source="csv", source_id="ANN-1")
    before = Dealer.objects.count()
    path = write(tmp_path, HEADER + good_rows(2) + "Ann's Honda,bobsford.com,,,,,90210,,,,ANN-1\n")

    message, err = refused(path)

    assert message == f"{path}: 1 row conflicting with the directory (listed above); nothing was imported."
    assert err.startswith("line 4: ")
    assert Dealer.objects.count() == before


def test_it_never_shows_a_traceback(tmp_path) -> None:
    """Through manage.py: one readable line and a non-zero exit, whichever database."""
    path = tmp_path / "utf16.csv"
    path.write_bytes((HEADER + good_rows(2)).encode("utf-16-le"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dealercontact.test_settings", "VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "import_dealers", str(path)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "nothing was imported" in result.stderr
