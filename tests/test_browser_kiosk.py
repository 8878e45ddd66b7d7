"""The venue's tablet in Chromium against the real server: a guest who walks away leaves nothing behind.

The server runs with a short KIOSK_IDLE_SECONDS, so the tablet's idle reset is acted out in seconds;
the time it really takes is measured and printed (run with -s to see it).
"""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from browser_support import (DEMO, GUEST_NAME, GUEST_PHONE, PHONE, assert_accessible,  # noqa: F401
                             browser_type_launch_args, fill_guest, submit)
from server import Browser, Server

pytestmark = pytest.mark.browser

IDLE_SECONDS = 4
# Without JavaScript the page cannot tell typing from quiet and empties itself on a fixed clock.
NOSCRIPT_SECONDS = 2 * IDLE_SECONDS
# How late the reset may come: a timer's lateness, the redirect and the new page's load.
SLACK_SECONDS = 1.5


@pytest.fixture(scope="module")
def kiosk_server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("kiosk-server"), "--demo",
                    env={"ROROS_RATELIMIT_ENABLED": "false", "ROROS_KIOSK_IDLE_SECONDS": str(IDLE_SECONDS)}).start()
    yield server
    server.stop()


def tablet(browser, server, javascript: bool = True):
    """The venue's tablet: a browser set to bokmål, as the venue set it up."""
    context = browser.new_context(**PHONE, base_url=server.base, locale="nb-NO", java_script_enabled=javascript)
    return context, context.new_page()


