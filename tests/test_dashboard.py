"""The dashboard: who sees what, and whether its charts and tables tell the truth about known data."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts import charts, stats
from contacts.models import ContactAttempt, CustomerProfile
from tests.conftest import make_dealer

URL = "/dashboard/"


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user("stella", "stella@example.org", "password", is_staff=True)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def profile_for(user) -> CustomerProfile:
    return CustomerProfile.objects.create(
        owner=user, first_name="Bo", last_name="Buyer", email="bo@example.org", phone="+13105550199",
        zip_code="90210", vehicle_year=2023, vehicle_make="Honda", vehicle_model="Civic",
    )


def finish(owner, profile, dealer, status, *, days_ago=0, error="", platform="", timings=None) -> ContactAttempt:
    when = timezone.now() - timedelta(days=days_ago, minutes=5)
    return ContactAttempt.objects.create(
        owner=owner, customer=profile, dealer=dealer, status=status, error=error, site_platform=platform,
        phase_timings=timings or {}, started=when - timedelta(seconds=40), finished=when,
    )


@pytest.fixture
def known(owner, profile, teammate):
    """Eight finished attempts of the owner's with known outcomes, times, reasons and platforms,
    one still running, and one of the teammate's that the owner must never see counted."""
    d = [make_dealer(f"Dealer {i}", 34.0, -118.0, f"http://127.0.0.1:9/d{i}/") for i in range(9)]
    t = {"opening": 1.0, "finding_form": 2.0, "filling": 4.0}
    finish(owner, profile, d[0], "submitted", days_ago=0, platform="WordPress", timings={**t, "opening": 1.0})
    finish(owner, profile, d[1], "submitted", days_ago=0, platform="WordPress", timings={**t, "opening": 2.0})
    finish(owner, profile, d[2], "captcha", days_ago=0, platform="WordPress", timings={**t, "opening": 3.0})
    finish(owner, profile, d[3], "failed", days_ago=2, error="The site answered with HTTP 500.",
           platform="Dealer.com", timings={**t, "opening": 4.0})
    finish(owner, profile, d[4], "failed", days_ago=2, error="The site answered with HTTP 500.",
           platform="Dealer.com", timings={**t, "opening": 100.0})
    finish(owner, profile, d[5], "failed", days_ago=3, error="Timed out after 90 s while opening.")
    finish(owner, profile, d[6], "captcha", days_ago=3, platform="Dealer.com")
    finish(owner, profile, d[7], "cancelled", days_ago=3, platform="Dealer.com")
    # Outside the default 30 days: only in a longer period.
    finish(owner, profile, d[8], "submitted", days_ago=45, platform="DealerOn")
    ContactAttempt.objects.create(owner=owner, customer=profile, dealer=d[8], status="running",
                                  started=timezone.now())
    finish(teammate, profile_for(teammate), d[0], "no_form", days_ago=1, platform="Wix")
    return d


