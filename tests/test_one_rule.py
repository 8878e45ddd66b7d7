"""Each rule has one home: the retention boundary, the retention in guest texts, the slug limit,
the login attempts' retention and the way a time is written."""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from conftest import add_staff, hidden_fields, post_checkin
from tracing_data import add_visit

from roros_checkin import create_app, db, queries, retention, venues
from roros_checkin.db import write_transaction
from roros_checkin import staff as staff_accounts
from roros_checkin.tracing import auth

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "roros_checkin"


def test_the_retention_boundary_is_computed_only_in_retention_py():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"RETENTION_DAYS\"?\]?\s*\*|timedelta\(days=retention", line) and path.name != "retention.py":
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert not offenders


def test_no_guest_text_or_poster_writes_the_retention_as_a_number():
    texts = [*(ROOT / "templates").rglob("*.html"), *PACKAGE.glob("translations/*/LC_MESSAGES/messages.po"),
             PACKAGE / "posters.py", PACKAGE / "forms.py"]
    fourteen = re.compile(r"\b14\s*(days?|dag(ar|er|ene)?|Tag(e|en)?)\b", re.IGNORECASE)
    offenders = [str(path.relative_to(ROOT)) for path in texts if fourteen.search(path.read_text(encoding="utf-8"))]
    assert not offenders


def test_guest_texts_follow_the_configured_retention(app_config):
    app = create_app({**app_config, "RETENTION_DAYS": 7})
    with app.app_context():
        conn = db.get_db()
        db.upgrade(conn)
        with write_transaction(conn):
            queries.insert_venue(conn, "kafe", "Kafé", "", 0)
    client = app.test_client()
    form = client.get("/v/kafe").get_data(as_text=True)
    assert "i 7 dager" in form and "Høyst 7 dager tilbake" in form and "14" not in form
    # A past visit 8 days back is past the 7-day retention: refused with the configured number.
    html = post_checkin(client, "kafe", visited_at="2026-11-12T18:00").get_data(as_text=True)
    assert "Besøk for mer enn 7 dager siden registreres ikke" in html


def test_one_slug_limit_for_venues_pages_and_the_schema(app, client, conn):
    longest, too_long = "a" * venues.SLUG_MAX_LENGTH, "a" * (venues.SLUG_MAX_LENGTH + 1)
    assert venues.clean_venue(longest, "Kafé", "")[0] == longest
    with pytest.raises(venues.VenueRefused, match=f"1-{venues.SLUG_MAX_LENGTH} lower-case"):
        venues.clean_venue(too_long, "Kafé", "")
    with write_transaction(conn):
        queries.insert_venue(conn, longest, "Kafé", "", 0)
    with pytest.raises(sqlite3.IntegrityError), write_transaction(conn):
        queries.insert_venue(conn, too_long, "Kafé", "", 0)
    assert client.get(f"/v/{longest}").status_code == 200
    assert client.get(f"/v/{too_long}").status_code == 404


def test_a_login_forgets_attempts_older_than_the_configured_retention(app_config, clock):
    app = create_app({**app_config, "LOGIN_ATTEMPT_RETENTION_HOURS": 48, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        conn = db.get_db()
        db.upgrade(conn)
        now = int(clock.now)
        with write_transaction(conn):
            queries.insert_login_attempt(conn, "per", "192.0.2.7", now - 72 * 3600, False)
            queries.insert_login_attempt(conn, "per", "192.0.2.7", now - 24 * 3600, False)
    client = app.test_client()
    client.post("/tracing/login", data={"username": "kari", "password": "wrong", "code": "000000"})
    with app.app_context():
        ages = sorted((now - row["at"]) // 3600 for row in db.get_db().execute("SELECT at FROM login_attempts"))
    assert ages == [0, 24]
    assert retention.login_attempts_not_before(app.config, now) == now - 48 * 3600


def test_guest_and_staff_pages_show_times_in_the_configured_timezone(app_config, clock):
    app = create_app({**app_config, "TIMEZONE": "Europe/Helsinki"})
    with app.app_context():
        conn = db.get_db()
        db.upgrade(conn)
        with write_transaction(conn):
            queries.insert_venue(conn, "kafe", "Kafé", "", 0)
        staff_id = add_staff(app)
        token = staff_accounts.start_session(conn, staff_id, int(clock.now))
        # 17:00 UTC is 19:00 in Helsinki (18:00 in Oslo).
        add_visit(conn, "kafe", "Per Hansen", "+4798765432", int(clock.now) - 3600)
    client = app.test_client()
    receipt = client.get(post_checkin(client, "kafe").headers["Location"]).get_data(as_text=True)
    assert "20.11.2026, 19:00" in receipt
    client.set_cookie(auth.COOKIE, token)
    fields = hidden_fields(client.get("/tracing/case").get_data(as_text=True))
    result = client.post("/tracing/case", data={**fields, "phone": "+4798765432", "case_ref": "2026/17",
                                                "onset": "2026-11-20"}).get_data(as_text=True)
    assert "fre. 20.11. 18:00" in result and "kl. 19:00" in result
