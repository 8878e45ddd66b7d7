"""Case work: a case search opens the case; tracers set states in one tap, together, audit-logged."""
from __future__ import annotations

import re

from case_support import CASE_PHONE, friday_case, open_case, tap, tap_forms
from conftest import add_staff, hidden_fields
from roros_checkin import db, retention
from roros_checkin import staff as staff_accounts
from roros_checkin.tracing import auth
from tracing_data import add_visit


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_case_search_opens_the_case_with_one_line_per_phone(staff_client, conn, venue):
    friday_case(conn)
    html = page(staff_client, open_case(staff_client))
    assert "<h1>Sak 2026/17</h1>" in html
    # Per Hansen, and the Berg family of two on one phone: three people, two numbers.
    assert "0 av 3 nådd" in html and "2 telefonnumre" in html
    assert "Mor Berg, Sønn Berg" in html and "2 personer på ett nummer: én samtale" in html
    assert html.count('<li class="contact-line') == 3  # two contacts and the short overlap, apart
    short = html.index("Kort overlapp (under 15 minutter), vurder selv (1)")
    assert html.index("Kort Besøk") > short > html.index("Per Hansen")
    assert "Kari Nordmann" not in html and CASE_PHONE not in html


def test_a_tap_sets_the_state_and_progress_counts_people(staff_client, conn, venue):
    friday_case(conn)
    path = open_case(staff_client)
    response = tap(staff_client, page(staff_client, path), "Mor Berg", "reached")
    assert response.status_code == 303 and response.headers["Location"].startswith(path)
    html = page(staff_client, path)
    assert "2 av 3 nådd" in html and "Igjen: 1 ikke ringt, 0 ikke nådd" in html
    tap(staff_client, html, "Per Hansen", "not_reached")
    tap(staff_client, page(staff_client, path), "Per Hansen", "not_reached")
    html = page(staff_client, path)
    assert "2 forsøk uten svar" in html and "Igjen: 0 ikke ringt, 1 ikke nådd" in html


def test_a_second_search_of_the_case_continues_it_and_keeps_the_states(staff_client, conn, venue):
    friday_case(conn)
    path = open_case(staff_client)
    tap(staff_client, page(staff_client, path), "Per Hansen", "wrong_number")
    add_visit(conn, "kaffestuggu", "Ny Gjest", "+4740000001", "2026-11-19T18:00", "2026-11-19T19:00")
    assert open_case(staff_client, case_ref="2026/17") == path
    html = page(staff_client, path)
    assert "Ny Gjest" in html and "0 av 4 nådd" in html and "1 feil nummer" in html


def test_a_stale_update_is_refused_not_written_over(app, staff_client, conn, venue):
    friday_case(conn)
    path = open_case(staff_client)
    seen_by_kari = page(staff_client, path)
    # Another tracer, on another session, marks Per Hansen reached first.
    other = app.test_client()
    with app.app_context():
        other.set_cookie(auth.COOKIE, staff_accounts.start_session(db.get_db(), add_staff(app, "ola"), int(app.config["CLOCK"]())))
    assert tap(other, page(other, path), "Per Hansen", "reached").status_code == 303
    refused = tap(staff_client, seen_by_kari, "Per Hansen", "not_reached")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "Ikke lagret: noen andre endret kontakten først" in html
    assert "Per Hansen har nå status «Nådd», satt av ola" in html
    state = conn.execute("SELECT state, tries FROM case_contacts WHERE phone = '+4798765432'").fetchone()
    assert tuple(state) == ("reached", 0)


def test_every_change_is_audit_logged_without_name_or_number(staff_client, conn, venue):
    friday_case(conn)
    path = open_case(staff_client)
    tap(staff_client, page(staff_client, path), "Per Hansen", "reached")
    rows = conn.execute("SELECT staff, action, case_ref, detail FROM audit_log WHERE action = 'case_state'").fetchall()
    assert [tuple(row) for row in rows] == [("kari", "case_state", "2026/17", "Nådd")]
    everything = " ".join(str(value) for row in conn.execute("SELECT * FROM audit_log") for value in row)
    assert "Per" not in everything and "98765432" not in everything


def test_a_state_outside_the_fixed_set_is_refused(staff_client, conn, venue):
    friday_case(conn)
    path = open_case(staff_client)
    form = tap_forms(page(staff_client, path))[0]
    for state in ("sms", "called him, sounded ill", ""):
        response = staff_client.post(form["action"], data={"csrf_token": form["csrf_token"], "state": state,
                                                           "version": form["version"]})
        assert response.status_code == 400
    assert staff_client.post(form["action"], data={"state": "reached", "version": form["version"]}).status_code == 400


