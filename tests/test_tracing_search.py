"""The case search and the venue search as a tracer uses them: forms, results, call list, speed."""
from __future__ import annotations

import logging
import re

from conftest import add_venue, hidden_fields
from tracing_data import add_visit, at

CASE_PHONE = "+4791234567"


def post_search(client, path: str, **fields):
    """GET a search page for its CSRF token, then POST the fields."""
    form_page = "/tracing/venue" if path.startswith("/tracing/venue") else "/tracing/case"
    token = hidden_fields(client.get(form_page).get_data(as_text=True))
    return client.post(path, data={**token, **fields})


def friday_with_contacts(conn) -> None:
    add_visit(conn, "kaffestuggu", "Kari Nordmann", CASE_PHONE, "2026-11-19T18:00", "2026-11-19T20:00",
              area="Bord 4")
    add_visit(conn, "kaffestuggu", "Per Hansen", "+4798765432", "2026-11-19T19:00", party_size=6, area="Bord 5")
    add_visit(conn, "kaffestuggu", "Åse Øvrebø", "+46701234567", "2026-11-19T17:30", "2026-11-19T18:20",
              source="paper")
    add_visit(conn, "kaffestuggu", "Kort Besøk", "+4741234567", "2026-11-19T19:50", "2026-11-19T21:00")


def test_case_search_lists_contacts_sorted_with_details(staff_client, conn, venue):
    friday_with_contacts(conn)
    response = post_search(staff_client, "/tracing/case", phone="912 34 567", case_ref="2026/17",
                           onset="2026-11-20")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.index("Per Hansen") < html.index("Åse Øvrebø")
    # 10 minutes: not a contact, but shown apart for the tracer to judge, after the contacts.
    short = html.index("Kort overlapp, vurder selv: 1 under 15 minutter")
    assert html.rindex("Kort Besøk") > short > html.index("Åse Øvrebø")  # (the timeline draws it too)
    assert 'href="tel:+4798765432"' in html and "+47 98 76 54 32" in html
    assert "60 min" in html and "20 min" in html
    assert "(anslått)" in html and "papir" in html and "Bord 5" in html
    assert "2 kontakter å ringe, 7 personer" in html
    assert response.headers["Cache-Control"] == "no-store"


def test_case_search_default_window_starts_48_hours_before_onset(staff_client, conn, venue):
    # Onset on the 20th: the window opens at 00:00 on the 18th, after this visit ended.
    add_visit(conn, "kaffestuggu", "Kari Nordmann", CASE_PHONE, "2026-11-17T21:00", "2026-11-17T23:30")
    add_visit(conn, "kaffestuggu", "Per Hansen", "+4798765432", "2026-11-17T21:00", "2026-11-17T23:30")
    later = post_search(staff_client, "/tracing/case", phone=CASE_PHONE, case_ref="2026/17", onset="2026-11-20")
    assert "Per Hansen" not in later.get_data(as_text=True)
    earlier = post_search(staff_client, "/tracing/case", phone=CASE_PHONE, case_ref="2026/17", onset="2026-11-19")
    assert "Per Hansen" in earlier.get_data(as_text=True)


