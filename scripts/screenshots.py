"""Phone-sized screenshots of the running app with demo data, for the README (run scripts/screenshots).

Starts `python app.py --demo` on a free port with a throw-away database, checks in made-up guests,
and saves small PNGs (390×844 CSS pixels at device pixel ratio 1, reduced to 64 colours).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import pyotp
from PIL import Image
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from roros_checkin import db, queries  # noqa: E402
from roros_checkin.db import write_transaction  # noqa: E402
from roros_checkin import staff as staff_accounts  # noqa: E402
from server import Server  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True,
         "has_touch": True, "locale": "nb-NO"}
TABLET = {"viewport": {"width": 820, "height": 1180}, "device_scale_factor": 1, "is_mobile": True,
          "has_touch": True, "locale": "nb-NO"}
DEMO = "demo-kafe"
STAFF_USER = "demo-tracer"
STAFF_PASSWORD = "demo password for screenshots"
# Made-up guests.
GUESTS = [("Kari Nordmann", "+47 412 34 567"), ("Ola Nordmann", "+47 412 34 568"),
          ("Anna Svensson", "+46 70 123 45 67"), ("Jonas Müller", "+49 151 2345 6789")]


def save(page: Page, out: Path, name: str) -> Path:
    """Screenshot the viewport and shrink it to a 64-colour PNG (text stays crisp, files stay small)."""
    path = out / f"{name}.png"
    page.screenshot(path=str(path))
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)
    print(f"{path}: {path.stat().st_size // 1024} KB")
    return path


def save_element(locator, out: Path, name: str) -> Path:
    """Screenshot one element (a picture on a page), reduced like save()."""
    path = out / f"{name}.png"
    locator.screenshot(path=str(path))
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)
    print(f"{path}: {path.stat().st_size // 1024} KB")
    return path


def check_in(page: Page, name: str, phone: str, area: str = "") -> None:
    page.goto(f"/v/{DEMO}" + (f"?area={area}" if area else ""))
    page.fill("#name", name)
    page.fill("#phone", phone)
    page.check("#consent")
    with page.expect_navigation():
        page.click("form.checkin button[type=submit]")


def yesterday_evening(database: Path) -> None:
    """Made-up visits at the demo venue last evening, written as stored rows: the case (the first
    guest) and contacts who checked out, who did not (an estimated end), and a short overlap."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from roros_checkin.validation import parse_local_time

    oslo = ZoneInfo("Europe/Oslo")
    day = (datetime.now(oslo).date() - timedelta(days=1)).isoformat()
    rows = [(GUESTS[0], "18:00", "20:30", "Bord 4"), (("Per Hansen", "+47 412 34 570"), "17:30", "18:40", "Bord 2"),
            (("Åse Øvrebø", "+47 412 34 571"), "19:00", None, "Bord 5"),
            (("Lise Lund", "+47 412 34 572"), "18:15", "21:00", "Bord 6"),
            (("Kort Besøk", "+47 412 34 573"), "20:20", "21:10", "Baren")]
    conn = db.connect(str(database))
    try:
        venue = queries.venue_by_slug(conn, DEMO)
        with write_transaction(conn):
            for number, ((name, phone), arrived, left, area) in enumerate(rows):
                arrived_at = parse_local_time(f"{day}T{arrived}", oslo)
                key = f"screenshot-visit-{number:04d}-yesterday"
                queries.insert_visit(conn, queries.NewVisit(
                    venue_id=venue["id"], name=name, phone="+47" + phone[4:].replace(" ", ""), party_size=1,
                    area=area, arrived_at=arrived_at, registered_at=arrived_at, source="qr",
                    idempotency_key=key, receipt_hash=None, consent_version=None))
                if left:
                    visit_id = conn.execute("SELECT id FROM visits WHERE idempotency_key = ?", (key,)).fetchone()[0]
                    queries.record_check_out(conn, visit_id, parse_local_time(f"{day}T{left}", oslo))
    finally:
        conn.close()


