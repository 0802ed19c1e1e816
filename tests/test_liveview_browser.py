"""The live view end to end: a real Huey consumer holds the dealer's page in the engine's
Chromium, the real ASGI app streams it and takes input, and a person's browser solves a
CAPTCHA stand-in that only a trusted click satisfies. The fixture server says what arrived."""

from __future__ import annotations

import json
import re
import time

import pytest
from django.test import Client
from playwright.sync_api import expect

from contacts import services
from contacts.live_models import LiveInput, LiveState, LiveView
from contacts.models import ContactAttempt
from tests.conftest import make_dealer
from tests.engine.conftest import THANKS, Reply, Site, page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A reCAPTCHA look-alike: the widget's markup in the form (so the engine reports
# `captcha`), its checkbox in a frame, and the response field its script sets only for a
# real (isTrusted) click. Fixed on the screen so a click can be aimed from the test.
CHECKBOX_AT = (70, 530)  # page coordinates of the checkbox's middle
CAPTCHA_FORM = page("""
<h1>Valley Motors</h1>
<form method="post" action="/send">
  <label for="fn">First Name *</label><input id="fn" name="first_name" required>
  <label for="ln">Last Name *</label><input id="ln" name="last_name" required>
  <label for="em">Email *</label><input id="em" name="email" type="email" required>
  <label for="msg">Comments</label><textarea id="msg" name="comments"></textarea>
  <div class="g-recaptcha" data-sitekey="fixture-site-key" style="position:fixed;left:40px;top:500px">
    <iframe src="/anchor" title="reCAPTCHA" style="border:0;width:300px;height:60px"></iframe>
    <textarea id="g-recaptcha-response" name="g-recaptcha-response" style="display:none"></textarea>
  </div>
  <button type="submit" style="position:fixed;left:40px;top:620px">Send Message</button>
</form>
<a id="away" href="ELSEWHERE" style="position:fixed;left:600px;top:700px;width:200px;height:40px;display:block">Our partner</a>
""")
LINK_AWAY_AT = (700, 720)
ANCHOR = page("""
<div id="box" role="checkbox" aria-checked="false" aria-label="I'm not a robot"
     style="width:60px;height:60px;border:2px solid #444;box-sizing:border-box;display:inline-block"></div>
<span>I'm not a robot</span>
<script>
document.getElementById('box').addEventListener('click', function (event) {
  if (!event.isTrusted) return;  // a script's click proves nothing
  this.setAttribute('aria-checked', 'true');
  this.style.background = '#2a2';
  parent.document.getElementById('g-recaptcha-response').value = 'trusted-' + Math.random().toString(36).slice(2);
});
</script>""", title="reCAPTCHA")


def send(info) -> Reply:
    if not str(info["data"].get("g-recaptcha-response", "")).startswith("trusted-"):
        return Reply(page("<p class=error>Please complete the CAPTCHA.</p>"), status=400)
    return Reply(THANKS)


@pytest.fixture
def elsewhere():
    site = Site({"GET /": page("<h1>Another site</h1>")})
    yield site
    site.close()


@pytest.fixture
def captcha_site(elsewhere):
    site = Site({"GET /": CAPTCHA_FORM.replace("ELSEWHERE", elsewhere.url), "GET /anchor": ANCHOR, "POST /send": send})
    yield site
    site.close()


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.1, why=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met in time {why()}")


def open_contexts() -> int:
    from contacts import worker

    session = worker._session
    pool = session._runtime.pool if session is not None else None
    return sum(g.open_contexts for g in pool.generations) if pool is not None else 0


class ViewerStream:
    """The live view's event stream as a viewer's page holds it open, through the real ASGI
    server: read in a thread, counting frames and noting states, until closed."""

    def __init__(self, server, user, attempt) -> None:
        import http.client
        import threading

        client = Client()
        client.force_login(user)
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        self.connection.request("GET", f"/attempts/{attempt.pk}/live/stream/",
                                headers={"Cookie": f"sessionid={client.cookies['sessionid'].value}"})
        self.response = self.connection.getresponse()
        assert self.response.status == 200, self.response.status
        self.frames = 0
        self.states: list[str] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event = ""
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "frame":
                    self.frames += 1
                elif line.startswith("data: ") and event == "state":
                    self.states.append(json.loads(line[6:])["state"])
        except (OSError, ValueError, AttributeError):
            pass  # closed by the test (http.client may trip over its own closed file)

    def close(self) -> None:
        """The viewer leaves: the browser drops the connection."""
        import socket

        try:
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.connection.close()


