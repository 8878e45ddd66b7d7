"""The guest's rights: erasure from the receipt; access, correction and erasure by an admin; provenance."""
from __future__ import annotations

import random
import re
import string
from pathlib import Path

import pytest

from conftest import add_staff, hidden_fields, post_checkin, visit_rows
from roros_checkin import db
from roros_checkin import staff as staff_accounts
from roros_checkin.tracing import auth
from tracing_data import add_visit

REFERENCE = "INNSYN-2026/17"


def receipt_path(response) -> str:
    return response.headers["Location"]


def database_bytes(conn) -> bytes:
    database = Path(conn.execute("PRAGMA database_list").fetchone()["file"])
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    return b"".join(path.read_bytes() for path in files if path.exists())


def marker_name() -> str:
    return "Markør " + "".join(random.choice(string.ascii_lowercase) for _ in range(16)).capitalize()


# --- the guest's own erasure -------------------------------------------------------------

def test_receipt_offers_deletion_behind_a_confirmation(client, venue, conn):
    receipt = receipt_path(post_checkin(client))
    html = client.get(receipt).get_data(as_text=True)
    assert f'href="{receipt}/delete"' in html and "Slett denne registreringen" in html
    confirm = client.get(receipt + "/delete")
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and confirm.headers["Cache-Control"] == "no-store"
    assert "Kaffestuggu" in page and f'action="{receipt}/delete"' in page
    # Looking at the confirmation deletes nothing.
    assert len(visit_rows(conn)) == 1


def test_deleting_from_the_receipt_erases_the_visit_for_good(client, venue, conn):
    name, phone = marker_name(), "+4741" + "".join(random.choice(string.digits) for _ in range(6))
    receipt = receipt_path(post_checkin(client, name=name, phone=phone))
    assert name.encode() in database_bytes(conn)
    fields = hidden_fields(client.get(receipt + "/delete").get_data(as_text=True))
    response = client.post(receipt + "/delete", data=fields)
    assert response.status_code == 303 and response.headers["Location"] == "/deleted"
    assert "Registreringen din er slettet" in client.get("/deleted").get_data(as_text=True)
    assert visit_rows(conn) == []
    # secure_delete and the truncated WAL: the name and number are in no byte of the files.
    data = database_bytes(conn)
    assert name.encode() not in data and phone.encode() not in data
    assert client.get(receipt).status_code == 404
    assert client.get(receipt + "/delete").status_code == 404
    assert client.post(receipt + "/delete", data=fields).status_code == 404


def test_receipt_deletion_sent_from_another_site_deletes_nothing(client, venue, conn):
    receipt = receipt_path(post_checkin(client))
    for headers in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/r/x"},
                    {"Sec-Fetch-Site": "cross-site"}):
        assert client.post(receipt + "/delete", data={}, headers=headers).status_code == 403
    assert len(visit_rows(conn)) == 1
    assert client.get(receipt).status_code == 200


def test_receipt_deletion_erases_the_visit_in_the_backups_too(app, client, venue, conn, runner, tmp_path):
    app.config["BACKUP_DIR"] = str(tmp_path / "backups")
    name = marker_name()
    receipt = receipt_path(post_checkin(client, name=name))
    assert runner.invoke(args=["backup", str(tmp_path / "backups")]).exit_code == 0
    backup = next((tmp_path / "backups").glob("checkin-*.sqlite3"))
    assert name.encode() in backup.read_bytes()
    fields = hidden_fields(client.get(receipt + "/delete").get_data(as_text=True))
    client.post(receipt + "/delete", data=fields)
    assert name.encode() not in backup.read_bytes()


def test_deleting_one_receipt_leaves_other_guests(client, venue, conn):
    first = receipt_path(post_checkin(client, name="Kari Nordmann"))
    post_checkin(client, name="Ola Nordmann", phone="912 34 568")
    client.post(first + "/delete", data=hidden_fields(client.get(first + "/delete").get_data(as_text=True)))
    assert [row["name"] for row in visit_rows(conn)] == ["Ola Nordmann"]


# --- staff: access, correction, erasure ----------------------------------------------------

