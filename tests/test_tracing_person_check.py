"""Staff abuse can be seen afterwards: the audit log keeps keyed hashes of who was searched, an admin
can ask "was this person looked up, by whom, for which case?", case references have the deployment's
format, and a tracer's 403 on an admin page is logged."""
from __future__ import annotations

import logging

import pytest

from conftest import add_staff, hidden_fields
from roros_checkin import audit, create_app, db
from roros_checkin import staff as staff_accounts
from roros_checkin.tracing import auth
from tracing_data import add_visit

CASE_PHONE = "+4791234567"


def token(client, page: str = "/tracing/case") -> dict:
    return hidden_fields(client.get(page).get_data(as_text=True))


def search(client, **fields):
    data = {"case_ref": "2026/1234", "onset": "2026-11-20", **fields}
    return client.post("/tracing/case", data={**token(client), **data})


def log_in(app, client, username: str, role: str) -> None:
    staff_id = add_staff(app, username, role=role)
    with app.app_context():
        client.set_cookie(auth.COOKIE, staff_accounts.start_session(db.get_db(), staff_id, int(app.config["CLOCK"]())))


@pytest.fixture
def admin(app):
    client = app.test_client()
    log_in(app, client, "anne", "admin")
    return client


def check(client, status: int = 200, **fields):
    response = client.post("/tracing/audit/person",
                           data={**token(client, "/tracing/audit/person"), "reason": "klage 2026/77", **fields})
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


@pytest.mark.parametrize("typed_by_tracer, typed_by_admin", [
    ({"phone": "912 34 567"}, {"phone": "+47 91 23 45 67"}),
    ({"phone": "+4791234567"}, {"phone": "0047 912 34 567"}),
    ({"name": "Kari Nordmann"}, {"name": "kari   NORDMANN"}),
    ({"name": "Åse Øvrebø"}, {"name": "åse øvrebø"}),
])
def test_an_admin_finds_who_searched_a_person_for_which_case(staff_client, admin, conn, venue,
                                                             typed_by_tracer, typed_by_admin):
    add_visit(conn, "kaffestuggu", "Kari Nordmann", CASE_PHONE, "2026-11-19T18:00")
    assert search(staff_client, **typed_by_tracer, case_ref="SAK-2026-001").status_code == 200
    assert search(staff_client, phone="+4798765432").status_code == 200  # someone else
    html = check(admin, **typed_by_admin)
    assert "1 oppføringer" in html and "SAK-2026-001" in html and "kari" in html
    assert "2026/1234" not in html
    # Someone nobody searched for is not in the log; the check is an entry of its own.
    assert "0 oppføringer" in check(admin, phone="+4741234567")
    again = check(admin, **typed_by_admin)
    assert "2 oppføringer" in again and "kontroll: ble personen søkt på" in again and "klage 2026/77" in again


def test_the_audit_rows_hold_keyed_hashes_not_the_person(staff_client, conn, venue, app):
    search(staff_client, phone=CASE_PHONE)
    search(staff_client, name="Kari Nordmann")
    rows = conn.execute("SELECT * FROM audit_log ORDER BY id").fetchall()
    secret = app.config["SECRET_KEY"]
    assert rows[0]["phone_hash"] == audit.phone_hash(secret, CASE_PHONE) and rows[0]["name_hash"] is None
    assert rows[1]["name_hash"] == audit.name_hash(secret, "kari nordmann") and rows[1]["phone_hash"] is None
    text = " ".join(str(value) for row in rows for value in tuple(row))
    assert "Kari" not in text and "91234567" not in text
    # Keyed: without the deployment's secret the hash of a guess does not match.
    import hashlib
    assert rows[0]["phone_hash"] != hashlib.sha256(CASE_PHONE.encode()).hexdigest()
    assert rows[0]["phone_hash"] != audit.phone_hash("another-secret-key-0123456789abcdef", CASE_PHONE)


