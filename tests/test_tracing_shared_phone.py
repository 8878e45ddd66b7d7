"""A family that shares one phone: each name is a person in every result, count, list and export;
the call list calls the number once, with every name under it."""
from __future__ import annotations

import csv
import io
import re

import pytest

from conftest import hidden_fields
from tracing_data import add_visit

CASE_PHONE = "+4791234567"
FAMILY_PHONE = "+4798765432"


def post_search(client, path: str, **fields):
    form_page = "/tracing/venue" if path.startswith("/tracing/venue") else "/tracing/case"
    token = hidden_fields(client.get(form_page).get_data(as_text=True))
    return client.post(path, data={**token, **fields})


@pytest.fixture
def family(conn, venue):
    """The case, a family of three on one phone (one of them with a party of 2), and a neighbour."""
    add_visit(conn, "kaffestuggu", "Kari Nordmann", CASE_PHONE, "2026-11-19T18:00", "2026-11-19T20:00")
    add_visit(conn, "kaffestuggu", "Mor Hansen", FAMILY_PHONE, "2026-11-19T18:10", "2026-11-19T19:40")
    add_visit(conn, "kaffestuggu", "Sønn Hansen", FAMILY_PHONE, "2026-11-19T18:10", "2026-11-19T19:40")
    add_visit(conn, "kaffestuggu", "Datter Hansen", FAMILY_PHONE, "2026-11-19T18:30", "2026-11-19T19:00",
              party_size=2)
    # The same person twice, written differently, is still one person.
    add_visit(conn, "kaffestuggu", "per  olsen", "+4741234567", "2026-11-19T18:00", "2026-11-19T18:40")
    add_visit(conn, "kaffestuggu", "Per Olsen", "+4741234567", "2026-11-19T19:00", "2026-11-19T19:30")


CASE = {"phone": CASE_PHONE, "case_ref": "2026/17", "onset": "2026-11-20"}
VENUE = {"venue": "kaffestuggu", "case_ref": "2026/17", "from": "2026-11-19T18:00", "to": "2026-11-19T20:00"}


def test_case_result_lists_every_name_on_a_shared_phone_and_counts_them(staff_client, family):
    html = post_search(staff_client, "/tracing/case", **CASE).get_data(as_text=True)
    for name in ("Mor Hansen", "Sønn Hansen", "Datter Hansen"):
        assert name in html
    assert "4 kontakter å ringe, 5 personer" in html
    assert "på 2 telefonnumre" in html
    assert "1 kontakter her" not in html and "4 kontakter her" in html
    assert html.count("Per Olsen") + html.count("per  olsen") == 1


def test_venue_result_lists_every_name_on_a_shared_phone(staff_client, family):
    html = post_search(staff_client, "/tracing/venue", **VENUE).get_data(as_text=True)
    for name in ("Kari Nordmann", "Mor Hansen", "Sønn Hansen", "Datter Hansen"):
        assert name in html
    assert "5 kontakter å ringe, 6 personer" in html


def test_call_list_calls_a_shared_phone_once_with_every_name(staff_client, family):
    html = post_search(staff_client, "/tracing/case/print", **CASE).get_data(as_text=True)
    assert html.count(f'href="tel:{FAMILY_PHONE}"') == 1
    row = re.search(rf'<tr>(?:(?!</tr>).)*tel:{re.escape(FAMILY_PHONE)}(?:(?!</tr>).)*</tr>', html, re.S).group(0)
    for name in ("Mor Hansen", "Sønn Hansen", "Datter Hansen"):
        assert name in row
    assert '<td class="num">4</td>' in row  # 1 + 1 + a party of 2 on the one call
    assert "4 kontakter på 2 telefonnumre, 5 personer" in html


@pytest.mark.parametrize("path, fields", [("/tracing/case/export", CASE), ("/tracing/venue/export", VENUE)])
def test_export_has_every_name_as_its_own_person(staff_client, family, path, fields):
    body = post_search(staff_client, path, **fields).get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body, newline=""), delimiter=";"))[1:]
    hansen = {row[1]: row[0] for row in rows if "Hansen" in row[1]}
    assert set(hansen) == {"Mor Hansen", "Sønn Hansen", "Datter Hansen"}
    assert len(set(hansen.values())) == 3  # three person numbers, not one


def test_a_search_by_the_case_name_finds_the_family_member_on_the_same_phone(staff_client, conn, venue):
    add_visit(conn, "kaffestuggu", "Mor Hansen", FAMILY_PHONE, "2026-11-19T18:00", "2026-11-19T20:00")
    add_visit(conn, "kaffestuggu", "Sønn Hansen", FAMILY_PHONE, "2026-11-19T18:00", "2026-11-19T20:00")
    html = post_search(staff_client, "/tracing/case", name="mor hansen", case_ref="2026/17",
                       onset="2026-11-20").get_data(as_text=True)
    assert "Sønn Hansen" in html and "1 kontakter å ringe, 1 personer" in html
    by_phone = post_search(staff_client, "/tracing/case", **{**CASE, "phone": FAMILY_PHONE}).get_data(as_text=True)
    assert "Ingen registrerte" not in by_phone and "0 kontakter å ringe" in by_phone


@pytest.mark.slow
def test_on_the_real_server_the_family_is_three_people_and_one_call(tmp_path):
    import subprocess
    import sys

    from conftest import TEST_PASSWORD
    from roros_checkin import db
    from server import ROOT, Browser, Server

    server = Server(tmp_path, env={"ROROS_TWO_FACTOR_ENABLED": "false"})
    for command, stdin in ((["staff", "add", "kari", "--password-stdin"], TEST_PASSWORD + "\n"),
                           (["venues", "add", "kaffestuggu", "Kaffestuggu"], None)):
        done = subprocess.run([sys.executable, "-m", "flask", *command], cwd=ROOT, env=server.environ, input=stdin,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
    # The visits are made relative to now (the server's clock), written as the form would store them.
    import time as clock
    now = int(clock.time())
    conn = db.connect(str(server.database))
    try:
        for name, phone, minutes_ago, party in (("Kari Nordmann", CASE_PHONE, 120, 1),
                                                ("Mor Hansen", FAMILY_PHONE, 110, 1),
                                                ("Sønn Hansen", FAMILY_PHONE, 110, 1),
                                                ("Datter Hansen", FAMILY_PHONE, 100, 2)):
            add_visit(conn, "kaffestuggu", name, phone, now - minutes_ago * 60, now - 30 * 60, party_size=party)
    finally:
        conn.close()
    server.start()
    try:
        staff = Browser(server.base)
        assert staff.request("/tracing/login", {**staff.form_tokens("/tracing/login"), "username": "kari",
                                                "password": TEST_PASSWORD})[0] == 303
        csrf = {"csrf_token": staff.form_tokens("/tracing/case")["csrf_token"]}
        today = clock.strftime("%Y-%m-%d", clock.localtime(now + 86400))
        fields = {**csrf, "phone": CASE_PHONE, "case_ref": "2026/1234", "onset": today}
        status, _, html = staff.request("/tracing/case", fields)
        assert status == 200 and "3 kontakter å ringe, 4 personer" in html, html[-2000:]
        assert all(name in html for name in ("Mor Hansen", "Sønn Hansen", "Datter Hansen"))
        status, _, call_list = staff.request("/tracing/case/print", fields)
        assert status == 200 and call_list.count(f'href="tel:{FAMILY_PHONE}"') == 1
        assert "3 kontakter på 1 telefonnumre, 4 personer" in call_list
    finally:
        output = server.stop()
    assert "Hansen" not in output and "98765432" not in output