def captcha_attempt(owner, profile, site) -> ContactAttempt:
    """An attempt that met the CAPTCHA, as the worker leaves one."""
    dealer = make_dealer("Valley Motors", 34.1, -118.4, site.url)
    return ContactAttempt.objects.create(owner=owner, customer=profile, dealer=dealer, status="captcha",
                                         error="The contact form is protected by a CAPTCHA (reCAPTCHA); nothing was sent.")


def test_it_solves_a_captcha_by_a_real_click_in_the_live_view(owner, profile, asgi_server, huey_consumer,
                                                               captcha_site):
    from tests.browsers import person_browser

    dealer = make_dealer("Valley Motors", 34.1, -118.4, captcha_site.url)
    attempt = services.start_attempts(owner, profile, [dealer]).created[0]
    attempt = wait_for(lambda: ContactAttempt.objects.filter(pk=attempt.pk).exclude(
        status__in=["queued", "running"]).first())
    assert attempt.status == "captcha", attempt.error
    assert captcha_site.received == []

    client = Client()
    client.force_login(owner)
    session_cookie = client.cookies["sessionid"].value
    url = f"{asgi_server.url}/attempts/{attempt.pk}/live/"
    with person_browser() as browser:
        context = browser.new_context(viewport={"width": 1000, "height": 900})
        context.add_cookies([{"name": "sessionid", "value": session_cookie, "url": asgi_server.url}])
        # The viewer works under the site's strict Content-Security-Policy, with nothing refused.
        violations: list[str] = []
        context.expose_function("reportViolation", lambda text: violations.append(text))
        context.add_init_script("""document.addEventListener("securitypolicyviolation", (event) => {
          window.reportViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
        });""")
        person = context.new_page()
        person.goto(url)
        person.get_by_role("button", name="Open live view").click()
        person.wait_for_url(url)
        # Frames arrive over the stream once the engine has filled the form and handed it over.
        # (expect, not wait_for_function: the page's CSP forbids the eval that needs.)
        expect(person.locator("#live-state")).to_have_text(re.compile(r"^Live"), timeout=60_000)
        expect(person.locator("#live-frame")).to_have_attribute("src", re.compile(r"^data:image/jpeg"))
        assert captcha_site.received == []  # the filled form waits for the person

        # A click elsewhere solves nothing and sends nothing.
        image = person.locator("#live-frame")
        box = image.bounding_box()
        scale = box["width"] / 1366
        image.click(position={"x": 700 * scale, "y": 100 * scale})
        # The checkbox, aimed through the scaled image as a person would.
        image.click(position={"x": CHECKBOX_AT[0] * scale, "y": CHECKBOX_AT[1] * scale})
        expect(person.locator("#live-state")).to_have_text(re.compile(r"Sent"), timeout=60_000)
        assert violations == []
        context.close()

    attempt.refresh_from_db()
    assert attempt.status == "submitted", attempt.error
    assert attempt.submit_pressed_at is not None
    assert len(captcha_site.received) == 1
    sent = captcha_site.received[0]["data"]
    assert sent["g-recaptcha-response"].startswith("trusted-")
    assert sent["first_name"] == "Alice" and sent["email"] == "alice.buyer@example.org"
    live = LiveView.objects.get(attempt=attempt)
    assert live.state == LiveState.CLOSED and live.outcome == "submitted" and live.frame is None
    wait_for(lambda: open_contexts() == 0, timeout=10)
    time.sleep(1)  # anything that would send twice has had its chance
    assert len(captcha_site.received) == 1


def test_it_closes_the_live_view_at_its_time_limit(owner, profile, huey_consumer, captcha_site, settings):
    settings.LIVE_VIEW_LIMIT_S = 4
    attempt = captcha_attempt(owner, profile, captcha_site)
    client = Client()
    client.force_login(owner)
    client.post(f"/attempts/{attempt.pk}/live/open/")
    live = LiveView.objects.get(attempt=attempt)
    wait_for(lambda: LiveView.objects.filter(pk=live.pk, state=LiveState.LIVE).exists())
    assert open_contexts() == 1
    # The viewer stays: the limit, not the viewer leaving, closes it.
    live = wait_for(lambda: LiveView.objects.filter(pk=live.pk, state=LiveState.CLOSED).first(), timeout=30)
    assert "limit" in live.closed_reason
    wait_for(lambda: open_contexts() == 0, timeout=10)
    attempt.refresh_from_db()
    assert attempt.status == "captcha" and attempt.submit_pressed_at is None
    assert captcha_site.received == []
    # It may be opened again.
    assert client.post(f"/attempts/{attempt.pk}/live/open/").status_code == 302
    assert LiveView.objects.filter(attempt=attempt).count() == 2


