"""Shared fixtures: an app on a real SQLite file under tmp_path, a controllable clock, a venue, staff."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from roros_checkin import create_app, db, queries
from roros_checkin.db import write_transaction
from roros_checkin import staff as staff_accounts
from roros_checkin.tracing import auth

# 2026-11-20 18:00 Europe/Oslo (17:00 UTC): a Friday evening.
FRIDAY_EVENING = 1_795_194_000
TEST_PASSWORD = "correct horse battery staple"


@dataclass
class Clock:
    """The app's clock in tests: set `now` instead of sleeping."""

    now: float = FRIDAY_EVENING

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app_config(tmp_path: Path, clock: Clock) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": tmp_path / "instance",
        "DATABASE": str(tmp_path / "instance" / "checkin.sqlite3"),
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "PUBLIC_URL": "https://checkin.example.test",
        "CLOCK": clock,
        "RATELIMIT_ENABLED": False,
    }


@pytest.fixture
def app(app_config: dict):
    app = create_app(app_config)
    with app.app_context():
        db.upgrade(db.get_db())
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def conn(app):
    """A separate connection to the app's database file, as an operator's sqlite3 shell would be."""
    connection = db.connect(app.config["DATABASE"])
    yield connection
    connection.close()


def add_venue(app, slug: str = "kaffestuggu", name: str = "Kaffestuggu", active: bool = True) -> None:
    with app.app_context():
        conn = db.get_db()
        with write_transaction(conn):
            queries.insert_venue(conn, slug, name, "Bergmannsgata 18", int(app.config["CLOCK"]()))
            if not active:
                queries.set_venue_active(conn, slug, False)


@pytest.fixture
def venue(app) -> str:
    add_venue(app)
    return "kaffestuggu"


def add_staff(app, username: str = "kari", role: str = "tracer") -> int:
    with app.app_context():
        conn = db.get_db()
        with write_transaction(conn):
            return queries.insert_staff(conn, username, staff_accounts.hash_password(TEST_PASSWORD), role, None,
                                        int(app.config["CLOCK"]()))


@pytest.fixture
def staff_client(app, client):
    """A client with a live staff session (made directly, as a completed login leaves it)."""
    staff_id = add_staff(app)
    with app.app_context():
        token = staff_accounts.start_session(db.get_db(), staff_id, int(app.config["CLOCK"]()))
    client.set_cookie(auth.COOKIE, token)
    return client


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page (CSRF token, idempotency key)."""
    fields = {}
    for tag in re.findall(r"<input[^>]*type=\"hidden\"[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


GOOD_GUEST = {"name": "Kari Nordmann", "phone": "912 34 567", "consent": "y", "party_size": "2"}


def post_checkin(client, slug: str = "kaffestuggu", path: str = "/v/", **fields):
    """GET the form, then POST it with its tokens and the given fields (GOOD_GUEST by default)."""
    page = client.get(f"{path}{slug}")
    data = {**hidden_fields(page.get_data(as_text=True)), **GOOD_GUEST}
    data.update(fields)
    data = {key: value for key, value in data.items() if value is not None}
    return client.post(f"{path}{slug}", data=data)


def visit_rows(conn) -> list:
    return conn.execute("SELECT * FROM visits ORDER BY id").fetchall()
