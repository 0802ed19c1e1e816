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


def run(path: Path) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_dealers", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


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
    out, err = run(path)
    assert err.splitlines() == [
        "line 3: name is empty",
        "line 4: 'mailto:sales@badsite.com' is not a web address; only http and https sites can be contacted",
        "line 5: no latitude/longitude and ZIP code 00000 is unknown",
        "line 6: give both latitude and longitude, or neither (to use the ZIP code's centre)",
        "line 7: latitude 95.0 is not between -90 and 90",
        "line 8: state 'California' is not a two-letter US state code such as CA",
        "line 9: no website or source_id to tell this dealer apart",
        "line 10: same website as line 2 (goodone.com)",
        "line 13: 12 fields but the header names 11 (an unquoted comma?)",
    ]
    assert out.strip() == "imported 3 new, updated 0, unchanged 0, skipped 9 rows with errors"
    assert sorted(Dealer.objects.values_list("name", flat=True)) == ["Good One", "Good Two", "Multi-line\nName Motors"]


def test_it_changes_nothing_when_run_twice(db, tmp_path) -> None:
    path = write(tmp_path, HEADER + (
        "Bob's Ford,bobsford.com,3105550123,,,,90241,,,Ford,\n"
        "Ann's Honda,,,,,,90210,34.08,-118.40,Honda,ANN-1\n"
        "Broken,,,,,,90210,,,,\n"
    ))
    run(path)
    before = list(Dealer.objects.order_by("pk").values())
    out, err = run(path)
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
