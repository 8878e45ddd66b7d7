"""Case work in a phone browser against the real server: open the case, tap an outcome, see the progress."""
from __future__ import annotations


import pytest
from playwright.sync_api import expect

from browser_support import (OTHER, assert_accessible, browser_context_args,  # noqa: F401
                             browser_type_launch_args, check_in, live_server)
from test_browser_tracing import log_in, search_case

pytestmark = pytest.mark.browser


def test_a_tracer_opens_the_case_and_sets_a_contact_reached_in_one_tap(page, live_server):
    case_phone = "+47 415 56 001"
    for name, phone in (("Per Persen", case_phone), ("Lise Lund", "+47 415 56 002"),
                        ("Ola Lund", "+47 415 56 002")):
        check_in(page, slug=OTHER, name=name, phone=phone)
    log_in(page, live_server)
    search_case(page, "2026/0077", case_phone)
    with page.expect_navigation():
        page.get_by_role("link", name="Åpne saken: ring, sett status, send SMS").tap()
    expect(page.locator("h1")).to_have_text("Sak 2026/0077")
    expect(page.locator(".progress")).to_contain_text("0 av 2 nådd")
    line = page.locator("li.contact-line", has_text="Lise Lund, Ola Lund")
    expect(line).to_contain_text("2 personer på ett nummer: én samtale")
    assert_accessible(page)
    with page.expect_navigation():
        line.get_by_role("button", name="Nådd", exact=True).tap()
    expect(page.locator(".progress")).to_contain_text("2 av 2 nådd")
    expect(page.locator("li.contact-line", has_text="Lise Lund")).to_contain_text("Status: Nådd")
    assert_accessible(page)
