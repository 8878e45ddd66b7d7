"""What the browser tests share: the real server (`python app.py` on waitress), a phone, axe.

Imported by the tests/test_browser_*.py modules (`from browser_support import *`), so the
pytest-playwright fixture overrides below apply to those modules only.
"""
from __future__ import annotations

import itertools
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe

from roros_checkin import db, queries
from roros_checkin.db import write_transaction
from roros_checkin import staff as staff_accounts
from server import Server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# No component updates, sync or background fetches: Chromium would keep calling Google's hosts.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# A mid-size phone (iPhone 12-15 class): 390×844 CSS pixels, touch, device pixel ratio 2.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
DEMO = "demo-kafe"
OTHER = "kaffestuggu"
CLOSED = "vinterstengt"
STAFF_PASSWORD = "correct horse battery staple"
GUEST_NAME = "Kari Nordmann"
GUEST_PHONE = "912 34 567"

_axe = Axe()
_staff_numbers = itertools.count(1)


@dataclass
class StaffAccount:
    username: str
    password: str
    totp_secret: str


@dataclass
class LiveServer:
    """The running app as a phone would reach it, plus its database for checking what was stored."""

    base: str
    database: Path

    def add_staff(self) -> StaffAccount:
        """A fresh tracing-team account: its own one-time-code seed, so no code is ever replayed."""
        account = StaffAccount(f"tracer{next(_staff_numbers)}", STAFF_PASSWORD, pyotp.random_base32())
        conn = db.connect(str(self.database))
        try:
            with write_transaction(conn):
                queries.insert_staff(conn, account.username, staff_accounts.hash_password(account.password), "tracer",
                                     account.totp_secret, int(time.time()))
        finally:
            conn.close()
        return account

    def visits(self) -> list[sqlite3.Row]:
        with sqlite3.connect(self.database) as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute("SELECT * FROM visits ORDER BY id").fetchall()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> LiveServer:
    """`python app.py --demo` served by waitress, with a second venue and a closed one."""
    directory = tmp_path_factory.mktemp("browser-server")
    # Many check-ins from one address in a few seconds: the public form's rate limit would stop them.
    server = Server(directory, "--demo", env={"ROROS_RATELIMIT_ENABLED": "false"}).start()
    conn = db.connect(str(server.database))
    try:
        now = int(time.time())
        with write_transaction(conn):
            queries.insert_venue(conn, OTHER, "Kaffestuggu", "Bergmannsgata 18", now)
            queries.insert_venue(conn, CLOSED, "Vinterstengt Bar", "Kjerkgata 9", now)
            queries.set_venue_active(conn, CLOSED, False)
    finally:
        conn.close()
    yield LiveServer(server.base, server.database)
    server.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    return {**browser_context_args, **PHONE, "base_url": live_server.base, "locale": "nb-NO"}


def assert_accessible(page) -> None:
    """axe-core: no violation of the WCAG 2.0/2.1 A and AA rules on the page as it is now."""
    results = _axe.run(page, options=WCAG_AA)
    assert results.violations_count == 0, results.generate_report()


def fill_guest(page, name: str = GUEST_NAME, phone: str = GUEST_PHONE, consent: bool = True) -> None:
    """Type the guest's details as a person would: tap a field, type, tick the box."""
    page.locator("#name").fill(name)
    page.locator("#phone").fill(phone)
    if consent:
        page.locator("#consent").check()


def submit(page) -> None:
    """Tap the form's button and wait for the page the server answers with."""
    with page.expect_navigation():
        page.locator("form.checkin button[type=submit]").tap()


def check_in(page, slug: str = DEMO, **fields) -> None:
    """From the QR code's address to the receipt."""
    page.goto(f"/v/{slug}")
    fill_guest(page, **fields)
    submit(page)
