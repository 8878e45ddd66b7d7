"""The audit log: every search, export and paper list, with who and why, and no guest's data."""
from __future__ import annotations

import sqlite3

import pytest

from conftest import FRIDAY_EVENING, add_staff, hidden_fields
from roros_checkin import db
from roros_checkin import staff as staff_accounts
from roros_checkin.tracing import auth
from tracing_data import add_visit, at

CASE_PHONE = "+4791234567"


def audit_rows(conn) -> list:
    return conn.execute("SELECT * FROM audit_log ORDER BY id").fetchall()


def form_token(client, page: str) -> dict:
    return hidden_fields(client.get(page).get_data(as_text=True))


@pytest.fixture
def traced(staff_client, conn, venue):
    """A tracer's day: a case search, its export, a venue search, a paper list."""
    add_visit(conn, "kaffestuggu", "Kari Nordmann", CASE_PHONE, "2026-11-19T18:00")
    add_visit(conn, "kaffestuggu", "Per Hansen", "+4798765432", "2026-11-19T18:30")
    case = {"phone": "912 34 567", "case_ref": "2026/17", "onset": "2026-11-20"}
    staff_client.post("/tracing/case", data={**form_token(staff_client, "/tracing/case"), **case})
    staff_client.post("/tracing/case/export", data={**form_token(staff_client, "/tracing/case"), **case})
    staff_client.post("/tracing/case", data={**form_token(staff_client, "/tracing/case"), "name": "Kari Nordmann",
                                             "case_ref": "2026/18", "onset": "2026-11-20"})
    staff_client.post("/tracing/venue", data={**form_token(staff_client, "/tracing/venue"), "venue": "kaffestuggu",
                                              "case_ref": "2026/19", "from": "2026-11-19T18:00",
                                              "to": "2026-11-19T21:00"})
    staff_client.post("/tracing/paper", data={**form_token(staff_client, "/tracing/paper"), "venue": "kaffestuggu",
                                              "date": "2026-11-19",
                                              "rows": "Ola Berg; 412 34 567; 19:00\nfeil linje"})
    return staff_client


def test_every_search_export_and_paper_list_is_logged(traced, conn):
    rows = [(r["staff"], r["action"], r["case_ref"], r["venue_slug"], r["window_from"], r["window_to"],
             r["result_count"], r["detail"]) for r in audit_rows(conn)]
    window = (at("2026-11-18T00:00"), FRIDAY_EVENING)
    assert rows == [
        ("kari", "case_search", "2026/17", None, *window, 1, "telefon …67"),
        ("kari", "case_export", "2026/17", None, *window, 1, "telefon …67"),
        ("kari", "case_search", "2026/18", None, *window, 1, "navn"),
        ("kari", "venue_search", "2026/19", "kaffestuggu", at("2026-11-19T18:00"), at("2026-11-19T21:00"), 2, None),
        ("kari", "paper_entry", None, "kaffestuggu", at("2026-11-19T00:00"), at("2026-11-20T00:00"), 1,
         "1 linjer avvist, 0 fantes fra før"),
    ]
    assert all(row["at"] == FRIDAY_EVENING for row in audit_rows(conn))


def test_audit_log_holds_no_guest_name_or_phone(traced, conn):
    text = " ".join(str(value) for row in audit_rows(conn) for value in tuple(row))
    for personal in ("Kari", "Nordmann", "Per", "Hansen", "Ola", "Berg", "91234567", "912 34 567", "98765432",
                     "41234567", "4791"):
        assert personal not in text


def test_a_refused_search_is_not_logged_as_a_search(staff_client, conn, venue):
    staff_client.post("/tracing/case", data={**form_token(staff_client, "/tracing/case"), "phone": CASE_PHONE,
                                             "onset": "2026-11-20"})
    assert audit_rows(conn) == []


def test_audit_entries_cannot_be_changed(traced, conn):
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit_log SET staff = 'someone'")


def test_admin_reads_the_audit_log_page(traced, app, client, conn):
    staff_id = add_staff(app, "anne", role="admin")
    with app.app_context():
        client.set_cookie(auth.COOKIE, staff_accounts.start_session(db.get_db(), staff_id, int(app.config["CLOCK"]())))
    response = client.get("/tracing/audit")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2026/17" in html and "eksport (smittet)" in html and "papirliste" in html and "telefon …67" in html
    assert "Nordmann" not in html and "91234567" not in html
    # The page offers nothing that changes the log.
    assert "<form method=\"post\" action=\"/tracing/audit" not in html
    assert client.post("/tracing/audit", data=form_token(client, "/tracing/case")).status_code == 405


def test_venue_activity_counts_check_ins_per_day_and_marks_silent_venues(staff_client, app, conn, venue, clock):
    from conftest import add_venue

    add_venue(app, "galleriet", "Galleriet")
    add_visit(conn, "kaffestuggu", "Kari Nordmann", CASE_PHONE, "2026-11-19T18:00")
    add_visit(conn, "kaffestuggu", "Per Hansen", "+4798765432", "2026-11-20T12:00")
    add_visit(conn, "kaffestuggu", "Ola Berg", "+4741234567", "2026-11-20T13:00")
    add_visit(conn, "galleriet", "Åse Øvrebø", "+4741234568", "2026-11-10T13:00")
    add_visit(conn, "galleriet", "Gammel Gjest", "+4741234569", int(clock.now) - 15 * 86400)
    from roros_checkin import activity
    from tracing_data import OSLO

    data = activity.venue_activity(conn, int(clock.now), OSLO, 14)
    assert len(data.days) == 15 and data.days[-1].isoformat() == "2026-11-20"
    by_slug = {venue.slug: venue for venue in data.venues}
    assert by_slug["kaffestuggu"].counts[-2:] == [1, 2] and by_slug["kaffestuggu"].total == 3
    assert by_slug["galleriet"].total == 1 and by_slug["galleriet"].silent_days == 10
    html = staff_client.get("/tracing/activity").get_data(as_text=True)
    assert "Galleriet" in html and "ingen på 10 dager" in html
