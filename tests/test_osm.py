"""OpenStreetMap dealers through Overpass: a recorded answer served from loopback, never the network."""

from __future__ import annotations

import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from contacts.geo import lookup_zip
from contacts.models import Dealer
from contacts.osm import OverpassClient, OverpassError, makes_from_tags, parse_retry_after, refresh_area

RECORDED = (Path(__file__).parent / "data" / "overpass_90210_25mi.json").read_bytes()


class FakeOverpass:
    """A loopback HTTP server answering from a script of (status, headers, body) replies."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, dict[str, str], bytes]] = []
        self.default = (200, {"Content-Type": "application/json"}, RECORDED)
        self.requests: list[dict] = []
        self.delay_s = 0.0
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                with fake._lock:
                    fake.in_flight += 1
                    fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
                    status, headers, body = fake.replies.pop(0) if fake.replies else fake.default
                    length = int(self.headers.get("Content-Length", 0))
                    fake.requests.append({"headers": dict(self.headers), "form": parse_qs(self.rfile.read(length).decode())})
                time.sleep(fake.delay_s)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with fake._lock:
                    fake.in_flight -= 1

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/interpreter"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def overpass(settings, db):
    fake = FakeOverpass()
    settings.OSM_ENABLED = True
    settings.OVERPASS_URL = fake.url
    settings.OVERPASS_BACKOFF_S = 0.01
    settings.OVERPASS_RETRIES = 2
    settings.OVERPASS_TIMEOUT_S = 5
    yield fake
    fake.stop()


def busy(retry_after: str | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "text/html"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return 429, headers, b"<html><body>Too Many Requests</body></html>"


def refresh_90210() -> object:
    place = lookup_zip("90210")
    return refresh_area(place.latitude, place.longitude, 25)


# --- Mapping the recorded answer -------------------------------------------------------------


def test_it_maps_the_recorded_answer_to_dealers(overpass) -> None:
    result = refresh_90210()
    assert (result.found, result.created, result.updated, result.unchanged) == (11, 8, 0, 0)
    dealers = {d.source_id: d for d in Dealer.objects.all()}
    assert set(dealers) == {
        "node/2475030101", "way/158392011", "node/4128809316", "way/203985547", "node/5521893640",
        "node/6034512298", "node/7711902845", "way/411200987",
    }
    assert all(d.source == "osm" for d in dealers.values())

    toyota = dealers["node/2475030101"]
    assert (toyota.name, toyota.website, toyota.website_key) == (
        "Hollywood Hills Toyota", "https://www.hollywoodhillstoyota.com/", "hollywoodhillstoyota.com"
    )
    assert (toyota.street, toyota.city, toyota.state, toyota.zip_code) == (
        "6000 Hollywood Boulevard", "Los Angeles", "CA", "90038"
    )
    assert (toyota.phone, toyota.makes, toyota.latitude, toyota.longitude) == (
        "+13235550142", ",toyota,", 34.0983471, -118.3381802
    )

    cdjr = dealers["way/158392011"]  # a way: placed at its centre; contact:* tags; makes from the name
    assert (cdjr.latitude, cdjr.longitude) == (34.0251836, -118.472459)
    assert (cdjr.website, cdjr.phone) == ("http://westsidecdjr.com/new-vehicles/", "+13105550187")
    assert cdjr.makes == ",chrysler,dodge,jeep,ram,"

    assert dealers["node/4128809316"].makes == ",buick,chevrolet,gmc,"  # a ;-list brand tag
    assert (dealers["node/4128809316"].city, dealers["node/4128809316"].state) == ("North Hollywood", "CA")
    benz = dealers["way/203985547"]
    assert (benz.makes, benz.state) == (",mercedes-benz,", "")  # "California" is not a state code
    assert dealers["node/5521893640"].makes == ",ford,"  # operator AutoNation, make from the name
    tesla = dealers["node/6034512298"]
    assert (tesla.name, tesla.makes, tesla.website_key) == ("Tesla", ",tesla,", "tesla.com")  # named by its brand
    used = dealers["node/7711902845"]
    assert (used.makes, used.phone, used.website_key) == ("", "+12135550199", "facebook.com/carlosusedcarsla")
    south_bay = dealers["way/411200987"]  # website wins over contact:website; city and state from the ZIP
    assert (south_bay.website, south_bay.city, south_bay.state) == ("https://www.southbayhonda.com/specials",
                                                                    "Torrance", "CA")


def test_it_skips_elements_without_a_usable_website(overpass) -> None:
    result = refresh_90210()
    assert len(result.skipped) == 3
    assert any("node/3310457720 has no website" == reason for reason in result.skipped)
    assert any("node/6034512299 has the same website as node/6034512298" == reason for reason in result.skipped)
    assert any(reason.startswith("node/8802301174") for reason in result.skipped)
    assert not Dealer.objects.filter(source_id__in=["node/3310457720", "node/6034512299", "node/8802301174"]).exists()


def test_it_changes_nothing_when_run_twice(overpass) -> None:
    refresh_90210()
    before = list(Dealer.objects.order_by("pk").values())
    result = refresh_90210()
    assert (result.created, result.updated, result.unchanged) == (0, 0, 8)
    assert list(Dealer.objects.order_by("pk").values()) == before


def test_it_asks_overpass_for_car_shops_with_a_website_around_the_point(overpass) -> None:
    refresh_90210()
    (request,) = overpass.requests
    query = request["form"]["data"][0]
    assert '"shop"="car"' in query and '["website"]' in query and '["contact:website"]' in query
    assert "around:40234,34.090100,-118.406500" in query  # 25 miles in metres
    assert "out center" in query and "[out:json][timeout:5]" in query
    assert request["headers"]["User-Agent"].startswith("DealerContact/")


@pytest.mark.parametrize(
    ("tags", "makes"),
    [
        ({"brand": "Toyota;Lexus", "name": "Lincoln Toyota"}, ",lexus,toyota,"),  # brand wins over the town
        ({"name": "Lincoln Honda"}, ",honda,lincoln,"),
        ({"brand": "Stellantis"}, ",alfa romeo,chrysler,dodge,fiat,jeep,maserati,ram,"),
        ({"name": "Galpin Motors", "operator": "Jaguar Land Rover"}, ",jaguar,land rover,"),
        ({"name": "Best Deal Auto"}, ""),
    ],
)
def test_it_maps_brand_operator_and_name_to_makes(tags, makes) -> None:
    assert makes_from_tags(tags) == makes


# --- Etiquette ---------------------------------------------------------------------------------


def test_it_waits_as_told_by_retry_after_then_succeeds(overpass, db) -> None:
    overpass.replies = [busy(retry_after="3")]
    waits: list[float] = []
    place = lookup_zip("90210")
    result = refresh_area(place.latitude, place.longitude, 25, client=OverpassClient(sleep=waits.append))
    assert waits == [3.0]
    assert len(overpass.requests) == 2
    assert result.created == 8 and Dealer.objects.count() == 8


def test_it_backs_off_doubling_on_gateway_timeouts(overpass, db) -> None:
    overpass.replies = [(504, {}, b"Gateway Timeout"), busy(), (200, {}, RECORDED)]
    waits: list[float] = []
    place = lookup_zip("90210")
    refresh_area(place.latitude, place.longitude, 25, client=OverpassClient(sleep=waits.append, backoff_s=2))
    assert waits == [2, 4]
    assert Dealer.objects.count() == 8


def test_it_really_retries_after_a_429_with_the_configured_backoff(overpass, db) -> None:
    overpass.replies = [busy()]
    result = refresh_90210()
    assert result.created == 8 and len(overpass.requests) == 2


def test_it_gives_up_after_the_retries_with_a_readable_error(overpass, db) -> None:
    overpass.replies = [busy(), busy(), busy(), busy()]
    with pytest.raises(OverpassError, match=r"^Overpass is busy \(HTTP 429\) after 3 tries; try again later\.$"):
        refresh_90210()
    assert len(overpass.requests) == 3
    assert Dealer.objects.count() == 0


def test_it_does_not_wait_hours_when_retry_after_says_so(overpass, db) -> None:
    overpass.replies = [busy(retry_after="3600")]
    waits: list[float] = []
    with pytest.raises(OverpassError, match="asks to wait 3600 seconds"):
        OverpassClient(sleep=waits.append).query("[out:json];node(1);out;")
    assert waits == [] and len(overpass.requests) == 1


def test_it_does_not_retry_a_refused_query(overpass, db) -> None:
    overpass.replies = [(400, {}, b"<p>Error: line 1: parse error</p>")]
    with pytest.raises(OverpassError, match=r"refused the query \(HTTP 400"):
        refresh_90210()
    assert len(overpass.requests) == 1


def test_it_reports_an_overpass_runtime_error(overpass, db) -> None:
    answer = {"version": 0.6, "elements": [], "remark": 'runtime error: Query timed out in "query" at line 3 after 26 seconds.'}
    overpass.replies = [(200, {}, json.dumps(answer).encode())]
    with pytest.raises(OverpassError, match="could not finish the query: runtime error: Query timed out"):
        refresh_90210()


def test_it_runs_one_query_at_a_time(overpass, db) -> None:
    overpass.delay_s = 0.2
    errors: list[Exception] = []

    def ask() -> None:
        try:
            OverpassClient().query("[out:json];node(1);out;")
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(overpass.requests) == 3
    assert overpass.most_in_flight == 1


def test_it_reads_retry_after_as_seconds_or_a_date() -> None:
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # already past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# --- The command and the view ------------------------------------------------------------------


def test_it_fetches_from_the_command_line(overpass, db) -> None:
    out = io.StringIO()
    call_command("fetch_osm_dealers", "--zip", "90210", "--radius", "25", stdout=out)
    assert out.getvalue().strip() == (
        "OpenStreetMap: 11 car dealers found; added 8, updated 0, unchanged 0, "
        "skipped 3 (no usable website, name or place)."
    )
    assert Dealer.objects.filter(source="osm").count() == 8


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--zip", "00000"], "--zip '00000' is not a known US ZIP code."),
        (["--zip", "90210", "--radius", "500"], "--radius must be from 1 to 200 miles; got 500."),
    ],
)
def test_it_refuses_bad_command_arguments(overpass, db, arguments, message) -> None:
    with pytest.raises(CommandError, match=message.replace(".", r"\.")):
        call_command("fetch_osm_dealers", *arguments)
    assert overpass.requests == []


def test_it_refuses_from_the_command_line_when_osm_is_off(overpass, settings, db) -> None:
    settings.OSM_ENABLED = False
    with pytest.raises(CommandError, match="set OSM_ENABLED=1"):
        call_command("fetch_osm_dealers", "--zip", "90210")
    assert overpass.requests == []


def test_it_turns_an_unreachable_overpass_into_one_line(overpass, settings, db) -> None:
    overpass.stop()  # nothing listens on the port any more
    with pytest.raises(CommandError, match=r"^Overpass could not be reached \(.*\) after 3 tries; try again later\.$"):
        call_command("fetch_osm_dealers", "--zip", "90210")


def test_it_refreshes_a_search_from_its_page(overpass, client, owner, search) -> None:
    client.force_login(owner)
    response = client.post(reverse("search_refresh_osm", args=[search.pk]), follow=True)
    assert response.redirect_chain == [(search.get_absolute_url(), 302)]
    assert Dealer.objects.filter(source="osm").count() == 8
    shown = [str(m) for m in response.context["messages"]]
    # The search keeps the dealers it found; this refresh is what adds the new ones to it, and it says so.
    assert len(shown) == 1 and shown[0].startswith(
        "OpenStreetMap: 11 car dealers found; added 8, updated 0, unchanged 0, "
        "skipped 3 (no usable website, name or place). Refreshed: 8 new dealers (")
    assert shown[0].endswith("; 0 unchanged.")
    assert search.results.count() == 8


def test_it_shows_the_overpass_error_on_the_search_page(overpass, client, owner, search) -> None:
    overpass.replies = [(400, {}, b"bad")]
    client.force_login(owner)
    response = client.post(reverse("search_refresh_osm", args=[search.pk]), follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Could not refresh from OpenStreetMap: Overpass refused the query (HTTP 400 Bad Request)."
    ]
    assert Dealer.objects.count() == 0


def test_it_hides_another_users_search(overpass, client, teammate, search) -> None:
    client.force_login(teammate)
    assert client.post(reverse("search_refresh_osm", args=[search.pk])).status_code == 404
    assert overpass.requests == [] and Dealer.objects.count() == 0


def test_it_is_not_there_when_osm_is_off(overpass, settings, client, owner, search) -> None:
    settings.OSM_ENABLED = False
    client.force_login(owner)
    assert client.post(reverse("search_refresh_osm", args=[search.pk])).status_code == 404
    assert overpass.requests == []


def test_it_needs_a_post_and_a_login(overpass, client, owner, search) -> None:
    url = reverse("search_refresh_osm", args=[search.pk])
    assert client.post(url).status_code == 302  # to the login page
    client.force_login(owner)
    assert client.get(url).status_code == 405
    assert overpass.requests == []