def test_unknown_case_or_contact_is_404(staff_client, conn, venue):
    friday_case(conn)
    path = open_case(staff_client)
    assert staff_client.get("/tracing/cases/999").status_code == 404
    form = tap_forms(page(staff_client, path))[0]
    other = re.sub(r"/contacts/\d+", "/contacts/99999", form["action"])
    assert staff_client.post(other, data={"csrf_token": form["csrf_token"], "state": "reached",
                                          "version": form["version"]}).status_code == 404


def test_case_list_shows_each_case_and_its_progress(staff_client, conn, venue):
    friday_case(conn)
    path = open_case(staff_client)
    tap(staff_client, page(staff_client, path), "Per Hansen", "reached")
    html = page(staff_client, "/tracing/cases")
    assert f'href="{path}">2026/17</a>' in html and "1 av 3 numre" in html


def test_venue_search_shows_short_overlaps_apart(staff_client, conn, venue):
    add_visit(conn, "kaffestuggu", "Per Hansen", "+4798765432", "2026-11-19T19:00", "2026-11-19T21:00")
    add_visit(conn, "kaffestuggu", "Kort Besøk", "+4741234567", "2026-11-19T17:00", "2026-11-19T18:10")
    token = hidden_fields(staff_client.get("/tracing/venue").get_data(as_text=True))
    html = staff_client.post("/tracing/venue", data={**token, "venue": "kaffestuggu", "case_ref": "2026/18",
                                                     "from": "2026-11-19T18:00", "to": "2026-11-19T20:00"}
                             ).get_data(as_text=True)
    assert "1 kontakter å ringe" in html
    short = html.index("Kort overlapp, vurder selv: 1 under 15 minutter")
    assert html.index("Kort Besøk") > short > html.index("Per Hansen")
    # The case that never registered is a case too: the venue search opens it.
    case = page(staff_client, re.search(r'href="(/tracing/cases/\d+)"', html).group(1))
    assert "<h1>Sak 2026/18</h1>" in case and "0 av 1 nådd" in case and "Kort Besøk" in case


def test_case_lines_and_states_go_with_the_visits(app, staff_client, conn, venue, clock):
    friday_case(conn)
    path = open_case(staff_client)
    tap(staff_client, page(staff_client, path), "Per Hansen", "reached")
    # A day later the Berg family's visit was deleted (as a guest's own erasure does): their line goes.
    conn.execute("DELETE FROM visits WHERE phone = '+4741111111'")
    assert conn.execute("SELECT count(*) FROM case_contacts WHERE phone = '+4741111111'").fetchone()[0] == 0
    # Fifteen days after the searches every visit is past the retention: so is the case.
    clock.advance(15 * 86400)
    with app.app_context():
        result = retention.purge_expired(db.get_db(), app.config, int(clock.now), pause=0)
    assert result.cases == 1 and "1 cases" in result.summary()
    for table in ("cases", "case_contacts", "case_contact_visits", "sms_outbox"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table  # noqa: S608


def test_purge_sweeps_case_rows_in_a_copy_opened_without_foreign_keys(app, staff_client, conn, venue, clock):
    import sqlite3

    friday_case(conn)
    open_case(staff_client)
    plain = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
    plain.execute("DELETE FROM visits WHERE phone = '+4798765432'")  # foreign keys off: nothing cascades
    assert plain.execute("SELECT count(*) FROM case_contacts WHERE phone = '+4798765432'").fetchone()[0] == 1
    retention.purge_expired(plain, app.config, int(clock.now), pause=0)
    assert plain.execute("SELECT count(*) FROM case_contacts WHERE phone = '+4798765432'").fetchone()[0] == 0
    plain.close()


def test_a_corrected_phone_number_unlinks_the_visit_and_its_queued_message(staff_client, conn, venue):
    friday_case(conn)
    path = open_case(staff_client)
    with conn:
        conn.execute("INSERT INTO sms_outbox (case_contact_id, phone, language, text, created_by, created_at,"
                     " next_attempt_at) SELECT id, phone, 'nb', 'tekst', 'kari', 0, 0 FROM case_contacts"
                     " WHERE phone = '+4798765432'")
    conn.execute("UPDATE visits SET phone = '+4798765400' WHERE phone = '+4798765432'")
    assert conn.execute("SELECT count(*) FROM case_contacts WHERE phone = '+4798765432'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM sms_outbox").fetchone()[0] == 0
    assert "Per Hansen" not in page(staff_client, path)
    open_case(staff_client)
    assert "Per Hansen" in page(staff_client, path)
