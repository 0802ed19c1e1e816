"""Multi-step forms through a real browser, for what no fixture plugin does: a last step
whose send button is dressed as a Next."""

from __future__ import annotations

import pytest

from contacts.engine import outcomes
from tests.engine.conftest import Reply, page

pytestmark = pytest.mark.browser

ARROWS = page("""
<style>.pane{display:none}.pane.on{display:block}</style>
<h2>Request a Quote</h2>
<form id="q" novalidate>
  <div class="pane on" id="p1"><label for="n">Name</label><input id="n" name="name" required>
    <label for="e">Email</label><input id="e" name="email" type="email" required>
    <button type="button" class="btn next-step" id="go1">&rarr;</button></div>
  <div class="pane" id="p2"><label for="m">Your question</label><textarea id="m" name="message"></textarea>
    <button type="button" class="btn next-step" id="go2">&rarr;</button></div>
</form>
<div id="done" role="status"></div>
<script>
document.getElementById('go1').onclick = () => { p1.classList.remove('on'); p2.classList.add('on'); };
document.getElementById('go2').onclick = () => {
  fetch('/lead', {method: 'POST', body: new URLSearchParams(new FormData(document.getElementById('q')))})
    .then(() => { document.getElementById('q').remove(); document.getElementById('done').textContent = 'Thank you! We received your request.'; });
};
</script>""")


def test_a_step_button_that_turns_out_to_send_the_form_is_reported_as_sent(make_site, contact):
    site = make_site({"/": ARROWS, "POST /lead": Reply('{"ok": true}', content_type="application/json")})
    result = contact(site.url)
    assert [r["path"] for r in site.received] == ["/lead"]
    assert site.received[0]["data"]["email"] == "alice.buyer@example.org"
    assert result.status == outcomes.SUBMITTED, result.error
    assert result.submit_pressed
