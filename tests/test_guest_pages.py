"""The guest pages' HTML: what the server sends before any script runs."""
from __future__ import annotations

import re

from conftest import GOOD_GUEST, hidden_fields, post_checkin


def test_remember_me_choice_is_never_a_form_field(client, venue):
    html = client.get("/v/kaffestuggu").get_data(as_text=True)
    checkbox = html[html.index('id="remember-me"') - 30:html.index('id="remember-me"') + 80]
    assert "name=" not in checkbox
    assert 'src="/static/remember.js"' in html


def test_kiosk_offers_no_remember_me_and_loads_only_its_idle_script(client, venue):
    html = client.get("/kiosk/kaffestuggu").get_data(as_text=True)
    assert "remember-me" not in html and "remember.js" not in html
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/kiosk.js" defer>']
    assert 'autocomplete="off"' in html


def test_a_broken_hidden_field_is_reported_without_a_link_to_it(client, venue):
    page = client.get("/v/kaffestuggu").get_data(as_text=True)
    data = {**hidden_fields(page), **GOOD_GUEST, "idempotency_key": "x"}
    html = client.post("/v/kaffestuggu", data=data).get_data(as_text=True)
    assert "Skjemaet var ufullstendig" in html
    assert 'href="#idempotency_key"' not in html and 'href="#main"' in html


def test_guest_pages_have_no_inline_script_or_event_handlers(client, venue):
    receipt = post_checkin(client).headers["Location"]
    kiosk_done = post_checkin(client, path="/kiosk/").headers["Location"]
    for path in ("/", "/v/kaffestuggu", "/kiosk/kaffestuggu", receipt, kiosk_done, "/privacy", "/v/nope"):
        html = client.get(path).get_data(as_text=True)
        for tag in re.findall(r"<script[^>]*>", html):
            assert re.fullmatch(r'<script src="/static/[a-z]+\.js" defer>', tag), (path, tag)
        assert not re.search(r"\son[a-z]+\s*=", html), path
