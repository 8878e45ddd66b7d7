"""Chromium with every cookie blocked (the browser's own setting) checks in, checks out and uses the
kiosk against the real server; a form on another site posting to ours stores nothing."""
from __future__ import annotations

import http.server
import json
import threading

import pytest
from playwright.sync_api import expect

from browser_support import (CHROMIUM, CHROMIUM_ARGS, DEMO, PHONE, browser_context_args,  # noqa: F401
                             browser_type_launch_args, fill_guest, live_server, submit)
from server import free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def cookieless(playwright, live_server, tmp_path):
    """A phone whose browser blocks all cookies: Chromium's content setting, in its profile."""
    profile = tmp_path / "profile"
    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(
        json.dumps({"profile": {"default_content_setting_values": {"cookies": 2}}}))
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, base_url=live_server.base,
        locale="nb-NO", **PHONE)
    yield context
    context.close()


def test_a_browser_that_blocks_cookies_checks_in_and_out(cookieless, live_server):
    before = len(live_server.visits())
    page = cookieless.new_page()
    # The setting is in force: a page cannot set a cookie either.
    page.goto(f"/v/{DEMO}")
    assert page.evaluate("() => { document.cookie = 'probe=1'; return document.cookie }") == ""
    fill_guest(page)
    submit(page)
    expect(page.get_by_role("status").first).to_contain_text("Du er registrert")
    with page.expect_navigation():
        page.get_by_role("button", name="Sjekk ut").tap()
    expect(page.locator("body")).to_contain_text("Du er sjekket ut")
    rows = live_server.visits()[before:]
    assert len(rows) == 1 and rows[0]["left_at"] is not None
    assert cookieless.cookies() == []


def test_a_browser_that_blocks_cookies_checks_in_at_the_kiosk(cookieless, live_server):
    before = len(live_server.visits())
    page = cookieless.new_page()
    page.goto(f"/kiosk/{DEMO}")
    fill_guest(page)
    submit(page)
    assert page.url.endswith(f"/kiosk/{DEMO}/ok")
    assert [row["source"] for row in live_server.visits()[before:]] == ["kiosk"]


@pytest.fixture
def other_site(live_server):
    """A page on another site (localhost is another site than 127.0.0.1) with a form posting to ours."""
    form = (f'<!doctype html><title>x</title><form method="post" action="{live_server.base}/v/{DEMO}">'
            '<input name="name" value="Kari Nordmann"><input name="phone" value="912 34 567">'
            '<input name="consent" value="y"><input name="idempotency_key" value="crosssiteformkey0123456">'
            '<button>Send</button></form>').encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the handler's name is fixed by http.server)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(form)

        def log_message(self, *args):
            pass

    port = free_port()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://localhost:{port}/"
    httpd.shutdown()
    httpd.server_close()


def test_a_form_on_another_site_cannot_check_anyone_in(page, live_server, other_site):
    before = len(live_server.visits())
    page.goto(other_site)
    with page.expect_navigation():
        page.get_by_role("button", name="Send").click()
    expect(page.locator("h1")).to_have_text("Skjemaet ble sendt fra et annet nettsted")
    assert len(live_server.visits()) == before