def test_the_check_needs_a_reason_and_a_person(admin, venue, conn):
    assert "Skriv hvorfor du sjekker" in check(admin, 400, phone=CASE_PHONE, reason="")
    assert "Skriv hvorfor du sjekker" in check(admin, 400, phone=CASE_PHONE, reason="nysgjerrig")
    assert "telefonnummeret eller navnet" in check(admin, 400)
    assert "Ugyldig telefonnummer" in check(admin, 400, phone="123")
    assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0


def test_a_tracer_cannot_check_and_the_403_is_logged_without_personal_data(staff_client, caplog):
    caplog.set_level(logging.WARNING)
    for method, path in (("get", "/tracing/audit"), ("get", "/tracing/audit/person"),
                         ("post", "/tracing/audit/person")):
        data = {**token(staff_client), "phone": CASE_PHONE, "reason": "2026/1"} if method == "post" else None
        response = getattr(staff_client, method)(path, data=data)
        assert response.status_code == 403
        assert f"admin page '{path}' refused for user 'kari'" in caplog.text
    assert "91234567" not in caplog.text and "4791" not in caplog.text


@pytest.mark.parametrize("case_ref, ok", [
    ("2026/1234", True), ("SAK-2026-001", True), ("2026/17", True), ("ab12", True),
    ("1", False), ("12", False), ("a1", False), ("abc", False), ("Kari Nordmann", False), ("abcd", False),
    ("2026/" + "1" * 40, False), ("=1+1 2026", False),
])
def test_the_default_case_reference_format(staff_client, venue, case_ref, ok):
    response = search(staff_client, phone=CASE_PHONE, case_ref=case_ref)
    html = response.get_data(as_text=True)
    assert response.status_code == (200 if ok else 400), case_ref
    if not ok:
        assert "minst 4 tegn med minst ett tall, for eksempel 2026/1234 eller SAK-2026-001" in html


def test_a_deployment_sets_its_own_case_reference_format(app_config, venue):
    app = create_app({**app_config, "CASE_REF_PATTERN": r"\d{4}/\d{3,6}",
                      "CASE_REF_MESSAGE": "Bruk formatet ÅÅÅÅ/nnnn fra saksbehandlingssystemet."})
    client = app.test_client()
    log_in(app, client, "kari", "tracer")
    assert search(client, phone=CASE_PHONE, case_ref="2026/1234").status_code == 200
    for refused in ("SAK-2026-001", "2026/12", "x2026/1234"):
        response = search(client, phone=CASE_PHONE, case_ref=refused)
        assert response.status_code == 400 and "ÅÅÅÅ/nnnn" in response.get_data(as_text=True), refused
    for venue_search in ("2026/12", "SAK-1"):
        response = client.post("/tracing/venue", data={**token(client, "/tracing/venue"), "venue": "kaffestuggu",
                                                       "case_ref": venue_search, "from": "2026-11-19T18:00",
                                                       "to": "2026-11-19T20:00"})
        assert response.status_code == 400


def test_a_case_reference_pattern_that_is_no_regular_expression_stops_the_start(app_config):
    with pytest.raises(RuntimeError, match="CASE_REF_PATTERN"):
        create_app({**app_config, "CASE_REF_PATTERN": "(unclosed"})


@pytest.mark.parametrize("typed", ["912 34 567", "Kari Nordmann"])
def test_the_staff_searched_command_lists_who_searched(staff_client, runner, conn, venue, typed):
    key = "phone" if typed[0].isdigit() else "name"
    search(staff_client, **{key: typed}, case_ref="SAK-2026-001")
    result = runner.invoke(args=["staff", "searched", "--reason", "klage 2026/77", "--stdin"], input=typed + "\n")
    assert result.exit_code == 0, result.output
    assert "kari" in result.output and "sak SAK-2026-001" in result.output and "1 entries" in result.output
    assert typed not in result.output
    last = conn.execute("SELECT staff, action, case_ref FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert last["staff"].startswith("flask:") and tuple(last)[1:] == ("person_lookup", "klage 2026/77")
    refused = runner.invoke(args=["staff", "searched", "--reason", "fordi", "--stdin"], input=typed + "\n")
    assert refused.exit_code != 0 and "--reason" in refused.output
