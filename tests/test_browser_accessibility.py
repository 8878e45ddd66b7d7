"""WCAG 2.1 AA in a real browser: axe on every page and state, and what axe cannot see."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from browser_support import (CLOSED, DEMO, GUEST_NAME, GUEST_PHONE, PHONE, assert_accessible,  # noqa: F401
                             browser_context_args, browser_type_launch_args, check_in, fill_guest, live_server,
                             submit)

pytestmark = pytest.mark.browser

# Everything a finger or a keyboard can reach.
INTERACTIVE = "a[href], button, input:not([type=hidden]), select, textarea, summary"


def form_with_errors(page):
    page.goto(f"/v/{DEMO}")
    page.locator("#name").fill("1234")
    page.locator("#phone").fill("abc")
    submit(page)


def receipt(page):
    check_in(page)


def after_check_out(page):
    check_in(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Sjekk ut").tap()


def kiosk_confirmation(page):
    page.goto(f"/kiosk/{DEMO}")
    fill_guest(page)
    submit(page)


def kiosk_with_errors(page):
    page.goto(f"/kiosk/{DEMO}")
    fill_guest(page, phone="12", consent=False)
    submit(page)


def remembered(page):
    page.goto(f"/v/{DEMO}")
    fill_guest(page)
    page.locator("#remember-me").check()
    submit(page)
    page.goto(f"/v/{DEMO}")
    expect(page.locator("#remembered")).to_be_visible()


def past_visit_open(page):
    page.goto(f"/v/{DEMO}")
    page.locator("details.retro summary").tap()


def tracing_login_failed(page):
    page.goto("/tracing/login")
    page.locator("#username").fill("nobody")
    page.locator("#password").fill("wrong password")
    with page.expect_navigation():
        page.locator("button[type=submit]").tap()


STATES = {
    "start page": lambda page: page.goto("/"),
    "form": lambda page: page.goto(f"/v/{DEMO}"),
    "form in German": lambda page: page.goto(f"/lang/de?next=/v/{DEMO}"),
    "form with a past visit open": past_visit_open,
    "form with errors": form_with_errors,
    "remembered guest": remembered,
    "receipt": receipt,
    "after check-out": after_check_out,
    "kiosk": lambda page: page.goto(f"/kiosk/{DEMO}"),
    "kiosk confirmation": kiosk_confirmation,
    "kiosk with errors": kiosk_with_errors,
    "privacy": lambda page: page.goto("/privacy"),
    "404": lambda page: page.goto("/v/no-such-place"),
    "closed venue": lambda page: page.goto(f"/v/{CLOSED}"),
    "tracing login": lambda page: page.goto("/tracing/login"),
    "tracing login failed": tracing_login_failed,
}


@pytest.mark.parametrize("state", STATES)
def test_no_axe_violations(page, live_server, state):
    STATES[state](page)
    assert_accessible(page)


@pytest.mark.parametrize("state", STATES)
def test_touch_targets_are_at_least_44_px(page, live_server, state):
    STATES[state](page)
    small = page.eval_on_selector_all(INTERACTIVE, """elements => elements
        .filter(e => e.getClientRects().length > 0)
        .map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect()])
        .filter(([_, box]) => box.width < 44 || box.height < 44)
        .map(([html, box]) => `${html} ${Math.round(box.width)}x${Math.round(box.height)}`)""")
    assert small == []


@pytest.mark.parametrize("state", STATES)
def test_no_sideways_scrolling_at_320_px(browser, live_server, state):
    context = browser.new_context(**{**PHONE, "viewport": {"width": 320, "height": 640}},
                                  base_url=live_server.base, locale="nb-NO")
    page = context.new_page()
    STATES[state](page)
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    context.close()
    assert widths[0] <= widths[1]


@pytest.mark.parametrize("state", ["form", "form in German", "form with errors", "receipt", "kiosk", "privacy"])
def test_text_at_200_percent_needs_no_sideways_scrolling(page, live_server, state):
    STATES[state](page)
    before = page.evaluate("() => document.querySelector('h1').getBoundingClientRect().height")
    page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
    after = page.evaluate("() => document.querySelector('h1').getBoundingClientRect().height")
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert after > before * 1.5  # the text really grew
    assert widths[0] <= widths[1]


def test_whole_check_in_by_keyboard_alone(page, live_server):
    page.goto(f"/v/{DEMO}")

    def tab_to(element_id: str) -> None:
        for _ in range(25):
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.id") == element_id:
                return
        raise AssertionError(f"Tab never reached #{element_id}")

    tab_to("name")
    page.keyboard.type(GUEST_NAME)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "phone"
    page.keyboard.type(GUEST_PHONE)
    tab_to("consent")
    page.keyboard.press("Space")
    expect(page.locator("#consent")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.locator("form.checkin button[type=submit]")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Du er registrert")
    for _ in range(25):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == "Sjekk ut":
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_text("Du er sjekket ut. Takk!")).to_be_visible()


def test_focus_is_visible_on_every_control(page, live_server):
    page.goto(f"/v/{DEMO}")
    for _ in range(16):
        page.keyboard.press("Tab")
        outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", page.evaluate("() => document.activeElement.outerHTML")


def test_error_summary_takes_focus_and_links_to_each_field(page, live_server):
    page.goto(f"/v/{DEMO}")
    submit(page)  # nothing filled in
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_have_attribute("role", "alert")
    links = summary.get_by_role("link")
    targets = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert targets == ["#name", "#phone", "#consent"]
    for i, target in enumerate(targets):
        links.nth(i).tap()
        expect(page.locator(target)).to_be_focused()


def test_every_field_has_a_visible_label_and_its_error_is_tied_to_it(page, live_server):
    form_with_errors(page)
    page.locator("details.retro summary").tap()
    fields = page.locator("form.checkin input:not([type=hidden])")
    for i in range(fields.count()):
        field = fields.nth(i)
        field_id = field.get_attribute("id")
        label = page.locator(f"label[for='{field_id}']")
        expect(label).to_be_visible()
        assert label.inner_text().strip()
    for field_id, message in [("name", "Navnet kan bare inneholde bokstaver"),
                              ("phone", "Dette er ikke et telefonnummer vi kan ringe"),
                              ("consent", "Du må samtykke")]:
        field = page.locator(f"#{field_id}")
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_accessible_description(re.compile(re.escape(message)))


def test_receipt_is_announced(page, live_server):
    check_in(page)
    status = page.get_by_role("status")
    expect(status).to_have_count(1)
    expect(status.get_by_role("heading", level=1)).to_have_text("Du er registrert")


def test_kiosk_confirmation_is_announced_and_large(page, live_server):
    kiosk_confirmation(page)
    heading = page.get_by_role("status").get_by_role("heading", level=1)
    expect(heading).to_have_text("Du er registrert")
    size = heading.evaluate("element => parseFloat(getComputedStyle(element).fontSize)")
    assert size >= 40
