"""In Chromium against the real server: a guest deletes a registration; the timeline as a tracer sees it."""
from __future__ import annotations

import io
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pyotp
import pytest
from PIL import Image
from playwright.sync_api import expect

from browser_support import (OTHER, STAFF_PASSWORD, assert_accessible, browser_context_args,  # noqa: F401
                             browser_type_launch_args, check_in, live_server)
from roros_checkin import db, queries
from roros_checkin.db import write_transaction
from roros_checkin import staff as staff_accounts

pytestmark = pytest.mark.browser


def receipt_token(page) -> str:
    return re.search(r"/r/([A-Za-z0-9_.-]+)$", page.url).group(1)


def small_touch_targets(page) -> list[str]:
    """Links and buttons a finger can reach that are smaller than 44×44 CSS pixels."""
    return page.eval_on_selector_all("a[href], button", """elements => elements
        .filter(e => e.getClientRects().length > 0)
        .map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect()])
        .filter(([_, box]) => box.width < 44 || box.height < 44)
        .map(([html, box]) => `${html} ${Math.round(box.width)}x${Math.round(box.height)}`)""")


def test_a_guest_deletes_a_registration_from_the_receipt(page, live_server):
    name = "Gunn Slettmeg"
    check_in(page, name=name, phone="+47 415 55 101")
    receipt = page.url
    assert small_touch_targets(page) == []
    assert any(row["name"] == name for row in live_server.visits())
    page.get_by_role("link", name="Slett denne registreringen").tap()
    expect(page.locator("h1")).to_have_text("Slette registreringen din?")
    assert_accessible(page)
    assert small_touch_targets(page) == []
    # Changing one's mind goes back to the receipt, with nothing deleted.
    page.get_by_role("link", name="Nei, behold registreringen").tap()
    expect(page).to_have_url(receipt)
    assert any(row["name"] == name for row in live_server.visits())
    page.get_by_role("link", name="Slett denne registreringen").tap()
    with page.expect_navigation():
        page.get_by_role("button", name="Slett for godt").tap()
    expect(page.get_by_role("status")).to_contain_text("Registreringen din er slettet")
    assert_accessible(page)
    assert not any(row["name"] == name for row in live_server.visits())
    assert name.encode() not in live_server.database.read_bytes()
    assert page.goto(receipt).status == 404


def add_admin(live_server) -> tuple[str, str]:
    username, secret = f"admin{time.monotonic_ns() % 10**8}", pyotp.random_base32()
    conn = db.connect(str(live_server.database))
    try:
        with write_transaction(conn):
            queries.insert_staff(conn, username, staff_accounts.hash_password(STAFF_PASSWORD), "admin", secret,
                                 int(time.time()))
    finally:
        conn.close()
    return username, secret


def log_in_as_admin(page, live_server) -> None:
    username, secret = add_admin(live_server)
    page.goto("/tracing/login")
    page.get_by_label("Brukernavn").fill(username)
    page.get_by_label("Passord").fill(STAFF_PASSWORD)
    code = page.locator("#code")
    if code.count():
        code.fill(pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.get_by_role("button", name="Logg inn").click()


@pytest.fixture
def desk(browser, live_server):
    """The tracing team's laptop: a wide window, and every console message kept (CSP reports land there)."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, base_url=live_server.base,
                                  locale="nb-NO")
    page = context.new_page()
    page.console_messages = []
    page.on("console", lambda message: page.console_messages.append(message.text))
    yield page
    context.close()


def test_the_case_timeline_is_drawn_accessible_and_within_the_csp(page, desk, live_server):
    case_phone = "+47 415 55 201"
    for name, phone in (("Tora Tidslinje", case_phone), ("Lars Linje", "+47 415 55 202")):
        check_in(page, slug=OTHER, name=name, phone=phone)
    log_in_as_admin(desk, live_server)
    desk.goto("/tracing/case")
    desk.get_by_label("Saksnummer").fill("2026/0077")
    desk.get_by_label("Telefonnummer til den smittede").fill(case_phone)
    desk.get_by_label("Dato for symptomstart eller prøvetaking").fill(
        datetime.now(ZoneInfo("Europe/Oslo")).date().isoformat())
    with desk.expect_navigation():
        desk.get_by_role("button", name="Søk", exact=True).click()
    picture = desk.get_by_role("img", name=re.compile("^Tidslinje, Kaffestuggu"))
    expect(picture).to_be_visible()
    expect(picture.locator("g.bar.contact.estimated")).to_have_count(1)
    box = picture.bounding_box()
    assert box["width"] > 600 and box["height"] > 60
    shot = Image.open(io.BytesIO(picture.screenshot())).convert("RGB")
    colours = {shot.getpixel((x, y)) for x in range(0, shot.width, 2) for y in range(0, shot.height, 2)}
    # The case's bar (dark red) and the contact's shared stretch (blue) are really painted.
    assert any(r > 120 and g < 60 and b < 60 for r, g, b in colours)
    assert any(b > 130 and r < 40 for r, g, b in colours)
    assert_accessible(desk)
    assert not [text for text in desk.console_messages if "Content Security Policy" in text]
    # On paper the timeline stays, the search form and buttons go.
    desk.emulate_media(media="print")
    expect(picture).to_be_visible()
    expect(desk.locator("form.search")).to_be_hidden()


def test_an_admin_finds_corrects_and_deletes_a_persons_visits(page, desk, live_server):
    phone = "+47 415 55 301"
    check_in(page, slug=OTHER, name="Rita Rettes", phone=phone)
    log_in_as_admin(desk, live_server)
    desk.get_by_role("link", name="Innsyn og sletting").click()
    desk.get_by_label("Saksnummer eller henvendelsesnummer").fill("INNSYN-2026/3")
    desk.get_by_label("Telefonnummer").fill(phone)
    with desk.expect_navigation():
        desk.get_by_role("button", name="Vis opplysningene").click()
    expect(desk.locator("table.person-visits")).to_contain_text("Rita Rettes")
    assert_accessible(desk)
    desk.locator("section.person-visit").first.get_by_label("Riktig navn").fill("Rita Rettet")
    with desk.expect_navigation():
        desk.get_by_role("button", name="Lagre rettingen").click()
    expect(desk.get_by_role("status")).to_have_text("Besøket er rettet.")
    expect(desk.locator("table.person-visits")).to_contain_text("Rita Rettet")
    with desk.expect_navigation():
        desk.get_by_role("button", name=re.compile("^Slett alle")).click()
    expect(desk.get_by_role("status")).to_have_text("1 besøk slettet for godt.")
    assert not any(row["phone"] == "+4741555301" for row in live_server.visits())
