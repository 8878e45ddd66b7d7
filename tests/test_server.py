"""`python app.py --demo` on the real waitress server: a newcomer's first check-in."""
from __future__ import annotations

import sqlite3

import pytest

from server import Browser, Server

pytestmark = pytest.mark.slow


@pytest.fixture
def demo_server(tmp_path):
    server = Server(tmp_path, "--demo").start()
    yield server
    server.stop()


def test_demo_prints_the_guest_url_and_next_steps(tmp_path):
    server = Server(tmp_path, "--demo").start()
    output = server.stop()
    assert f"{server.base}/v/demo-kafe" in output
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
