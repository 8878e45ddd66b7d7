"""`python app.py --demo` on the real waitress server: a newcomer's first check-in."""
from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from server import ROOT, Browser, Server

pytestmark = pytest.mark.slow


@pytest.fixture
def demo_server(tmp_path):
    server = Server(tmp_path, "--demo").start()
    yield server
    server.stop()


def test_demo_prints_the_guest_url_and_next_steps(tmp_path):
    # A newcomer's first run: no PUBLIC_URL, a port of the test's choosing (not 8080).
    server = Server(tmp_path, "--demo", env={"ROROS_PUBLIC_URL": None}).start()
    output = server.stop()
    assert f"Guest check-in page:   {server.base}/v/demo-kafe" in output
    assert f"then log in at {server.base}/tracing/login" in output
    assert ":8080" not in output
    assert f"QR poster to print:    {tmp_path / 'demo-poster'}" in output
    assert list((tmp_path / "demo-poster").glob("*.pdf"))
    assert "flask staff add" in output and "/tracing/login" in output


def test_first_check_in_on_the_real_server(demo_server):
    browser = Browser(demo_server.base)
    tokens = browser.form_tokens("/v/demo-kafe")
    data = {**tokens, "name": "Kari Nordmann", "phone": "912 34 567", "consent": "y", "party_size": "1"}
    status, headers, _ = browser.request("/v/demo-kafe", data)
    assert status == 303
    status, _, html = browser.request(headers["Location"])
    assert status == 200 and "Du er registrert" in html and "Demo-kafé" in html
    # Committed before the response: another connection sees it at once.
    with sqlite3.connect(demo_server.database) as conn:
        assert conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 1


def test_server_binds_to_loopback_only(demo_server):
    assert demo_server.base.startswith("http://127.0.0.1:")
    status, _, body = Browser(demo_server.base).request("/healthz")
    assert (status, body) == (200, "ok\n")


def test_demo_twice_keeps_one_demo_venue(tmp_path):
    for _ in range(2):
        server = Server(tmp_path, "--demo").start()
        server.stop()
    with sqlite3.connect(tmp_path / "checkin.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM venues WHERE slug = 'demo-kafe'").fetchone()[0] == 1


def test_a_venue_edited_from_the_command_line_shows_on_the_running_server(demo_server):
    browser = Browser(demo_server.base)
    assert "Demo-kafé" in browser.request("/v/demo-kafe")[2]  # the page is rendered and kept
    edited = subprocess.run([sys.executable, "-m", "flask", "venues", "edit", "demo-kafe", "--name", "Kafé Kurant",
                             "--address", "Kjerkgata 2"], cwd=ROOT, env=demo_server.environ,
                            capture_output=True, text=True)
    assert edited.returncode == 0, edited.stderr
    for path in ("/v/demo-kafe", "/kiosk/demo-kafe", "/"):
        status, _, html = browser.request(path)
        assert status == 200 and "Kafé Kurant" in html and "Demo-kafé" not in html, path
