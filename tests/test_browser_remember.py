"""Remember me on the guest's own phone, the form without JavaScript, and the page's weight."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from browser_support import (DEMO, GUEST_NAME, GUEST_PHONE, OTHER, PHONE, browser_context_args,  # noqa: F401
                             browser_type_launch_args, check_in, fill_guest, live_server, submit)

pytestmark = pytest.mark.browser
KEY = "roros-checkin-guest"
# The form page and everything it loads, as transferred to a phone.
BUDGET_BYTES = 30 * 1024


def saved_details(page):
    return page.evaluate(f"() => localStorage.getItem('{KEY}')")


def check_in_remembered_then_open_another_venue(page) -> None:
    """A guest checks in at one venue with "remember me" ticked, then scans another venue's poster."""
    page.goto(f"/v/{DEMO}")
    fill_guest(page)
    page.locator("#remember-me").check()
    submit(page)
    page.goto(f"/v/{OTHER}")


def test_remember_me_is_off_until_the_guest_ticks_it(page, live_server):
    check_in(page)
    assert saved_details(page) is None


def test_remember_me_keeps_details_on_the_phone_and_never_sends_the_choice(page, live_server):
    page.goto(f"/v/{DEMO}")
    fill_guest(page)
    page.get_by_label("Husk navnet og nummeret mitt på denne telefonen").check()
    with page.expect_request(lambda request: request.method == "POST") as posted:
        submit(page)
    sent = parse_qs(posted.value.post_data, keep_blank_values=True)
    assert set(sent) == {"idempotency_key", "name", "phone", "party_size", "area", "consent",
                         "visited_at"}
    assert json.loads(saved_details(page)) == {"name": GUEST_NAME, "phone": GUEST_PHONE}


def test_next_visit_anywhere_is_one_tap(page, live_server):
    check_in_remembered_then_open_another_venue(page)
    before = len(live_server.visits())  # the first check-in, not yet the one-tap one
    quick = page.get_by_role("button", name=f"Registrer meg som {GUEST_NAME}")
    expect(quick).to_be_visible()
    expect(page.locator("form.checkin")).to_be_hidden()
    with page.expect_navigation():
        quick.tap()
    expect(page.get_by_role("status")).to_contain_text("Du er registrert")
    expect(page.locator("dl.receipt")).to_contain_text("Kaffestuggu")
    rows = live_server.visits()
    assert len(rows) == before + 1 and rows[-1]["phone"] == "+4791234567"


def test_remembered_details_can_be_changed(page, live_server):
    check_in_remembered_then_open_another_venue(page)
    page.get_by_role("button", name="Endre opplysninger eller antall personer").tap()
    expect(page.locator("#name")).to_be_focused()
    expect(page.locator("#phone")).to_have_value(GUEST_PHONE)
    page.locator("#phone").fill("+46 70 123 45 67")
    page.locator("#party_size").fill("4")
    page.locator("#consent").check()
    submit(page)
    expect(page.get_by_role("status")).to_contain_text("Du er registrert")
    assert json.loads(saved_details(page))["phone"] == "+46 70 123 45 67"
    assert live_server.visits()[-1]["party_size"] == 4


def test_remembered_details_can_be_forgotten(page, live_server):
    check_in_remembered_then_open_another_venue(page)
    page.get_by_role("button", name="Glem opplysningene mine på denne telefonen").tap()
    expect(page.get_by_role("status")).to_have_text("Opplysningene dine er ikke lenger lagret på denne telefonen.")
    expect(page.locator("#name")).to_have_value("")
    expect(page.locator("#phone")).to_have_value("")
    assert saved_details(page) is None
    page.reload()
    expect(page.locator("#remembered")).to_be_hidden()
    expect(page.locator("form.checkin")).to_be_visible()


def test_a_form_sent_back_with_errors_is_not_replaced_by_the_shortcut(page, live_server):
    check_in_remembered_then_open_another_venue(page)
    page.get_by_role("button", name="Endre opplysninger eller antall personer").tap()
    page.locator("#party_size").fill("99")
    submit(page)
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator("form.checkin")).to_be_visible()
    expect(page.locator("#remembered")).to_be_hidden()
    expect(page.locator("#remember-me")).to_be_checked()


def test_the_form_works_without_javascript(browser, live_server):
    context = browser.new_context(**PHONE, base_url=live_server.base, java_script_enabled=False,
                                  locale="nb-NO")
    page = context.new_page()
    before = len(live_server.visits())
    page.goto(f"/v/{DEMO}")
    # The remember-me choice needs the script, so without it there is nothing to tick.
    expect(page.locator("#remember-choice")).to_be_hidden()
    fill_guest(page, consent=False)
    submit(page)
    expect(page.locator(".error-summary")).to_contain_text("Du må samtykke")
    page.locator("#consent").check()
    submit(page)
    expect(page.get_by_role("status")).to_contain_text("Du er registrert")
    page.get_by_role("button", name="Sjekk ut").tap()
    expect(page.get_by_text("Du er sjekket ut. Takk!")).to_be_visible()
    assert len(live_server.visits()) == before + 1
    context.close()


def test_form_page_is_light_and_loads_nothing_from_elsewhere(page, live_server):
    responses = []
    page.on("requestfinished", lambda request: responses.append(request))
    page.goto(f"/v/{DEMO}", wait_until="networkidle")
    origins = {"{0.scheme}://{0.netloc}".format(urlsplit(request.url)) for request in responses}
    assert origins == {live_server.base}
    total = 0
    for request in responses:
        sizes = request.sizes()
        total += sizes["responseHeadersSize"] + sizes["responseBodySize"]
    paths = sorted(urlsplit(request.url).path for request in responses)
    assert {f"/v/{DEMO}", "/static/style.css", "/static/remember.js"} <= set(paths)
    print(f"\nform page: {len(responses)} requests, {total} bytes transferred: {paths}")
    assert total < BUDGET_BYTES, f"{total} bytes: {paths}"