def test_it_closes_the_live_view_when_the_viewer_leaves(owner, profile, asgi_server, huey_consumer, captcha_site,
                                                        settings):
    settings.LIVE_VIEW_IDLE_S = 3
    attempt = captcha_attempt(owner, profile, captcha_site)
    client = Client()
    client.force_login(owner)
    client.post(f"/attempts/{attempt.pk}/live/open/")
    live = LiveView.objects.get(attempt=attempt)
    viewer = ViewerStream(asgi_server, owner, attempt)
    # The open stream keeps the view open, however long the worker takes to fill the form.
    wait_for(lambda: viewer.frames > 0 and "live" in viewer.states)
    time.sleep(settings.LIVE_VIEW_IDLE_S + 2)
    assert LiveView.objects.get(pk=live.pk).state == LiveState.LIVE
    # Input still reaches it...
    response = client.post(f"/attempts/{attempt.pk}/live/input/",
                           json.dumps({"type": "wheel", "x": 10, "y": 10, "dx": 0, "dy": 40}),
                           content_type="application/json")
    assert response.status_code == 204
    # ...and when the viewer's page goes, the view closes and the browser context is released.
    viewer.close()
    live = wait_for(lambda: LiveView.objects.filter(pk=live.pk, state=LiveState.CLOSED).first(), timeout=30)
    assert "viewer left" in live.closed_reason
    wait_for(lambda: open_contexts() == 0, timeout=10)
    assert ContactAttempt.objects.get(pk=attempt.pk).status == "captcha"
    assert captcha_site.received == []
    assert not LiveInput.objects.filter(live_view=live).exists()


def test_another_user_cannot_open_or_drive_the_live_view(owner, teammate, profile, asgi_server, huey_consumer,
                                                        captcha_site, elsewhere):
    attempt = captcha_attempt(owner, profile, captcha_site)
    other = Client()
    other.force_login(teammate)
    base = f"/attempts/{attempt.pk}/live/"
    assert other.get(base).status_code == 404
    assert other.post(base + "open/").status_code == 404
    assert not LiveView.objects.exists()

    owner_client = Client()
    owner_client.force_login(owner)
    owner_client.post(base + "open/")
    live = LiveView.objects.get(attempt=attempt)
    viewer = ViewerStream(asgi_server, owner, attempt)
    wait_for(lambda: LiveView.objects.filter(pk=live.pk, state=LiveState.LIVE).exists())
    click = json.dumps({"type": "click", "x": CHECKBOX_AT[0], "y": CHECKBOX_AT[1]})
    assert other.post(base + "input/", click, content_type="application/json").status_code == 404
    assert other.get(base + "stream/").status_code == 404
    assert other.get(base).status_code == 404
    # The owner follows a link to another site: the page stays on the dealer's.
    owner_client.post(base + "input/", json.dumps({"type": "click", "x": LINK_AWAY_AT[0], "y": LINK_AWAY_AT[1]}),
                      content_type="application/json")
    time.sleep(1.5)
    assert elsewhere.hits == []
    assert LiveView.objects.get(pk=live.pk).state == LiveState.LIVE
    assert captcha_site.received == [] and ContactAttempt.objects.get(pk=attempt.pk).status == "captcha"
    owner_client.post(base + "input/", json.dumps({"type": "close"}), content_type="application/json")
    live = wait_for(lambda: LiveView.objects.filter(pk=live.pk, state=LiveState.CLOSED).first(), timeout=30)
    assert "closed before the CAPTCHA was solved" in live.closed_reason
    wait_for(lambda: "closed" in viewer.states, timeout=10)  # the viewer's page is told
    viewer.close()
    wait_for(lambda: open_contexts() == 0, timeout=10)


# A challenge the engine cannot read (its token field follows no widget's naming): only the
# person knows when it is done, and sends with the site's own button, which the site's
# script holds back until the challenge is answered.
UNKNOWN_CHALLENGE_FORM = page("""
<h1>Valley Motors</h1>
<form id="f" method="post" action="/send">
  <label for="fn">First Name *</label><input id="fn" name="first_name" required>
  <label for="ln">Last Name *</label><input id="ln" name="last_name" required>
  <label for="em">Email *</label><input id="em" name="email" type="email" required>
  <label for="msg">Comments</label><textarea id="msg" name="comments"></textarea>
  <div class="captcha-box" style="position:fixed;left:40px;top:500px">
    <iframe src="/anchor" title="Are you human?" style="border:0;width:300px;height:60px"></iframe>
    <input type="hidden" id="human_token" name="human_token">
  </div>
  <button type="submit" style="position:fixed;left:40px;top:620px;width:200px;height:40px">Send Message</button>
</form>
<script>
document.getElementById('f').addEventListener('submit', function (event) {
  if (!document.getElementById('human_token').value) event.preventDefault();
});
</script>""")
SEND_BUTTON_AT = (140, 640)


