"""Staff pages never answer 500 to a file in a form or to a database another process keeps locked:
a clear 400 or 503 page, and nothing stored."""
from __future__ import annotations

import fcntl
import io
import os
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from conftest import TEST_PASSWORD, hidden_fields
from roros_checkin import db
from tracing_data import add_visit

FILE_REFUSED = "Skjemaet inneholdt en fil"
UNAVAILABLE = "Databasen er ikke tilgjengelig akkurat nå"
CASE = {"phone": "+4791234567", "case_ref": "2026/17", "onset": "2026-11-20"}
VENUE = {"venue": "kaffestuggu", "case_ref": "2026/17", "from": "2026-11-19T18:00", "to": "2026-11-19T20:00"}
PAPER = {"venue": "kaffestuggu", "date": "2026-11-19", "rows": "Per Hansen; 98765432; 18:30; 1"}
LOGIN = {"username": "kari", "password": TEST_PASSWORD}
# Every POST route of the tracing blueprint with a form that would otherwise succeed.
POSTS = {"/tracing/case": CASE, "/tracing/case/export": CASE, "/tracing/case/print": CASE,
         "/tracing/venue": VENUE, "/tracing/venue/export": VENUE, "/tracing/paper": PAPER,
         "/tracing/audit/person": {"phone": "+4791234567", "reason": "klage 2026/77"},
         "/tracing/person": {"phone": "+4791234567", "reference": "2026/77"},
         "/tracing/person/correct": {"phone": "+4791234567", "reference": "2026/77", "visit": "1",
                                     "name": "Kari Nordmann", "new_phone": "+4791234568"},
         "/tracing/person/delete": {"phone": "+4791234567", "reference": "2026/77", "visit": "1"},
         "/tracing/login": LOGIN, "/tracing/logout": {},
         # Case work (ids of no case: refused all the same, before the id is looked up).
         "/tracing/cases/1/contacts/1": {"state": "reached", "version": "1"},
         "/tracing/cases/1/sms": {"contact": "1"}, "/tracing/cases/1/contacts/1/sms": {}}
GETS = ["/tracing/", "/tracing/case", "/tracing/venue", "/tracing/paper", "/tracing/activity",
        "/tracing/audit", "/tracing/audit/person", "/tracing/login", "/tracing/no-such-page",
        "/tracing/person", "/tracing/cases", "/tracing/cases/1", "/tracing/cases/1/sms",
        "/tracing/cases/1/contacts/1/sms"]
# The routes with ids, and the paths above that stand for them.
RULE_OF = {"/tracing/cases/1": "/tracing/cases/<int:case_id>", "/tracing/cases/1/sms": "/tracing/cases/<int:case_id>/sms",
           "/tracing/cases/1/contacts/1": "/tracing/cases/<int:case_id>/contacts/<int:contact_id>",
           "/tracing/cases/1/contacts/1/sms": "/tracing/cases/<int:case_id>/contacts/<int:contact_id>/sms"}


def tracing_routes(app) -> tuple[set[str], set[str]]:
    gets, posts = set(), set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("tracing."):
            (gets.add(rule.rule) if "GET" in rule.methods else None)
            (posts.add(rule.rule) if "POST" in rule.methods else None)
    return gets, posts


def test_the_lists_here_cover_every_tracing_route(app):
    gets, posts = tracing_routes(app)
    assert gets <= {RULE_OF.get(path, path) for path in GETS}
    assert posts == {RULE_OF.get(path, path) for path in POSTS}


def counts(conn) -> tuple[int, int]:
    return (conn.execute("SELECT count(*) FROM visits").fetchone()[0],
            conn.execute("SELECT count(*) FROM audit_log").fetchone()[0])


@pytest.mark.parametrize("path", sorted(POSTS))
@pytest.mark.parametrize("as_file", ["first", "every", "extra", "empty-name", "csrf"])
def test_a_form_field_sent_as_a_file_is_a_clear_400(staff_client, conn, venue, path, as_file):
    add_visit(conn, "kaffestuggu", "Kari Nordmann", "+4791234567", "2026-11-19T18:00")
    before = counts(conn)
    token = hidden_fields(staff_client.get("/tracing/paper").get_data(as_text=True))
    fields: dict = {**token, **POSTS[path]}
    names = [name for name in POSTS[path]] or ["csrf_token"]
    if as_file == "first":
        fields[names[0]] = (io.BytesIO(b"kaffestuggu\n"), "hostname")
    elif as_file == "every":
        fields.update({name: (io.BytesIO(str(fields[name]).encode()), f"{name}.txt") for name in names})
    elif as_file == "extra":
        fields["note"] = (io.BytesIO(b"\x00\xff" * 100), "x.bin")
    elif as_file == "empty-name":
        fields[names[-1]] = (io.BytesIO(b""), "")
    else:
        fields["csrf_token"] = (io.BytesIO(token["csrf_token"].encode()), "token")
    response = staff_client.post(path, data=fields, content_type="multipart/form-data")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/html"
    assert counts(conn) == before
    # Still logged in: a refused form ends nothing.
    assert staff_client.get("/tracing/").status_code == 200


