"""Typing in a paper list: the guest form's rules per line, good lines stored, bad ones reported."""
from __future__ import annotations

import re

from conftest import hidden_fields
from tracing_data import at


def post_paper(client, rows: str, date: str = "2026-11-19", venue: str = "kaffestuggu", page: str | None = None):
    fields = hidden_fields(page or client.get("/tracing/paper").get_data(as_text=True))
    return client.post("/tracing/paper", data={**fields, "venue": venue, "date": date, "rows": rows})


def paper_rows(conn) -> list:
    return conn.execute("SELECT name, phone, party_size, arrived_at, source, left_at FROM visits"
                        " WHERE source = 'paper' ORDER BY arrived_at").fetchall()


def test_good_lines_are_stored_as_paper_visits(staff_client, conn, venue):
    response = post_paper(staff_client, "Kari Nordmann; 912 34 567; 18:30; 2\nPer Hansen;+46 70 123 45 67;1905\n")
    assert response.status_code == 303 and response.headers["Location"] == "/tracing/paper?lagret=2"
    assert "2 gjester lagret" in staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert [tuple(row) for row in paper_rows(conn)] == [
        ("Kari Nordmann", "+4791234567", 2, at("2026-11-19T18:30"), "paper", None),
        ("Per Hansen", "+46701234567", 1, at("2026-11-19T19:05"), "paper", None),
    ]


def test_bad_lines_are_reported_and_good_lines_still_stored(staff_client, conn, venue):
    rows = "\n".join([
        "Kari Nordmann; 912 34 567; 18:30; 2",
        "=HYPERLINK(\"http://evil.example\"); 912 34 568; 18:30",
        "Ola Berg; 123; 18:30",
        "Åse Øvrebø; 412 34 567; 25:99",
        "Per Hansen; 987 65 432; 18:45; 40",
        "bare ett felt",
    ])
    response = post_paper(staff_client, rows)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "1 lagret, 5 linjer må rettes" in html
    for message in ("Linje 2: Navnet kan bare ha bokstaver", "Linje 3: Ugyldig telefonnummer",
                    "Linje 4: Skriv dato og klokkeslett", "Linje 5: Antall personer må være 1 til 20",
                    "Linje 6: Linja må ha navn"):
        assert message in html
    assert [row["name"] for row in paper_rows(conn)] == ["Kari Nordmann"]
    # The stored line is gone from the box; the bad ones stay to be corrected.
    box = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1)
    assert "Kari Nordmann" not in box and "Ola Berg; 123; 18:30" in box


def test_a_resent_paper_form_stores_each_row_once(staff_client, conn, venue):
    page = staff_client.get("/tracing/paper").get_data(as_text=True)
    rows = "Kari Nordmann; 912 34 567; 18:30\nKari Nordmann; 912 34 567; 18:30\n"
    post_paper(staff_client, rows, page=page)
    post_paper(staff_client, rows, page=page)
    # Two identical lines on the sheet are two rows; sending the form again adds none.
    assert len(paper_rows(conn)) == 2


def test_paper_time_must_be_inside_retention_and_not_future(staff_client, conn, venue):
    response = post_paper(staff_client, "Kari Nordmann; 912 34 567; 18:30", date="2026-11-01")
    assert "eldre enn 14 dager" in response.get_data(as_text=True)
    response = post_paper(staff_client, "Kari Nordmann; 912 34 567; 23:30", date="2026-11-20")
    assert "fram i tid" in response.get_data(as_text=True)
    assert paper_rows(conn) == []


def test_paper_visits_are_found_by_both_searches(staff_client, conn, venue):
    post_paper(staff_client, "Kari Nordmann; 912 34 567; 18:30\nPer Hansen; 987 65 432; 19:00; 3")
    token = hidden_fields(staff_client.get("/tracing/case").get_data(as_text=True))
    case = staff_client.post("/tracing/case", data={**token, "phone": "91234567", "case_ref": "2026/9",
                                                    "onset": "2026-11-20"}).get_data(as_text=True)
    assert "Per Hansen" in case and "papir" in case and "150 min" in case
    token = hidden_fields(staff_client.get("/tracing/venue").get_data(as_text=True))
    venue_html = staff_client.post("/tracing/venue", data={**token, "venue": "kaffestuggu", "case_ref": "2026/9",
                                                           "from": "2026-11-19T18:00", "to": "2026-11-19T22:00"})
    html = venue_html.get_data(as_text=True)
    assert "Per Hansen" in html and "Kari Nordmann" in html


def test_paper_form_needs_venue_and_date(staff_client, conn, venue):
    response = post_paper(staff_client, "Kari Nordmann; 912 34 567; 18:30", date="19.11.2026", venue="nowhere")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Velg et sted" in html and "ÅÅÅÅ-MM-DD" in html
    assert paper_rows(conn) == []