def send_with_human_token(info) -> Reply:
    if not str(info["data"].get("human_token", "")).startswith("trusted-"):
        return Reply(page("<p class=error>Please prove you are human.</p>"), status=400)
    return Reply(THANKS)


# The same site, sending a moment after the press (an "are you sure" pause, a slow script):
# later than the engine waits for a press to send, still seen, recorded and verified.
DELAYED_SEND_FORM = UNKNOWN_CHALLENGE_FORM.replace(
    "if (!document.getElementById('human_token').value) event.preventDefault();",
    "event.preventDefault(); if (document.getElementById('human_token').value) "
    "setTimeout(function () { document.getElementById('f').submit(); }, 2500);")


@pytest.mark.parametrize("form", [UNKNOWN_CHALLENGE_FORM, DELAYED_SEND_FORM], ids=["at-once", "delayed"])
def test_the_person_sends_with_the_sites_own_button_and_the_engine_verifies_once(owner, profile, asgi_server,
                                                                                  huey_consumer, form):
    site = Site({"GET /": form, "GET /anchor": ANCHOR.replace("g-recaptcha-response", "human_token"),
                 "POST /send": send_with_human_token})
    try:
        attempt = captcha_attempt(owner, profile, site)
        client = Client()
        client.force_login(owner)
        base = f"/attempts/{attempt.pk}/live/"
        assert client.post(base + "open/").status_code == 302
        live = LiveView.objects.get(attempt=attempt)
        viewer = ViewerStream(asgi_server, owner, attempt)
        wait_for(lambda: LiveView.objects.filter(pk=live.pk).exclude(state=LiveState.REQUESTED).exists())
        live.refresh_from_db()
        wait_for(lambda: LiveView.objects.filter(pk=live.pk, state=LiveState.LIVE).exists(), timeout=30,
                 why=lambda: LiveView.objects.get(pk=live.pk).closed_reason)

        def click(x, y):
            response = client.post(base + "input/", json.dumps({"type": "click", "x": x, "y": y}),
                                   content_type="application/json")
            assert response.status_code == 204

        # Send before the challenge is answered: the site holds it back, and the view goes on.
        click(*SEND_BUTTON_AT)
        wait_for(lambda: ContactAttempt.objects.filter(pk=attempt.pk, submit_pressed_at__isnull=False).exists())
        time.sleep(2.5)  # past the engine's wait for a submission to start
        assert site.received == []
        assert LiveView.objects.get(pk=live.pk).state == LiveState.LIVE
        # Answered, then sent with the site's own button: the engine verifies and records it.
        click(*CHECKBOX_AT)
        click(*SEND_BUTTON_AT)
        live = wait_for(lambda: LiveView.objects.filter(pk=live.pk, state=LiveState.CLOSED).first(), timeout=60)
        viewer.close()
        attempt.refresh_from_db()
        assert attempt.status == "submitted", attempt.error
        assert live.outcome == "submitted"
        assert len(site.received) == 1
        assert site.received[0]["data"]["human_token"].startswith("trusted-")
        wait_for(lambda: open_contexts() == 0, timeout=10)
    finally:
        site.close()


def test_a_form_that_answers_in_a_new_tab_is_sent_once_and_verified_there(owner, profile, asgi_server,
                                                                          huey_consumer, elsewhere):
    form = CAPTCHA_FORM.replace('<form method="post" action="/send">', '<form method="post" action="/send" target="_blank">')
    site = Site({"GET /": form.replace("ELSEWHERE", elsewhere.url), "GET /anchor": ANCHOR, "POST /send": send})
    try:
        attempt = captcha_attempt(owner, profile, site)
        client = Client()
        client.force_login(owner)
        base = f"/attempts/{attempt.pk}/live/"
        client.post(base + "open/")
        live = LiveView.objects.get(attempt=attempt)
        viewer = ViewerStream(asgi_server, owner, attempt)
        wait_for(lambda: LiveView.objects.filter(pk=live.pk, state=LiveState.LIVE).exists(),
                 why=lambda: LiveView.objects.get(pk=live.pk).closed_reason)
        client.post(base + "input/", json.dumps({"type": "click", "x": CHECKBOX_AT[0], "y": CHECKBOX_AT[1]}),
                    content_type="application/json")
        live = wait_for(lambda: LiveView.objects.filter(pk=live.pk, state=LiveState.CLOSED).first())
        viewer.close()
        attempt.refresh_from_db()
        assert attempt.status == "submitted", attempt.error
        assert len(site.received) == 1 and site.received[0]["data"]["g-recaptcha-response"].startswith("trusted-")
        wait_for(lambda: open_contexts() == 0, timeout=10)
    finally:
        site.close()