def test_case_search_window_never_reaches_past_retention(staff_client, conn, venue, clock):
    old = int(clock.now) - 14 * 86400 - 600
    add_visit(conn, "kaffestuggu", "Kari Nordmann", CASE_PHONE, old)
    add_visit(conn, "kaffestuggu", "Per Hansen", "+4798765432", old)
    response = post_search(staff_client, "/tracing/case", phone=CASE_PHONE, case_ref="2026/17",
                           **{"from": "2026-10-01T00:00"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "kortet ned til de siste 14 dagene" in html
    assert "Per Hansen" not in html and "Ingen registrerte besøk" in html


def test_case_search_needs_case_ref_and_a_person(staff_client, venue):
    missing_ref = post_search(staff_client, "/tracing/case", phone=CASE_PHONE, onset="2026-11-20")
    assert missing_ref.status_code == 400 and "saksnummeret" in missing_ref.get_data(as_text=True)
    name_as_ref = post_search(staff_client, "/tracing/case", phone=CASE_PHONE, onset="2026-11-20",
                              case_ref="Kari Nordmann")
    assert name_as_ref.status_code == 400
    nobody = post_search(staff_client, "/tracing/case", case_ref="2026/17", onset="2026-11-20")
    assert nobody.status_code == 400 and "telefonnummeret (eller navnet)" in nobody.get_data(as_text=True)
    bad_phone = post_search(staff_client, "/tracing/case", case_ref="2026/17", onset="2026-11-20", phone="123")
    assert bad_phone.status_code == 400 and "Ugyldig telefonnummer" in bad_phone.get_data(as_text=True)


def test_case_search_by_name(staff_client, conn, venue):
    friday_with_contacts(conn)
    response = post_search(staff_client, "/tracing/case", name="kari nordmann", case_ref="2026/17",
                           onset="2026-11-20")
    assert "Per Hansen" in response.get_data(as_text=True)


def test_search_form_posts_and_result_links_carry_no_personal_data(staff_client, conn, venue, caplog):
    friday_with_contacts(conn)
    form = staff_client.get("/tracing/case").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/tracing/case"', form)
    caplog.set_level(logging.DEBUG)
    html = post_search(staff_client, "/tracing/case", phone=CASE_PHONE, case_ref="2026/17",
                       onset="2026-11-20").get_data(as_text=True)
    for url in re.findall(r'(?:href|action)="([^"]*)"', html):
        if not url.startswith("tel:"):
            assert "912" not in url and "Kari" not in url and "98765432" not in url and "Per" not in url
    # The export and print buttons are POST forms.
    assert 'action="/tracing/case/export"' in html and 'action="/tracing/case/print"' in html
    assert "912" not in caplog.text and "Kari" not in caplog.text and "Hansen" not in caplog.text


def test_get_with_a_query_string_does_not_search(staff_client, conn, venue):
    friday_with_contacts(conn)
    html = staff_client.get("/tracing/case?phone=91234567&case_ref=2026/17&onset=2026-11-20").get_data(as_text=True)
    assert "Per Hansen" not in html


def test_call_list_is_its_own_printable_page(staff_client, conn, venue):
    friday_with_contacts(conn)
    response = post_search(staff_client, "/tracing/case/print", phone=CASE_PHONE, case_ref="2026/17",
                           onset="2026-11-20")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Ringeliste, sak 2026/17" in html and 'class="tracing call-list"' in html
    assert html.index("Per Hansen") < html.index("Åse Øvrebø") and "Makuleres innen 04.12.2026" in html


def test_venue_search_lists_everyone_overlapping_the_window(staff_client, conn, venue):
    friday_with_contacts(conn)
    add_venue(staff_client.application, "galleriet", "Galleriet")
    add_visit(conn, "galleriet", "Annen Plass", "+4741111111", "2026-11-19T19:00")
    response = post_search(staff_client, "/tracing/venue", venue="kaffestuggu", case_ref="2026/17",
                           **{"from": "2026-11-19T19:00", "to": "2026-11-19T21:00"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Per Hansen" in html and "Kari Nordmann" in html and "Kort Besøk" in html
    assert "Åse Øvrebø" not in html and "Annen Plass" not in html
    assert html.index("Per Hansen") < html.index("Kort Besøk")
    assert "120 min" in html and "70 min" in html


def test_venue_search_window_is_bounded(staff_client, venue):
    response = post_search(staff_client, "/tracing/venue", venue="kaffestuggu", case_ref="2026/17",
                           **{"from": "2026-11-18T12:00", "to": "2026-11-19T12:01"})
    assert response.status_code == 400 and "høyst 24 timer" in response.get_data(as_text=True)
    backwards = post_search(staff_client, "/tracing/venue", venue="kaffestuggu", case_ref="2026/17",
                            **{"from": "2026-11-19T12:00", "to": "2026-11-19T11:00"})
    assert backwards.status_code == 400
    unknown = post_search(staff_client, "/tracing/venue", venue="nowhere", case_ref="2026/17",
                          **{"from": "2026-11-19T12:00", "to": "2026-11-19T13:00"})
    assert unknown.status_code == 400 and "Velg et sted" in unknown.get_data(as_text=True)


def test_query_plans_use_the_indexes(conn, venue):
    from roros_checkin import queries

    def plan(sql: str, params: tuple) -> str:
        return " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))

    sql = {}

    class Recorder:
        def __init__(self, name):
            self.name = name

        def execute(self, statement, params=()):
            sql[self.name] = (statement, params)
            return conn.execute(statement, params)

        def create_function(self, *args, **kwargs):
            conn.create_function(*args, **kwargs)

    queries.case_visits_by_phone(Recorder("phone"), CASE_PHONE, 0, 0, 1, 10800)
    queries.visits_at_venue(Recorder("venue"), 1, 0, 1, 0, 10800)
    queries.case_visits_by_name(Recorder("name"), "kari", 0, 0, 1, 10800)
    assert "USING INDEX visits_phone_arrived (phone=? AND arrived_at>? AND arrived_at<?)" in plan(*sql["phone"])
    assert "USING INDEX visits_venue_arrived (venue_id=? AND arrived_at>? AND arrived_at<?)" in plan(*sql["venue"])
    # The stay's end is tested on the index entry (left_at is in it), before the row is read.
    assert [row["name"] for row in conn.execute("PRAGMA index_info(visits_venue_arrived)")] == [
        "venue_id", "arrived_at", "left_at"]
    # Both halves of the name search (with a name key, and visits stored before keys existed) use its index.
    assert plan(*sql["name"]).count("USING INDEX visits_name_key_arrived (name_key=? AND arrived_at>? AND "
                                    "arrived_at<?)") == 2


def test_name_search_finds_checked_in_visits_by_their_key_and_older_visits_without_one(conn, venue):
    from roros_checkin import contacts, queries
    from roros_checkin.db import write_transaction

    arrived = at("2026-11-20T19:00")
    with write_transaction(conn):  # as the check-in stores it: with the name's key
        queries.insert_visit(conn, queries.NewVisit(
            venue_id=queries.venue_by_slug(conn, venue)["id"], name="Øystein  Åsen", phone="+4791234567", party_size=1, area=None,
            arrived_at=arrived, registered_at=arrived, source="qr", idempotency_key="name-key-test-000001",
            receipt_hash=None, consent_version=None))
    add_visit(conn, venue, "ÅSE Lie", "+4798765432", "2026-11-20T19:10")  # stored before keys existed
    keys = dict(conn.execute("SELECT name, name_key FROM visits").fetchall())
    assert keys["Øystein  Åsen"] == queries.name_key("ØYSTEIN ÅSEN") and keys["ÅSE Lie"] is None

    def found(name: str) -> list[str]:
        rows = queries.case_visits_by_name(conn, contacts.fold_name(name), 0, arrived - 3600, arrived + 7200, 10800)
        return [row["name"] for row in rows]

    assert found("øystein åsen") == ["Øystein  Åsen"]
    assert found("åse  LIE") == ["ÅSE Lie"]
    assert found("Øystein") == []