def log_in(page: Page, secret: str) -> None:
    page.goto("/tracing/login")
    page.fill("#username", STAFF_USER)
    page.fill("#password", STAFF_PASSWORD)
    if page.locator("#code").count():
        page.fill("#code", pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.click("form button[type=submit]")
    if page.locator("#code").count():  # two-factor as a second step
        page.fill("#code", pyotp.TOTP(secret).now())
        with page.expect_navigation():
            page.click("form button[type=submit]")


def tracing_result(page: Page, out: Path) -> None:
    """The case search's result for the first guest, when the tracing pages have one; else the start page."""
    page.goto("/tracing/case")
    form = page.locator("form.search")
    if not form.count():
        page.goto("/tracing/")
        save(page, out, "tracing")
        return
    form.locator("input[name=case_ref]").fill("2026/1234")
    form.locator("input[name=phone]").fill(GUESTS[0][1])
    form.locator("input[name=onset]").fill(date.today().isoformat())
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    page.locator("section.result").evaluate("element => element.scrollIntoView()")
    save(page, out, "tracing-result")
    timeline = page.locator("figure.timeline").first
    if timeline.count():
        save_element(timeline, out, "tracing-timeline")
    print_button = page.get_by_role("button", name="Ringeliste for utskrift")
    if print_button.count():
        with page.expect_navigation():
            print_button.click()
        page.emulate_media(media="print")
        save(page, out, "call-list")
        page.emulate_media(media="screen")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="folder for the PNGs")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium binary")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as directory:
        server = Server(Path(directory), "--demo", env={"ROROS_RATELIMIT_ENABLED": "false"}).start()
        try:
            secret = pyotp.random_base32()
            conn = db.connect(str(server.database))
            with write_transaction(conn):
                queries.insert_staff(conn, STAFF_USER, staff_accounts.hash_password(STAFF_PASSWORD), "tracer", secret,
                                     int(time.time()))
            conn.close()
            yesterday_evening(server.database)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
                phone = browser.new_context(**PHONE, base_url=server.base)
                page = phone.new_page()
                for index, (name, number) in enumerate(GUESTS[1:], start=2):
                    check_in(page, name, number, area=f"Bord {index}")
                    if index == 2:  # one guest checks out, so the timeline shows a known end too
                        with page.expect_navigation():
                            page.click("form[action$='/checkout'] button[type=submit]")
                page.goto(f"/v/{DEMO}?area=Bord+4")
                page.fill("#name", GUESTS[0][0])
                page.fill("#phone", GUESTS[0][1])
                save(page, args.out, "form")
                page.check("#remember-me")
                page.check("#consent")
                with page.expect_navigation():
                    page.click("form.checkin button[type=submit]")
                save(page, args.out, "receipt")
                page.goto(f"/v/{DEMO}")
                save(page, args.out, "remembered")
                page.goto(f"/lang/en?next=/v/{DEMO}")
                page.click("#remembered-forget")
                page.locator("#phone").fill("12")
                with page.expect_navigation():
                    page.click("form.checkin button[type=submit]")
                save(page, args.out, "form-errors-en")
                phone.close()

                tablet = browser.new_context(**TABLET, base_url=server.base)
                page = tablet.new_page()
                page.goto(f"/kiosk/{DEMO}")
                save(page, args.out, "kiosk")
                page.fill("#name", GUESTS[3][0])
                page.fill("#phone", GUESTS[3][1])
                page.check("#consent")
                with page.expect_navigation():
                    page.click("form.checkin button[type=submit]")
                save(page, args.out, "kiosk-done")
                tablet.close()

                # The tracing team works at a desk: a laptop-sized window.
                staff = browser.new_context(**{**PHONE, "viewport": {"width": 1024, "height": 720},
                                               "is_mobile": False, "has_touch": False}, base_url=server.base)
                page = staff.new_page()
                log_in(page, secret)
                tracing_result(page, args.out)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
