"""The guest side on the real waitress server, behind the trusted proxy: a client that keeps no
cookies checks in, cross-site POSTs store nothing, the language switch stays on the site, every
cookie is Secure over HTTPS, long addresses cost no memory, /healthz says when nothing can be stored."""
from __future__ import annotations

import fcntl
import os
import re
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from roros_checkin import db, queries
from roros_checkin.db import write_transaction
from roros_checkin import staff as staff_accounts
from roros_checkin.tracing import auth
from server import NoRedirect, Server

pytestmark = pytest.mark.slow

GUEST = {"name": "Kari Nordmann", "phone": "912 34 567", "consent": "y", "party_size": "1"}
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python app.py --demo`; the tests connect from 127.0.0.1, which is the trusted proxy."""
    directory = tmp_path_factory.mktemp("guest-server")
    running = Server(directory, "--demo", env={"ROROS_TRUSTED_PROXY": "127.0.0.1",
                                                "ROROS_RATELIMIT_ENABLED": "false",
                                                "ROROS_TWO_FACTOR_ENABLED": "false"}).start()
    yield running
    running.stop()


# No cookie jar: what a browser that keeps no cookies sends.
_opener = urllib.request.build_opener(NoRedirect())


def send(server, path: str, data: dict | bytes | None = None, headers: dict | None = None):
    """(status, headers, body) for one request; headers keep repeated names (Set-Cookie)."""
    body = urllib.parse.urlencode(data).encode() if isinstance(data, dict) else data
    request = urllib.request.Request(server.base + path, data=body, headers=headers or {})
    try:
        with _opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def fresh_form(server, path: str = "/v/demo-kafe") -> dict:
    status, headers, html = send(server, path)
    assert status == 200 and headers.get_all("Set-Cookie") is None
    return {"idempotency_key": re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', html).group(1),
            **GUEST}


def stored(server) -> int:
    with sqlite3.connect(server.database) as conn:
        return conn.execute("SELECT count(*) FROM visits").fetchone()[0]


# --- no cookies, origin checks ------------------------------------------------------------

def test_a_client_without_cookies_checks_in_once_and_checks_out(server):
    before = stored(server)
    form = fresh_form(server)
    origin = {"Origin": server.base}
    status, headers, _ = send(server, "/v/demo-kafe", form, origin)
    assert status == 303 and headers.get_all("Set-Cookie") is None
    receipt = headers["Location"]
    status, _, html = send(server, receipt)
    assert status == 200 and "Du er registrert" in html
    # Sent again (a double tap, a retry after a lost answer): the same receipt, one row.
    assert send(server, "/v/demo-kafe", form, origin)[1]["Location"] == receipt
    assert stored(server) == before + 1
    status, headers, _ = send(server, receipt + "/checkout", b"", origin)
    assert status == 303
    assert "Du er sjekket ut" in send(server, headers["Location"])[2]


def test_a_client_without_cookies_checks_in_at_the_kiosk(server):
    before = stored(server)
    form = fresh_form(server, "/kiosk/demo-kafe")
    assert send(server, "/kiosk/demo-kafe", form, {"Referer": server.base + "/kiosk/demo-kafe"})[0] == 303
    assert stored(server) == before + 1


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1:1"},
    {"Referer": "https://evil.example/"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "cross-site", "Referer": "http://127.0.0.1/"},
    {"Origin": "https://127.0.0.1"},  # https, but this request came over plain http
], ids=repr)
@pytest.mark.parametrize("path", ["/v/demo-kafe", "/kiosk/demo-kafe"])
def test_cross_site_posts_store_nothing(server, headers, path):
    before = stored(server)
    status, _, html = send(server, path, fresh_form(server, path), {**headers, "Accept-Language": "de"})
    assert status == 403
    assert "Das Formular wurde von einer anderen Website gesendet" in html
    assert stored(server) == before


def test_behind_the_proxy_the_public_https_origin_is_this_site(server):
    before = stored(server)
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "127.0.0.1"}
    status, _, _ = send(server, "/v/demo-kafe", fresh_form(server), {**https, "Origin": "https://127.0.0.1"})
    assert status == 303
    # The same host over plain http is another origin: a page there could be anyone's.
    status, _, _ = send(server, "/v/demo-kafe", fresh_form(server), {**https, "Origin": "http://127.0.0.1"})
    assert status == 403
    assert stored(server) == before + 1


# --- the language switch ----------------------------------------------------------------

@pytest.mark.parametrize("raw_next", [
    "/%09/evil.example/", "%2F%09%2Fevil.example%2F", "/%0d%0a/evil.example", "%0d%0aSet-Cookie:%20x=y",
    "/%00/evil.example", "%2F%2Fevil.example", "/%5Cevil.example", "%2F%5Cevil.example",
    "/%252F/evil.example", "%2F%E3%80%80%2Fevil.example", "%2F%C2%A0%2Fevil.example",
    "%2F%E2%80%A8%2Fevil.example", "https:%2F%2Fevil.example", "%2F%2F%2Fevil.example",
    "%EF%BC%8F%EF%BC%8Fevil.example", "%ff%fe",
], ids=repr)
def test_the_language_switch_never_sends_a_guest_off_the_site(server, raw_next):
    status, headers, _ = send(server, f"/lang/nn?next={raw_next}")
    assert status == 303
    location = headers["Location"]
    assert location == "/" or re.fullmatch(r"/[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*", location), location
    assert len(headers.get_all("Set-Cookie")) == 1


# --- Secure cookies over HTTPS through the trusted proxy ---------------------------------

def set_cookies(headers) -> dict[str, str]:
    return {cookie.split("=", 1)[0]: cookie for cookie in headers.get_all("Set-Cookie") or []}


def add_staff(server, username: str) -> None:
    conn = db.connect(str(server.database))
    try:
        with write_transaction(conn):
            queries.insert_staff(conn, username, staff_accounts.hash_password(PASSWORD), "tracer", None, int(time.time()))
    finally:
        conn.close()


def staff_login(server, username: str, headers: dict):
    status, page_headers, html = send(server, "/tracing/login", headers=headers)
    session = set_cookies(page_headers)["session"]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    data = {"csrf_token": token, "username": username, "password": PASSWORD}
    cookie = {"Cookie": session.split(";", 1)[0]}
    return session, send(server, "/tracing/login", data, {**headers, **cookie})


def test_every_cookie_is_secure_over_https_from_the_trusted_proxy(server):
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "127.0.0.1",
             "Referer": "https://127.0.0.1/tracing/login", "Origin": "https://127.0.0.1"}
    language = set_cookies(send(server, "/lang/en?next=/", headers=https)[1])["lang"]
    add_staff(server, "kari")
    session, (status, headers, _) = staff_login(server, "kari", https)
    assert status == 303, "login over https failed"
    staff = set_cookies(headers)[auth.SECURE_COOKIE]
    for cookie in (language, session, staff):
        assert "; Secure" in cookie, cookie
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_over_plain_http_the_cookies_are_not_secure(server):
    http = {"Referer": server.base + "/tracing/login", "Origin": server.base}
    language = set_cookies(send(server, "/lang/en?next=/", headers=http)[1])["lang"]
    add_staff(server, "ola")
    session, (status, headers, _) = staff_login(server, "ola", http)
    assert status == 303
    staff = set_cookies(headers)[auth.COOKIE]
    for cookie in (language, session, staff):
        assert "Secure" not in cookie, cookie


# --- memory: long addresses --------------------------------------------------------------

def resident_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        return int(re.search(r"VmRSS:\s+(\d+) kB", status.read()).group(1))


def test_long_query_strings_do_not_grow_the_server(server):
    # An address of 100 KB is refused by waitress on its header (431, app.py waitress_options);
    # those that fit its 16 KB header limit must not shape or fill the page cache either.
    assert send(server, "/v/demo-kafe?q=" + "x" * 100_000)[0] == 431

    def three_hundred_long_addresses(batch: int) -> None:
        for number in range(300):
            status, _, html = send(server, f"/v/demo-kafe?b={batch}&n={number}&q=" + "x" * 12_000)
            assert status == 200 and len(html) < 20_000  # the query string is not echoed into the page

    start = resident_kib(server.process.pid)
    three_hundred_long_addresses(1)
    after_first = resident_kib(server.process.pid)
    three_hundred_long_addresses(2)
    after_second = resident_kib(server.process.pid)
    print(f"RSS {start / 1024:.0f} -> {after_first / 1024:.0f} -> {after_second / 1024:.0f} MiB")
    # Keyed on the whole address, 300 pages of 100 KB addresses took about 360 MB more (53 -> 413 MB),
    # and these 12 KB ones about 20 MB a batch. What stays is the allocator's and waitress's buffers.
    assert (after_first - start) / 1024 < 50
    assert (after_second - after_first) / 1024 < 10


# --- /healthz: can a check-in be stored now? ---------------------------------------------

def test_healthz_is_503_while_another_process_holds_the_write_lock(server):
    assert send(server, "/healthz")[:3:2] == (200, "ok\n")
    other = sqlite3.connect(server.database, isolation_level=None, timeout=5)
    other.execute("BEGIN IMMEDIATE")  # an sqlite3 shell, or a stuck job, in a write transaction
    try:
        status, headers, body = send(server, "/healthz")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert status == 503 and "cannot" not in body and "locked" in body and headers["Retry-After"]
    assert send(server, "/healthz")[0] == 200


def test_healthz_is_503_while_another_process_queues_writers(server):
    holder = os.open(str(server.database) + db.WRITER_LOCK_SUFFIX, os.O_RDONLY | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another server process (or `flask purge`) writing on and on
    try:
        status, _, _ = send(server, "/healthz")
    finally:
        fcntl.flock(holder, fcntl.LOCK_UN)
        os.close(holder)
    assert status == 503
    assert send(server, "/healthz")[0] == 200