@pytest.fixture
def admin_client(app, client):
    staff_id = add_staff(app, "anne", role="admin")
    with app.app_context():
        client.set_cookie(auth.COOKIE, staff_accounts.start_session(db.get_db(), staff_id, int(app.config["CLOCK"]())))
    return client


@pytest.fixture
def person_visits(conn, venue):
    """Two visits of one made-up person and one of somebody else."""
    return [add_visit(conn, venue, "Kari Nordman", "+4791234567", "2026-11-19T18:00", "2026-11-19T19:00"),
            add_visit(conn, venue, "Kari Nordmann", "+4791234567", "2026-11-20T12:00", party_size=2),
            add_visit(conn, venue, "Per Hansen", "+4798765432", "2026-11-20T12:00")]


def person_page(client, phone: str = "912 34 567", reference: str = REFERENCE):
    fields = hidden_fields(client.get("/tracing/person").get_data(as_text=True))
    return client.post("/tracing/person", data={**fields, "phone": phone, "reference": reference})


def audit_rows(conn, action: str) -> list:
    return conn.execute("SELECT staff, case_ref, result_count, detail FROM audit_log WHERE action = ?"
                        " ORDER BY id", (action,)).fetchall()


def test_a_tracer_cannot_open_the_person_pages(staff_client, person_visits, conn):
    assert staff_client.get("/tracing/person").status_code == 403
    token = hidden_fields(staff_client.get("/tracing/case").get_data(as_text=True))
    for path in ("/tracing/person", "/tracing/person/correct", "/tracing/person/delete"):
        response = staff_client.post(path, data={**token, "phone": "91234567", "reference": REFERENCE,
                                                 "visit": str(person_visits[0]), "name": "X", "new_phone": "1"})
        assert response.status_code == 403, path
        assert "Kari" not in response.get_data(as_text=True)
    assert len(visit_rows(conn)) == 3
    assert 'href="/tracing/person"' not in staff_client.get("/tracing/").get_data(as_text=True)


def test_admin_sees_every_visit_of_a_number_as_a_printable_answer(admin_client, person_visits, conn):
    response = person_page(admin_client)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "Opplysninger registrert på +47 91 23 45 67" in html and "2 besøk." in html
    assert "Kari Nordman<" in html and "Kari Nordmann<" in html and "Per Hansen" not in html
    assert "19.11.2026 kl. 18:00" in html and "ikke sjekket ut" in html
    assert f"Svar på henvendelse {REFERENCE}" in html
    # Two names on one number: people who share a phone are each their own person.
    assert "Nummeret er brukt med 2 navn" in html
    # The number is never in a URL; the audit log has the reference, a count, no name, no number.
    assert "91234567" not in "".join(re.findall(r'(?:href|action)="([^"]*)"', html))
    assert [tuple(row) for row in audit_rows(conn, "person_access")] == [("anne", REFERENCE, 2, "telefon …67")]


def test_person_search_needs_a_reference(admin_client, person_visits, conn):
    response = person_page(admin_client, reference="")
    assert response.status_code == 400 and "Kari" not in response.get_data(as_text=True)
    assert audit_rows(conn, "person_access") == []


def post_from_page(client, html: str, form_class: str, index: int = 0, **changes):
    """Send the index-th form of that class on the page, with its own hidden fields, plus changes."""
    forms = re.findall(rf'<form method="post" action="([^"]+)" class="{form_class}">(.*?)</form>', html, re.S)
    action, body = forms[index]
    data: dict = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', body):
        data.setdefault(name, []).append(value)
    data.update(changes)
    return client.post(action, data=data)


def test_admin_corrects_a_name(admin_client, person_visits, conn):
    html = person_page(admin_client).get_data(as_text=True)
    response = post_from_page(admin_client, html, "correct", 0, name="Kari Nordmann", new_phone="912 34 567")
    assert response.status_code == 200 and "Besøket er rettet." in response.get_data(as_text=True)
    assert [row["name"] for row in visit_rows(conn)] == ["Kari Nordmann", "Kari Nordmann", "Per Hansen"]
    assert [tuple(row) for row in audit_rows(conn, "person_correct")] == [("anne", REFERENCE, 1, "telefon …67")]