@contextmanager
def writer_lock_of_another_process(path: str):
    """flock on the database's writer queue, as a second server or `flask purge` takes it."""
    fd = os.open(path + db.WRITER_LOCK_SUFFIX, os.O_RDONLY | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def test_every_staff_route_answers_503_while_another_process_holds_the_write_lock(
        staff_client, app, conn, venue, monkeypatch):
    add_visit(conn, "kaffestuggu", "Kari Nordmann", "+4791234567", "2026-11-19T18:00")
    token = hidden_fields(staff_client.get("/tracing/paper").get_data(as_text=True))
    before = counts(conn)
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    with writer_lock_of_another_process(app.config["DATABASE"]):
        answers = {("GET", path): staff_client.get(path) for path in GETS}
        answers.update({("POST", path): staff_client.post(path, data={**token, **fields})
                        for path, fields in POSTS.items()})
    for (method, path), response in answers.items():
        assert response.status_code == 503, (method, path, response.status_code)
        assert UNAVAILABLE in response.get_data(as_text=True), (method, path)
        assert response.headers["Retry-After"] and response.headers["Cache-Control"] == "no-store"
    assert counts(conn) == before
    assert staff_client.get("/tracing/").status_code == 200
    assert staff_client.post("/tracing/case", data={**token, **CASE}).status_code == 200
    assert counts(conn)[1] == before[1] + 1


def timed(browser, path: str, data: dict | None):
    started = time.monotonic()
    answer = browser.request(path, data)
    return answer, time.monotonic() - started


@pytest.mark.slow
def test_on_the_real_server_staff_get_503_while_a_sqlite_shell_holds_the_write_lock(tmp_path):
    from server import ROOT, Server
    from server import Browser as ShortBrowser

    class Browser(ShortBrowser):
        """Waits longer than the busy timeout, so a late answer is measured rather than cut off."""

        timeout = 30

    server = Server(tmp_path, env={"ROROS_TWO_FACTOR_ENABLED": "false"})
    added = subprocess.run([sys.executable, "-m", "flask", "staff", "add", "kari", "--password-stdin"],
                           cwd=ROOT, env=server.environ, input=TEST_PASSWORD + "\n", capture_output=True,
                           text=True, timeout=60, check=False)
    assert added.returncode == 0, added.stderr
    subprocess.run([sys.executable, "-m", "flask", "venues", "add", "kaffestuggu", "Kaffestuggu"],
                   cwd=ROOT, env=server.environ, capture_output=True, timeout=60, check=True)
    server.start()
    try:
        staff = Browser(server.base)
        tokens = staff.form_tokens("/tracing/login")
        status, _, _ = staff.request("/tracing/login", {**tokens, **LOGIN})
        assert status == 303
        token = {"csrf_token": staff.form_tokens("/tracing/paper")["csrf_token"]}
        stranger = Browser(server.base)
        stranger_token = stranger.form_tokens("/tracing/login")
        # What a `sqlite3` shell (or any other program) holding a write transaction does.
        shell = sqlite3.connect(server.database, isolation_level=None)
        shell.execute("BEGIN IMMEDIATE")
        try:
            requests = [(staff, path, None) for path in GETS if path != "/tracing/login"]
            requests += [(staff, path, {**token, **fields}) for path, fields in POSTS.items()
                         if path != "/tracing/login"]
            requests.append((stranger, "/tracing/login", {**stranger_token, **LOGIN}))
            with ThreadPoolExecutor(max_workers=4) as pool:
                answers = list(pool.map(lambda item: (item[1], item[2] is not None,
                                                      *timed(item[0], item[1], item[2])), requests))
            login_page = stranger.request("/tracing/login")
        finally:
            shell.execute("ROLLBACK")
            shell.close()
        for path, posted, (status, headers, html), seconds in answers:
            assert status == 503, (path, posted, status, html[:200])
            assert UNAVAILABLE in html and headers["Retry-After"], path
            # At most the busy timeout (5 s) in all, queued behind the server's other writers or
            # not; before, a queued one waited it twice (10 s). Slack for a loaded machine; the exact
            # bound is tests/test_db_and_config.py's queued-writer test.
            assert seconds < 8, (path, seconds)
        # Reading the login page writes nothing, so it is served even then.
        assert login_page[0] == 200
        status, _, html = staff.request("/tracing/case", {**token, **CASE})
        assert status == 200 and "Resultat for sak 2026/17" in html
    finally:
        output = server.stop()
    assert "Traceback" not in output and TEST_PASSWORD not in output
