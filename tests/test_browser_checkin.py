"""A guest's phone against the real server: QR to receipt, mistakes, check-out, a past visit, the kiosk."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from browser_support import (DEMO, GUEST_NAME, GUEST_PHONE, OTHER, browser_context_args,  # noqa: F401
                             browser_type_launch_args, check_in, fill_guest, live_server, submit)

pytestmark = pytest.mark.browser


def test_qr_code_to_receipt(page, live_server):
    before = len(live_server.visits())
    page.goto(f"/v/{OTHER}?area=Bord+7")
    expect(page.locator("h1")).to_have_text("Registrering på Kaffestuggu")
    expect(page.locator("#area")).to_have_value("Bord 7")
    fill_guest(page)
    page.locator("#party_size").fill("3")
    submit(page)
    assert re.search(r"/r/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}$", page.url)
    status = page.get_by_role("status")
    expect(status).to_contain_text("Du er registrert")
    receipt = page.locator("dl.receipt")
    expect(receipt).to_contain_text("Kaffestuggu")
    expect(receipt).to_contain_text("Bord 7")
    expect(receipt).to_contain_text("3")
    # The receipt never shows the guest's own details back.
    expect(page.locator("body")).not_to_contain_text(GUEST_NAME)
    expect(page.locator("body")).not_to_contain_text("34 567")
    rows = live_server.visits()[before:]
    assert [(row["source"], row["party_size"], row["area"]) for row in rows] == [("qr", 3, "Bord 7")]


def test_a_mistake_is_shown_and_corrected(page, live_server):
    before = len(live_server.visits())
    page.goto(f"/v/{DEMO}")
    fill_guest(page, phone="12")
    submit(page)
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Dette er ikke et telefonnummer vi kan ringe")
    phone = page.locator("#phone")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_value("12")
    expect(page.locator("#name")).to_have_value(GUEST_NAME)
    summary.get_by_role("link").tap()
    expect(phone).to_be_focused()
    phone.fill(GUEST_PHONE)
    page.locator("#consent").check()
    submit(page)
    expect(page.get_by_role("status")).to_contain_text("Du er registrert")
    assert len(live_server.visits()) == before + 1


def test_check_out_from_the_receipt(page, live_server):
    check_in(page)
    page.get_by_role("button", name="Sjekk ut").tap()
    expect(page.get_by_text("Du er sjekket ut. Takk!")).to_be_visible()
    expect(page.locator("dl.receipt")).to_contain_text("Gikk")
    expect(page.get_by_role("button", name="Sjekk ut")).to_have_count(0)
    assert live_server.visits()[-1]["left_at"] is not None


def test_a_past_visit_registered_afterwards(page, live_server):
    earlier = datetime.now(ZoneInfo("Europe/Oslo")).replace(second=0, microsecond=0) - timedelta(hours=26)
    page.goto(f"/v/{DEMO}")
    fill_guest(page)
    page.get_by_text("Jeg var her tidligere").tap()
    page.locator("#visited_at").fill(earlier.strftime("%Y-%m-%dT%H:%M"))
    submit(page)
    expect(page.get_by_role("status")).to_contain_text("Du er registrert")
    expect(page.locator("dl.receipt")).to_contain_text(earlier.strftime("%H:%M"))
    # Nobody checks out of a visit that is over.
    expect(page.get_by_role("button", name="Sjekk ut")).to_have_count(0)
    row = live_server.visits()[-1]
    assert (row["source"], row["arrived_at"]) == ("retro", int(earlier.timestamp()))


def test_kiosk_confirms_then_shows_an_empty_form_and_keeps_nothing(page, live_server):
    page.goto(f"/kiosk/{DEMO}")
    expect(page.locator("form.checkin")).to_have_attribute("autocomplete", "off")
    expect(page.locator("#remember-me")).to_have_count(0)
    # One script only, the tablet's own (the idle reset): nothing that keeps or sends what is typed.
    scripts = page.locator("script")
    expect(scripts).to_have_count(1)
    expect(scripts).to_have_attribute("src", "/static/kiosk.js")
    fill_guest(page)
    submit(page)
    expect(page.get_by_role("status")).to_contain_text("Du er registrert")
    assert live_server.visits()[-1]["source"] == "kiosk"
    # A few seconds later the tablet is ready for the next guest, by itself.
    page.wait_for_url(f"**/kiosk/{DEMO}", timeout=15_000)
    expect(page.locator("#name")).to_have_value("")
    expect(page.locator("#phone")).to_have_value("")
    expect(page.locator("#consent")).not_to_be_checked()
    kept = page.evaluate("() => [localStorage.length, sessionStorage.length]")
    assert kept == [0, 0]


def test_kiosk_next_guest_starts_in_the_tablets_language(page, live_server):
    page.goto(f"/kiosk/{DEMO}")
    page.get_by_role("link", name="Svenska").tap()
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    fill_guest(page)
    submit(page)
    expect(page.get_by_role("status")).to_contain_text("Du är registrerad")
    with page.expect_navigation():
        page.get_by_role("link", name="Nästa gäst").tap()
    expect(page.locator("html")).to_have_attribute("lang", "nb")


def test_kiosk_back_button_does_not_show_the_previous_guest(page, live_server):
    page.goto(f"/kiosk/{DEMO}")
    fill_guest(page)
    submit(page)
    page.go_back()
    expect(page.locator("#name")).to_have_value("")
    expect(page.locator("#phone")).to_have_value("")


def test_language_switch_sticks_across_pages(page, live_server):
    page.goto(f"/v/{DEMO}")
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    page.get_by_role("link", name="Deutsch").tap()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("h1")).to_have_text("Check-in bei Demo-kafé")
    assert page.url.endswith(f"/v/{DEMO}")
    fill_guest(page, phone="abc")
    submit(page)
    expect(page.locator(".error-summary")).to_contain_text("Diese Telefonnummer können wir nicht anrufen")
    fill_guest(page)
    submit(page)
    expect(page.get_by_role("status")).to_contain_text("Sie sind registriert")
    page.goto("/privacy")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("h1")).to_have_text("So werden Ihre Daten verwendet")


@pytest.mark.parametrize("name, lang, heading", [
    ("Norsk nynorsk", "nn", "Registrering på Demo-kafé"),
    ("English", "en", "Check in at Demo-kafé"),
    ("Svenska", "sv", "Incheckning på Demo-kafé"),
    ("Norsk bokmål", "nb", "Registrering på Demo-kafé"),
])
def test_every_language_can_be_chosen(page, live_server, name, lang, heading):
    page.goto(f"/v/{DEMO}")
    page.get_by_role("link", name=name).tap()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("h1")).to_have_text(heading)
    expect(page.get_by_role("link", name=name)).to_have_attribute("aria-current", "true")