def expect_empty_form_in_bokmaal(page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page.locator("h1")).to_have_text("Registrering på Demo-kafé")
    expect(page.locator("#name")).to_have_value("")
    expect(page.locator("#phone")).to_have_value("")
    expect(page.locator("#consent")).not_to_be_checked()
    expect(page.locator(".error-summary")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(GUEST_NAME)


def wait_for_reset(page, since: float, limit: float) -> float:
    """Wait for the page to go away by itself; the seconds from `since` (the guest's last touch)."""
    with page.expect_navigation(timeout=(limit + 5) * 1000):
        pass
    return time.monotonic() - since


def test_guest_who_walks_away_leaves_an_empty_form_in_the_tablets_language(browser, kiosk_server):
    context, page = tablet(browser, kiosk_server)
    page.goto(f"/kiosk/{DEMO}")
    page.get_by_role("link", name="Svenska").tap()
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    fill_guest(page, consent=False)
    last_touch = time.monotonic()
    warning = page.get_by_role("alert")
    expect(warning).to_contain_text("Är du kvar?", timeout=IDLE_SECONDS * 1000)
    assert_accessible(page)
    elapsed = wait_for_reset(page, last_touch, IDLE_SECONDS)
    print(f"\nkiosk form reset {elapsed:.2f} s after the last touch (KIOSK_IDLE_SECONDS={IDLE_SECONDS})")
    assert IDLE_SECONDS <= elapsed <= IDLE_SECONDS + SLACK_SECONDS
    expect_empty_form_in_bokmaal(page)
    assert page.url == f"{kiosk_server.base}/kiosk/{DEMO}"
    # Back does not bring the last guest's details either.
    page.go_back()
    expect(page.locator("body")).not_to_contain_text(GUEST_NAME)
    context.close()


def test_form_sent_back_with_a_mistake_and_left_is_emptied(browser, kiosk_server):
    context, page = tablet(browser, kiosk_server)
    page.goto(f"/kiosk/{DEMO}")
    page.get_by_role("link", name="Deutsch").tap()
    fill_guest(page, phone="12")
    submit(page)
    answered = time.monotonic()
    expect(page.locator(".error-summary")).to_contain_text("Diese Telefonnummer können wir nicht anrufen")
    expect(page.locator("#name")).to_have_value(GUEST_NAME)
    elapsed = wait_for_reset(page, answered, IDLE_SECONDS)
    print(f"\nkiosk error page reset {elapsed:.2f} s after it was shown (KIOSK_IDLE_SECONDS={IDLE_SECONDS})")
    assert IDLE_SECONDS - 0.5 <= elapsed <= IDLE_SECONDS + SLACK_SECONDS
    expect_empty_form_in_bokmaal(page)
    context.close()


def test_a_guest_still_typing_keeps_the_form(browser, kiosk_server):
    context, page = tablet(browser, kiosk_server)
    page.goto(f"/kiosk/{DEMO}")
    name = page.locator("#name")
    name.tap()
    for letter in "Kari Nordm":  # slowly, a key every 0.8 s, for longer than the idle time
        page.keyboard.type(letter)
        page.wait_for_timeout(800)
    expect(name).to_have_value("Kari Nordm")
    # The warning, then "Continue": the guest keeps what they typed.
    expect(page.get_by_role("alert")).to_contain_text("Er du der fortsatt?", timeout=IDLE_SECONDS * 1000)
    keep = page.get_by_role("button", name="Fortsett")
    box = keep.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    keep.tap()
    expect(page.locator("#idle-warning")).to_be_hidden()
    page.wait_for_timeout(IDLE_SECONDS * 1000 - 1000)
    expect(name).to_have_value("Kari Nordm")
    context.close()


def test_an_untouched_empty_form_is_left_alone(browser, kiosk_server):
    context, page = tablet(browser, kiosk_server)
    page.goto(f"/kiosk/{DEMO}")
    page.evaluate("() => { window.stillTheSamePage = true; }")
    page.wait_for_timeout((IDLE_SECONDS + SLACK_SECONDS) * 1000)
    assert page.evaluate("() => window.stillTheSamePage === true")
    expect(page.locator("#idle-warning")).to_be_hidden()
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no script"])
def test_start_over_empties_the_form_at_once(browser, kiosk_server, javascript):
    context, page = tablet(browser, kiosk_server, javascript)
    page.goto(f"/kiosk/{DEMO}")
    page.get_by_role("link", name="English").tap()
    fill_guest(page)
    page.locator("#party_size").fill("3")
    started = time.monotonic()
    with page.expect_navigation():
        page.get_by_role("link", name="Start over").tap()
    assert time.monotonic() - started < 2
    expect_empty_form_in_bokmaal(page)
    expect(page.locator("#party_size")).to_have_value("1")
    page.go_back()  # the page the details were typed on comes back empty
    expect(page.locator("#name")).to_have_value("")
    expect(page.locator("#phone")).to_have_value("")
    context.close()


def test_without_javascript_the_form_is_emptied_within_a_bounded_time(browser, kiosk_server):
    context, page = tablet(browser, kiosk_server, javascript=False)
    page.goto(f"/kiosk/{DEMO}")
    loaded = time.monotonic()
    # The guest is told (Playwright's switch leaves <noscript> unrendered, so its text is read instead).
    assert f"Skjemaet tømmes hvert {NOSCRIPT_SECONDS}. sekund" in page.locator("main noscript").text_content()
    fill_guest(page)
    elapsed = wait_for_reset(page, loaded, NOSCRIPT_SECONDS)
    print(f"\nkiosk without JavaScript: emptied {elapsed:.2f} s after the page loaded")
    assert elapsed <= NOSCRIPT_SECONDS + SLACK_SECONDS
    expect_empty_form_in_bokmaal(page)
    context.close()


@pytest.mark.parametrize("path", ["/v/", "/kiosk/"])
def test_form_sent_back_with_a_mistake_is_never_stored(kiosk_server, path):
    browser = Browser(kiosk_server.base)
    tokens = browser.form_tokens(f"{path}{DEMO}")
    status, headers, html = browser.request(f"{path}{DEMO}", {**tokens, "name": GUEST_NAME, "phone": "12",
                                                            "consent": "y", "party_size": "1"})
    assert status == 400 and f'value="{GUEST_NAME}"' in html
    assert headers["Cache-Control"] == "no-store"


def test_back_button_never_brings_the_mistaken_form_back(browser, kiosk_server):
    context, page = tablet(browser, kiosk_server)
    page.goto(f"/v/{DEMO}")
    fill_guest(page, phone="12")
    submit(page)
    expect(page.locator("#name")).to_have_value(GUEST_NAME)
    page.locator("#phone").fill(GUEST_PHONE)
    submit(page)
    expect(page.get_by_role("status")).to_contain_text("Du er registrert")
    try:
        page.go_back()
    except Exception:  # noqa: BLE001 - Chromium may refuse to show a page it was told not to keep
        pass
    expect(page.locator("body")).not_to_contain_text(GUEST_NAME)
    expect(page.locator("input[value='Kari Nordmann']")).to_have_count(0)
    context.close()
