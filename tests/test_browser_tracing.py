"""The tracing team's pages in a phone browser against the real server: log in, search a case, log out."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pyotp
import pytest
from playwright.sync_api import expect

from browser_support import (OTHER, assert_accessible, browser_context_args,  # noqa: F401
                             browser_type_launch_args, check_in, live_server)

pytestmark = pytest.mark.browser


def log_in(page, live_server) -> None:
    """Username and password, and the one-time code when the page asks for one."""
    staff = live_server.add_staff()
    page.goto("/tracing/")
    expect(page).to_have_url(f"{live_server.base}/tracing/login?next=/tracing/")
    page.get_by_label("Brukernavn").fill(staff.username)
    page.get_by_label("Passord").fill(staff.password)
    code = page.locator("#code")
    if code.count():
        code.fill(pyotp.TOTP(staff.totp_secret).now())
    with page.expect_navigation():
        page.get_by_role("button", name="Logg inn").tap()


def test_staff_log_in_and_out(page, live_server):
    log_in(page, live_server)
    expect(page).to_have_url(f"{live_server.base}/tracing/")
    expect(page.locator("h1")).to_have_text("Smittesporing")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Logg ut").tap()
    page.goto("/tracing/")
    expect(page).to_have_url(f"{live_server.base}/tracing/login?next=/tracing/")


def test_wrong_password_is_refused(page, live_server):
    staff = live_server.add_staff()
    page.goto("/tracing/login")
    page.get_by_label("Brukernavn").fill(staff.username)
    page.get_by_label("Passord").fill("not the password")
    with page.expect_navigation():
        page.get_by_role("button", name="Logg inn").tap()
    expect(page.get_by_role("alert")).to_contain_text("Feil brukernavn")
    page.goto("/tracing/")
    expect(page).to_have_url(f"{live_server.base}/tracing/login?next=/tracing/")


def search_case(page, case_ref: str, case_phone: str) -> None:
    """From the staff start page: a case search by phone with today as symptom onset, as a tracer does."""
    page.get_by_role("link", name="Søk på smittet").first.tap()
    page.get_by_label("Saksnummer").fill(case_ref)
    page.get_by_label("Telefonnummer til den smittede").fill(case_phone)
    page.get_by_label("Dato for symptomstart eller prøvetaking").fill(datetime.now(ZoneInfo("Europe/Oslo")).date().isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Søk", exact=True).tap()


def test_case_search_finds_who_was_there_at_the_same_time(page, live_server):
    # Two made-up guests at the same place at the same time: the case and a contact.
    case_phone, contact_name = "+47 415 55 001", "Lise Lund"
    for name, phone in (("Per Persen", case_phone), (contact_name, "+47 415 55 002")):
        check_in(page, slug=OTHER, name=name, phone=phone)
    log_in(page, live_server)
    search_case(page, "2026/0042", case_phone)
    result = page.locator("section.result")
    expect(result).to_contain_text(contact_name)
    expect(result).to_contain_text("Kaffestuggu")
    assert_accessible(page)
