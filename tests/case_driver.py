"""Drive the real server as guests and a tracer do: check-ins, login, case search, states, SMS.

Used by the end-to-end test and by benchmarks/case_work.py (the cost of a case in clicks and seconds).
Each `click` is one thing the tracer does in the browser: press a button or follow a link.
"""
from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pyotp

from server import ROOT, Browser, Server

PASSWORD = "correct horse battery staple for tracing"
CASE_PHONE = "+4791234567"


def flask(server: Server, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=server.environ, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def prepare(server: Server, venue_name: str = "Kaffestuggu") -> pyotp.TOTP:
    """A venue and a tracer account (with its authenticator), as IT sets them up; the TOTP."""
    flask(server, "venues", "add", "kaffestuggu", venue_name)
    added = flask(server, "staff", "add", "kari", "--password-stdin", stdin=PASSWORD + "\n")
    return pyotp.parse_uri(re.search(r"otpauth://\S+", added).group(0))


def check_in(base: str, name: str, phone: str, language: str = "nb") -> None:
    """One guest's check-in through the real form, in the guest's language."""
    guest = Browser(base)
    guest.request(f"/lang/{language}")
    tokens = guest.form_tokens("/v/kaffestuggu")
    status, _, _ = guest.request("/v/kaffestuggu", {**tokens, "name": name, "phone": phone, "consent": "y",
                                                    "party_size": "1"})
    assert status == 303, status


@dataclass
class Tracer:
    """A logged-in tracer's browser, counting clicks."""

    browser: Browser
    clicks: int = 0
    pages: list[str] = field(default_factory=list)

    def get(self, path: str, click: bool = True) -> str:
        status, _, html = self.browser.request(path)
        assert status == 200, (path, status)
        self.clicks += click
        return html

    def post(self, path: str, data: dict | list, expect: int = 303) -> tuple[int, dict, str]:
        status, headers, html = self.browser.request(path, data)
        assert status == expect, (path, status, html[-500:])
        self.clicks += 1
        if status == 303:  # the browser follows the redirect by itself: no click
            html = self.get(headers["Location"].split("#")[0], click=False)
        return status, headers, html


def log_in(base: str, totp: pyotp.TOTP) -> Tracer:
    tracer = Tracer(Browser(base))
    tokens = tracer.browser.form_tokens("/tracing/login")
    tracer.post("/tracing/login", {"csrf_token": tokens["csrf_token"], "username": "kari", "password": PASSWORD,
                                   "code": totp.now()})
    return tracer


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html).group(1)


def search_case(tracer: Tracer, case_ref: str, phone: str = CASE_PHONE) -> str:
    """Type the case's phone and reference, search, and open the case: the case page's path."""
    form = tracer.get("/tracing/case")
    today = datetime.now(ZoneInfo("Europe/Oslo")).strftime("%Y-%m-%d")
    _, _, html = tracer.post("/tracing/case", {"csrf_token": csrf(form), "phone": phone, "case_ref": case_ref,
                                               "onset": today}, expect=200)
    path = re.search(r'href="(/tracing/cases/\d+)"', html).group(1)
    tracer.get(path)
    return path


def tap(tracer: Tracer, html: str, name: str, state: str) -> str:
    """Tap a state button on the line of `name`; the case page after it."""
    start = html.index(name)
    line_start = html.rindex('<li class="contact-line', 0, start)
    line = html[line_start:html.index("</li>\n", html.index('<div class="taps">', start))]
    for action, body in re.findall(r'<form method="post" action="([^"]+)">(.*?)</form>', line, re.S):
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', body))
        if fields["state"] == state:
            return tracer.post(action, fields)[2]
    raise AssertionError(f"no {state} button for that line")


def sms_everyone_not_reached(tracer: Tracer, case_path: str, expected: int) -> str:
    """Press "send SMS to everyone not reached", check the confirmation, confirm; the case page."""
    confirm = tracer.get(case_path + "/sms")
    assert f"<strong>{expected} telefonnumre</strong>" in confirm
    contacts = [("contact", value) for value in re.findall(r'name="contact" value="(\d+)"', confirm)]
    return tracer.post(case_path + "/sms", [("csrf_token", csrf(confirm)), *contacts])[2]


def wait_for_progress(tracer: Tracer, case_path: str, text: str, timeout: float = 60) -> str:
    """Reload the case page (as a tracer would) until it shows `text`."""
    deadline = time.monotonic() + timeout
    while True:
        html = tracer.get(case_path, click=False)
        if text in html:
            return html
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not shown within {timeout} s")
        time.sleep(0.2)


def sms_env(gateway_url: str, **extra: str) -> dict[str, str]:
    return {"ROROS_SMS_PROVIDER": "http", "ROROS_SMS_HTTP_URL": gateway_url, "ROROS_SMS_HTTP_TOKEN": "test-token",
            "ROROS_SMS_HTTP_TIMEOUT_SECONDS": "1", "ROROS_SMS_RETRY_SECONDS": "1",
            "ROROS_SMS_RETRY_MAX_SECONDS": "2", "ROROS_SMS_POLL_SECONDS": "1",
            "ROROS_RATELIMIT_ENABLED": "false", **extra}