class Tables(HTMLParser):
    """Rows of every <table id=...> on the page, as lists of cell texts."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = None
        self._row = None
        self._cell = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = self.tables.setdefault(attrs["id"], [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def rects(html: str, chart_id: str) -> list[dict]:
    svg = re.search(rf'<svg[^>]*aria-labelledby="{chart_id}-title.*?</svg>', html, re.S).group(0)
    found = []
    for match in re.finditer(r'<rect class="bar ([\w-]+)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" '
                             r'height="([\d.]+)"><title>([^<]*)</title>', svg):
        css, x, y, w, h, title = match.groups()
        found.append({"css": css, "x": float(x), "y": float(y), "width": float(w), "height": float(h),
                      "title": title.replace("&#x27;", "'")})
    return found


# --- who sees what -----------------------------------------------------------------------


def test_it_shows_the_owner_only_their_own_attempts(owner, known):
    response = client_for(owner).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<p class="stat-value" id="finished-count">8</p>' in html
    assert "Your attempts" in html
    assert "1 more is queued or running now." in html
    # The teammate's no_form on a Wix site is nowhere.
    assert "Wix" not in html
    platforms = Tables(html).tables["table-platforms"]
    assert ["Wix", "1", "0", "0%"] not in platforms
    # No user picker for a non-staff user.
    assert 'name="user"' not in html


def test_it_shows_teammates_and_outsiders_none_of_the_owners_data(teammate, outsider, known):
    teammate_html = client_for(teammate).get(URL).content.decode()
    assert '<p class="stat-value" id="finished-count">1</p>' in teammate_html  # their own no_form
    assert "Dealer.com" not in teammate_html and "HTTP 500" not in teammate_html
    outsider_page = client_for(outsider).get(URL)
    assert outsider_page.status_code == 200
    html = outsider_page.content.decode()
    assert '<p class="stat-value" id="finished-count">0</p>' in html
    assert "Nothing finished in this period" in html
    assert '<p class="stat-value" id="success-rate">—</p>' in html


def test_it_404s_when_a_user_asks_for_someone_elses_dashboard(owner, teammate, outsider, known):
    assert client_for(teammate).get(URL, {"user": owner.pk}).status_code == 404
    assert client_for(outsider).get(URL, {"user": owner.pk}).status_code == 404
    assert client_for(owner).get(URL, {"user": "not-a-number"}).status_code == 404
    # Naming yourself is fine.
    assert client_for(owner).get(URL, {"user": owner.pk}).status_code == 200


def test_it_shows_staff_everyone_and_filters_by_user(staff, owner, teammate, known):
    client = client_for(staff)
    everyone = client.get(URL).content.decode()
    assert '<p class="stat-value" id="finished-count">9</p>' in everyone
    assert "Every user" in everyone and '<select name="user"' in everyone
    assert ["Wix", "1", "0", "0%"] in Tables(everyone).tables["table-platforms"]

    just_owner = client.get(URL, {"user": owner.pk}).content.decode()
    assert '<p class="stat-value" id="finished-count">8</p>' in just_owner
    assert f"Attempts by {owner.username}" in just_owner and "Wix" not in just_owner
    just_teammate = client.get(URL, {"user": teammate.pk}).content.decode()
    assert '<p class="stat-value" id="finished-count">1</p>' in just_teammate


def test_it_404s_for_staff_naming_a_missing_user(staff, db):
    assert client_for(staff).get(URL, {"user": 987654}).status_code == 404


def test_it_sends_anonymous_visitors_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_rejects_post_on_the_dashboard(owner, db):
    assert client_for(owner).post(URL).status_code == 405


def test_it_falls_back_to_thirty_days_for_an_unknown_period(owner, known):
    response = client_for(owner).get(URL, {"days": "abc"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<p class="stat-value" id="finished-count">8</p>' in html
    assert "Select a valid choice" in html


def test_it_is_linked_from_the_navigation(owner, db):
    html = client_for(owner).get(reverse("home")).content.decode()
    assert f'href="{URL}"' in html


# --- the numbers ------------------------------------------------------------------------


def test_its_tables_match_known_data(owner, known):
    html = client_for(owner).get(URL).content.decode()
    tables = Tables(html).tables

    # Success rate: 2 submitted of 7 finished that were not cancelled.
    assert '<p class="stat-value" id="success-rate">29%</p>' in html
    assert "2 of 7 finished attempts" in html

    assert tables["table-phases"][1:] == [
        # Opening: 1, 2, 3, 4, 100 s -> median 3, nearest-rank p95 100.
        ["Opening site", "5", "3.0 s", "100.0 s"],
        ["Finding form", "5", "2.0 s", "2.0 s"],
        ["Filling", "5", "4.0 s", "4.0 s"],
        ["Submitting", "0", "—", "—"],
        ["Verifying", "0", "—", "—"],
    ]
    assert tables["table-reasons"][1:] == [
        ["The site answered with HTTP 500.", "2"],
        ["Timed out after 90 s while opening.", "1"],
    ]
    # Cancelled attempts say nothing about a site's CAPTCHA: Dealer.com is 1 of 3, not of 4.
    assert tables["table-platforms"][1:] == [
        ["Dealer.com", "3", "1", "33%"],
        ["WordPress", "3", "1", "33%"],
        ["Unknown", "1", "0", "0%"],
    ]

    by_day = {row[0]: row[1:] for row in tables["table-over-time"][1:]}
    assert len(by_day) == 31  # every day of the period, empty ones too

    def day_of(dealer):
        day = timezone.localtime(ContactAttempt.objects.get(dealer=dealer, owner=owner).finished).date()
        return f"{day:%a %b} {day.day}, {day.year}"

    # Columns: submitted, unconfirmed, captcha, no_form, failed, cancelled, total.
    assert by_day[day_of(known[0])] == ["2", "0", "1", "0", "0", "0", "3"]
    assert by_day[day_of(known[3])] == ["0", "0", "0", "0", "2", "0", "2"]
    assert by_day[day_of(known[7])] == ["0", "0", "1", "0", "1", "1", "3"]
    assert sum(int(row[-1]) for row in by_day.values()) == 8


def test_its_charts_are_drawn_to_scale_from_known_data(owner, known):
    html = client_for(owner).get(URL).content.decode()

    # Outcomes over time: on the days with attempts, stacked segments whose heights are
    # proportional to the counts (whole-number steps: the scale's top is 3 for a tallest column of 3).
    columns = rects(html, "chart-over-time")
    assert sorted((r["css"], r["title"].split(": ")[1]) for r in columns) == sorted([
        ("series-submitted", "2 Submitted"), ("series-captcha", "1 CAPTCHA"),
        ("series-failed", "2 Failed"),
        ("series-captcha", "1 CAPTCHA"), ("series-failed", "1 Failed"), ("series-cancelled", "1 Cancelled"),
    ])
    unit = next(r["height"] for r in columns if r["title"].endswith("1 CAPTCHA"))
    for r in columns:
        count = int(r["title"].split(": ")[1].split()[0])
        assert r["height"] == pytest.approx(unit * count, abs=0.15)
    assert unit == pytest.approx(200 / 3, abs=0.15)  # plot height 200 px, scale 0..3
    assert re.findall(r'text-anchor="end">(\d+)</text>', html.split('id="chart-over-time-desc"')[1].split("</svg>")[0]) \
        == ["0", "1", "2", "3"]

    # Phases: each bar's width proportional to its seconds; the longest (p95 opening) is the scale.
    phases = rects(html, "chart-phases")
    longest = max(r["width"] for r in phases)
    opening_p95 = next(r for r in phases if r["title"] == "Opening site: 100.0 s")
    assert opening_p95["css"] == "series-p95" and opening_p95["width"] == longest
    filling_median = next(r for r in phases if r["title"] == "Filling: 4.0 s" and r["css"] == "series-median")
    assert filling_median["width"] == pytest.approx(longest * 4 / 100, abs=0.15)

    reasons = rects(html, "chart-reasons")
    assert [r["title"] for r in reasons] == ["The site answered with HTTP 500.: 2",
                                             "Timed out after 90 s while opening.: 1"]
    assert reasons[0]["width"] == pytest.approx(2 * reasons[1]["width"], abs=0.15)

    platforms = rects(html, "chart-platforms")
    assert [r["title"] for r in platforms] == ["Dealer.com: 33% (1 of 3)", "WordPress: 33% (1 of 3)",
                                               "Unknown: 0% (0 of 1)"]
    full = 720 - 290 - 120  # the whole plot width is 100 %
    assert platforms[0]["width"] == pytest.approx(full / 3, abs=0.15)


def test_it_counts_a_longer_period_by_week(owner, known):
    response = client_for(owner).get(URL, {"days": 365})
    html = response.content.decode()
    assert '<p class="stat-value" id="finished-count">9</p>' in html
    rows = Tables(html).tables["table-over-time"]
    assert rows[0][0] == "Week of"
    assert 52 <= len(rows) - 1 <= 54
    assert all(row[0].startswith("Mon ") for row in rows[1:])
    assert sum(int(row[-1]) for row in rows[1:]) == 9


def test_its_pages_have_no_inline_styles_or_handlers(owner, staff, known):
    for user in (owner, staff):
        html = client_for(user).get(URL).content.decode()
        assert not re.search(r"\sstyle=|\son[a-z]+=|<style", html)
        # Every chart is labelled for assistive technology.
        for match in re.finditer(r'<svg class="chart"[^>]*aria-labelledby="([\w-]+) ([\w-]+)"', html):
            assert f'id="{match.group(1)}"' in html and f'id="{match.group(2)}"' in html


# --- the pieces --------------------------------------------------------------------------


def test_percentile_is_a_value_that_occurred():
    assert stats.percentile([], 0.95) is None
    assert stats.percentile([7.0], 0.95) == 7.0
    values = [float(v) for v in range(1, 101)]
    assert stats.percentile(values, 0.95) == 95.0
    assert stats.percentile(values, 0.5) == 50.0


@pytest.mark.parametrize("value, integer, scale", [
    (0, True, (1, 1)), (3, True, (3, 1)), (7, True, (8, 2)), (10, True, (10, 5)), (11, True, (15, 5)),
    (0.5, True, (1, 1)), (10, False, (10, 2.5)), (95, False, (100, 25)), (101, False, (150, 50)),
    (0.33, False, (0.4, 0.1)),
])
def test_nice_scale(value, integer, scale):
    assert charts.nice_scale(value, integer=integer) == pytest.approx(scale)
