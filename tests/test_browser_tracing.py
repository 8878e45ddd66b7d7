"""The tracing team's pages in a phone browser against the real server: log in, look around, log out."""
from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import expect

from browser_support import (assert_accessible, browser_context_args,  # noqa: F401
                             browser_type_launch_args, live_server)

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