def test_admin_corrects_a_number(admin_client, person_visits, conn):
    html = person_page(admin_client).get_data(as_text=True)
    response = post_from_page(admin_client, html, "correct", 1, name="Kari Nordmann", new_phone="+47 412 34 567")
    page = response.get_data(as_text=True)
    assert "står nå under det nye nummeret" in page and "1 besøk." in page
    assert [row["phone"] for row in visit_rows(conn)] == ["+4791234567", "+4741234567", "+4798765432"]
    assert audit_rows(conn, "person_correct")[0]["detail"] == "telefon …67, nytt nummer"


def test_a_bad_correction_changes_nothing(admin_client, person_visits, conn):
    html = person_page(admin_client).get_data(as_text=True)
    response = post_from_page(admin_client, html, "correct", 0, name="=1+2", new_phone="912 34 567")
    assert response.status_code == 400 and "Rettingen ble ikke lagret" in response.get_data(as_text=True)
    assert visit_rows(conn)[0]["name"] == "Kari Nordman"


def test_admin_deletes_one_visit_for_good(admin_client, person_visits, conn):
    html = person_page(admin_client).get_data(as_text=True)
    response = post_from_page(admin_client, html, "erase", 0)
    assert "1 besøk slettet for godt." in response.get_data(as_text=True)
    assert [row["id"] for row in visit_rows(conn)] == person_visits[1:]
    assert b"Kari Nordman\x00" not in database_bytes(conn) and b"Kari Nordman" in database_bytes(conn)
    assert [tuple(row) for row in audit_rows(conn, "person_delete")] == [("anne", REFERENCE, 1, "telefon …67")]


def test_admin_deletes_every_visit_of_a_number(admin_client, person_visits, conn):
    html = person_page(admin_client).get_data(as_text=True)
    response = post_from_page(admin_client, html, "erase erase-all")
    page = response.get_data(as_text=True)
    assert "2 besøk slettet for godt." in page and "Ingen besøk er lagret med dette nummeret." in page
    assert [row["name"] for row in visit_rows(conn)] == ["Per Hansen"]
    data = database_bytes(conn)
    assert b"Kari Nordman" not in data and b"+4791234567" not in data
    assert audit_rows(conn, "person_delete")[0]["result_count"] == 2


def test_erasure_only_touches_visits_of_the_searched_number(admin_client, person_visits, conn):
    html = person_page(admin_client).get_data(as_text=True)
    # A forged visit id of somebody else's visit under Kari's number deletes nothing.
    response = post_from_page(admin_client, html, "erase", 0, visit=str(person_visits[2]))
    assert "0 besøk slettet" in response.get_data(as_text=True)
    assert len(visit_rows(conn)) == 3


# --- provenance of paper-list rows ----------------------------------------------------------

def test_paper_rows_record_who_typed_them_and_the_person_page_shows_it(app, admin_client, conn, venue):
    fields = hidden_fields(admin_client.get("/tracing/paper").get_data(as_text=True))
    admin_client.post("/tracing/paper", data={**fields, "venue": venue, "date": "2026-11-19",
                                              "rows": "Kari Nordmann; 912 34 567; 18:30"})
    post_checkin(admin_client, name="Kari Nordmann")
    anne = conn.execute("SELECT id FROM staff WHERE username = 'anne'").fetchone()[0]
    assert [(row["source"], row["entered_by"]) for row in visit_rows(conn)] == [("paper", anne), ("qr", None)]
    html = person_page(admin_client).get_data(as_text=True)
    assert "papir, skrevet inn av anne" in html
    # A line typed wrongly is removed the same way as any visit.
    post_from_page(admin_client, html, "erase", 0)
    assert [row["source"] for row in visit_rows(conn)] == ["qr"]


def test_privacy_page_says_how_to_use_the_rights(client):
    html = client.get("/privacy").get_data(as_text=True)
    assert "velger «Slett denne registreringen»" in html
    assert "For innsyn i opplysningene dine" in html
    german = client.get("/privacy", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "„Diese Registrierung löschen“" in german
