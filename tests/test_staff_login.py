"""Staff login: password and one-time code, replay, throttling, enumeration, sessions, redirects."""
from __future__ import annotations

import logging
import re

import pyotp
import pytest
import werkzeug.security
from conftest import TEST_PASSWORD, hidden_fields
from werkzeug.security import generate_password_hash

from roros_checkin import create_app, db, queries
from roros_checkin.db import write_transaction
from roros_checkin import staff as staff_accounts
from roros_checkin.tracing import auth

# A made-up seed for the test accounts' authenticator.
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
FAILED = "Feil brukernavn, passord eller engangskode."
# Login checks reuse the parameters stored in the hash; a cheap one keeps throttle tests fast.
CHEAP_METHOD = "scrypt:1024:8:1"


@pytest.fixture(scope="module")
def cheap_hash() -> str:
    return generate_password_hash(TEST_PASSWORD, method=CHEAP_METHOD)


def add_account(app, password_hash: str, username: str = "kari", secret: str | None = SECRET) -> int:
    with app.app_context():
        conn = db.get_db()
        with write_transaction(conn):
            return queries.insert_staff(conn, username, password_hash, "tracer", secret,
                                        int(app.config["CLOCK"]()))


@pytest.fixture
def kari(app, cheap_hash) -> int:
    return add_account(app, cheap_hash)


def code(clock, steps: int = 0) -> str:
    return pyotp.TOTP(SECRET).at(int(clock.now) + 30 * steps)


def login(client, username="kari", password=TEST_PASSWORD, one_time=None, next_url=None,
          address="192.0.2.10", **kwargs):
    """GET the login page, then POST it from `address` with its CSRF token."""
    environ = {"REMOTE_ADDR": address}
    page = client.get("/tracing/login", environ_base=environ, **kwargs).get_data(as_text=True)
    data = {"csrf_token": hidden_fields(page)["csrf_token"], "username": username, "password": password}
    if one_time is not None:
        data["code"] = one_time
    path = "/tracing/login" + (f"?next={next_url}" if next_url else "")
    return client.post(path, data=data, environ_base=environ, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


# --- password and code ----------------------------------------------------------------------

def test_password_and_code_log_in(client, kari, clock):
    response = login(client, one_time=code(clock))
    assert response.status_code == 303 and response.headers["Location"] == "/tracing/"
    assert client.get("/tracing/").status_code == 200


def test_password_without_code_is_refused(client, kari):
    response = login(client)
    assert response.status_code == 401 and FAILED in text(response)
    assert client.get("/tracing/").status_code == 303


def test_wrong_code_is_refused(client, kari, clock):
    wrong = f"{(int(code(clock)) + 1) % 1_000_000:06d}"
    assert login(client, one_time=wrong).status_code == 401


def test_a_code_is_accepted_once(app, kari, clock):
    first, second = app.test_client(), app.test_client()
    assert login(first, one_time=code(clock)).status_code == 303
    response = login(second, one_time=code(clock))
    assert response.status_code == 401 and FAILED in text(response)
    assert second.get("/tracing/").status_code == 303


def test_an_older_code_is_refused_after_a_newer_one(app, kari, clock):
    assert login(app.test_client(), one_time=code(clock)).status_code == 303
    assert login(app.test_client(), one_time=code(clock, -1)).status_code == 401


def test_drift_window_is_one_step(app, kari, clock):
    assert login(app.test_client(), one_time=code(clock, -2)).status_code == 401
    assert login(app.test_client(), one_time=code(clock, 2)).status_code == 401
    assert login(app.test_client(), one_time=code(clock, -1)).status_code == 303
    clock.advance(30)
    assert login(app.test_client(), one_time=code(clock, 1)).status_code == 303


def test_account_without_enrolled_authenticator_cannot_log_in(app, client, cheap_hash, clock):
    add_account(app, cheap_hash, secret=None)
    assert login(client, one_time=code(clock)).status_code == 401


def test_two_factor_off_only_by_configuration(app_config, cheap_hash):
    app = create_app({**app_config, "TWO_FACTOR_ENABLED": False})
    with app.app_context():
        db.upgrade(db.get_db())
    add_account(app, cheap_hash)
    client = app.test_client()
    assert 'name="code"' not in text(client.get("/tracing/login"))
    assert login(client).status_code == 303


def test_login_page_asks_for_the_code(client):
    html = text(client.get("/tracing/login"))
    assert 'name="code"' in html and 'autocomplete="one-time-code"' in html


def test_password_and_code_never_come_back_in_the_page(client, kari):
    html = text(login(client, password=TEST_PASSWORD + "x", one_time="123456"))
    assert TEST_PASSWORD not in html and "123456" not in html


def test_overlong_password_is_refused_like_a_wrong_one(client, kari, clock):
    response = login(client, password=TEST_PASSWORD + "x" * 200, one_time=code(clock))
    assert response.status_code == 401 and FAILED in text(response)


def test_disabled_account_cannot_log_in(app, client, kari, clock, runner):
    assert runner.invoke(args=["staff", "disable", "kari"]).exit_code == 0
    assert login(client, one_time=code(clock)).status_code == 401


# --- enumeration ----------------------------------------------------------------------------

def _normalised(html: str) -> str:
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", html)


def test_unknown_user_and_wrong_password_look_the_same(app, clock, monkeypatch):
    """Same page, same status, and the same hash work: one scrypt check at the account's cost."""
    add_account(app, staff_accounts.hash_password(TEST_PASSWORD))
    # Every password hash computed (check_password_hash hashes the attempt with the stored
    # method and salt): counting them is what the time of a login follows, without a clock.
    hashed: list[str] = []
    real_hash = werkzeug.security._hash_internal

    def counting_hash(method: str, salt: str, password: str) -> tuple[str, str]:
        hashed.append(method)
        return real_hash(method, salt, password)

    monkeypatch.setattr(werkzeug.security, "_hash_internal", counting_hash)
    pages, work = {}, {}
    for case, username in (("unknown", "nobody-here"), ("wrong", "kari")):
        hashed.clear()
        response = login(app.test_client(), username=username, password="wrong password 123",
                         one_time=code(clock), address="198.51.100.7" if case == "wrong" else "198.51.100.8")
        work[case] = list(hashed)
        # The page keeps what was typed as the username; everything else must be identical.
        pages[case] = (response.status_code, _normalised(text(response)).replace(username, "X"))
    assert pages["unknown"] == pages["wrong"]
    assert pages["wrong"][0] == 401
    assert work["unknown"] == work["wrong"] == [staff_accounts.PASSWORD_METHOD], work


def test_throttled_unknown_user_looks_like_throttled_known_user(app, kari, cheap_hash, monkeypatch):
    monkeypatch.setattr(staff_accounts, "DUMMY_HASH", cheap_hash)
    results = []
    for username in ("kari", "nobody-here"):
        for _ in range(5):
            login(app.test_client(), username=username, password="wrong password 123", one_time="000000")
        response = login(app.test_client(), username=username, password="wrong password 123")
        results.append((response.status_code, _normalised(text(response)).replace(username, "X")))
    assert results[0] == results[1] and results[0][0] == 429


# --- throttling -----------------------------------------------------------------------------

def fail(app, times_: int, username: str = "kari", address: str = "192.0.2.10") -> None:
    for _ in range(times_):
        assert login(app.test_client(), username=username, password="not the password",
                     address=address).status_code == 401


def test_throttle_survives_a_restart(app, app_config, kari, clock):
    fail(app, 5)
    restarted = create_app(app_config)  # a new process on the same database file
    response = login(restarted.test_client(), one_time=code(clock))
    assert response.status_code == 429
    assert "Vent 1 minutt" in text(response) and response.headers["Retry-After"] == "15"
    clock.advance(16)
    assert login(restarted.test_client(), one_time=code(clock)).status_code == 303


def test_delays_grow_with_each_failure(app, kari, clock):
    fail(app, 5)
    waits = []
    for _ in range(3):
        response = login(app.test_client())
        waits.append(int(response.headers["Retry-After"]))
        clock.advance(waits[-1])
        fail(app, 1)
    assert waits == [15, 30, 60]


def test_refused_attempts_do_not_stretch_the_wait(app, kari):
    fail(app, 5)
    for _ in range(10):
        response = login(app.test_client())
    assert response.status_code == 429 and response.headers["Retry-After"] == "15"


def test_another_address_is_not_slowed_by_one_guessing_address(app, kari, clock):
    fail(app, 5, address="203.0.113.66")
    assert login(app.test_client(), one_time=code(clock), address="192.0.2.10").status_code == 303


def test_distributed_guessing_cannot_keep_the_owner_out(app, kari, clock):
    assert login(app.test_client(), one_time=code(clock), address="192.0.2.10").status_code == 303
    clock.advance(60)
    for attacker in range(5):
        fail(app, 2, address=f"203.0.113.{attacker}")
    # From a fresh address the account is now slowed down ...
    assert login(app.test_client(), address="198.51.100.7").status_code == 429
    # ... but from the address its owner used before, the owner gets straight in.
    clock.advance(30)
    assert login(app.test_client(), one_time=code(clock), address="192.0.2.10").status_code == 303


def test_password_spraying_from_one_address_is_slowed(app, kari, cheap_hash, monkeypatch):
    monkeypatch.setattr(staff_accounts, "DUMMY_HASH", cheap_hash)  # unknown users: keep the test fast
    for number in range(20):
        assert login(app.test_client(), username=f"user{number}", password="Sommer2026!",
                     address="203.0.113.9").status_code == 401
    assert login(app.test_client(), username="kari", address="203.0.113.9").status_code == 429
    assert login(app.test_client(), username="kari", address="192.0.2.10").status_code == 401


def test_forged_forwarded_for_does_not_change_the_throttle(app, kari, clock):
    fail(app, 5)
    for fake in ("1.2.3.4", "5.6.7.8, 9.9.9.9"):
        response = login(app.test_client(), one_time=code(clock), headers={"X-Forwarded-For": fake,
                                                                           "X-Real-IP": fake})
        assert response.status_code == 429


def test_every_attempt_is_logged_without_the_password(app, kari, clock, caplog):
    caplog.set_level(logging.INFO, logger="roros_checkin.tracing.auth")
    fail(app, 1)
    login(app.test_client(), one_time=code(clock))
    messages = [record.getMessage() for record in caplog.records]
    assert any("login failed for user 'kari' from 192.0.2.10" in m for m in messages)
    assert any("login for user 'kari' from 192.0.2.10" in m for m in messages)
    assert not any(TEST_PASSWORD in m or "not the password" in m for m in messages)


def test_wrong_codes_count_as_failures(app, kari, clock):
    for _ in range(5):
        assert login(app.test_client(), one_time="000000").status_code == 401
    assert login(app.test_client(), one_time=code(clock)).status_code == 429


def test_username_cannot_forge_log_lines(app, kari, caplog):
    caplog.set_level(logging.INFO, logger="roros_checkin.tracing.auth")
    login(app.test_client(), username="kari\r\nINFO login for user 'admin'", password="x")
    assert caplog.records and all("\n" not in r.getMessage() and "\r" not in r.getMessage()
                                  for r in caplog.records)


def test_attempts_are_stored_without_the_password(app, kari, conn):
    fail(app, 1)
    rows = [tuple(row) for row in conn.execute("SELECT username, client, success FROM login_attempts")]
    assert rows == [("kari", "192.0.2.10", 0)]


# --- sessions -------------------------------------------------------------------------------

def test_login_issues_a_new_session_identifier(app, client, kari, clock):
    client.set_cookie(auth.COOKIE, "chosen-by-an-attacker")
    login(client, one_time=code(clock))
    token = client.get_cookie(auth.COOKIE).value
    assert token != "chosen-by-an-attacker" and len(token) >= 40
    clock.advance(30)
    login(client, one_time=code(clock))
    assert client.get_cookie(auth.COOKIE).value != token
    replay = app.test_client()
    replay.set_cookie(auth.COOKIE, token)
    assert replay.get("/tracing/").status_code == 303


def test_copied_cookie_stops_working_after_logout(app, staff_client):
    token = staff_client.get_cookie(auth.COOKIE).value
    page = text(staff_client.get("/tracing/"))
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert staff_client.post("/tracing/logout", data={"csrf_token": form_token}).status_code == 303
    thief = app.test_client()
    thief.set_cookie(auth.COOKIE, token)
    response = thief.get("/tracing/")
    assert response.status_code == 303 and response.headers["Location"].startswith("/tracing/login")


def test_idle_session_expires_after_30_minutes(staff_client, clock):
    clock.advance(30 * 60)
    assert staff_client.get("/tracing/").status_code == 200
    clock.advance(30 * 60 + 1)
    assert staff_client.get("/tracing/").status_code == 303


def test_active_session_ends_after_10_hours(staff_client, clock):
    for _ in range(20):  # active every 29 minutes: 9 h 40 min
        clock.advance(29 * 60)
        assert staff_client.get("/tracing/").status_code == 200
    clock.advance(20 * 60)  # 10 h 0 min: still inside
    assert staff_client.get("/tracing/").status_code == 200
    clock.advance(1)
    assert staff_client.get("/tracing/").status_code == 303


def test_timeouts_are_configurable(app_config, clock):
    app = create_app({**app_config, "SESSION_IDLE_MINUTES": 5})
    with app.app_context():
        db.upgrade(db.get_db())
        conn = db.get_db()
        with write_transaction(conn):
            staff_id = queries.insert_staff(conn, "kari", "x", "tracer", SECRET, int(clock.now))
        token = staff_accounts.start_session(conn, staff_id, int(clock.now))
    client = app.test_client()
    client.set_cookie(auth.COOKIE, token)
    clock.advance(5 * 60 + 1)
    assert client.get("/tracing/").status_code == 303


def test_disabling_an_account_ends_its_sessions(staff_client, runner, conn):
    assert staff_client.get("/tracing/").status_code == 200
    result = runner.invoke(args=["staff", "disable", "kari"])
    assert result.exit_code == 0 and "1 session(s) ended" in result.output
    assert conn.execute("SELECT count(*) FROM staff_sessions").fetchone()[0] == 0
    assert staff_client.get("/tracing/").status_code == 303


def test_half_session_reaches_no_tracing_page(app, client, kari, clock):
    with app.app_context():
        token = staff_accounts.start_session(db.get_db(), kari, int(clock.now), verified=False)
    client.set_cookie(auth.COOKIE, token)
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/tracing/") and rule.endpoint != "tracing.login" and not rule.arguments:
            assert client.get(rule.rule).status_code in (303, 405), rule.rule


def test_every_tracing_route_needs_a_session(app, client):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/tracing/") or rule.endpoint == "tracing.login":
            continue
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        for method in ("GET", "POST"):
            response = client.open(path, method=method)
            assert response.status_code in (303, 400, 405), (method, path)
            if response.status_code == 303:
                assert response.headers["Location"].startswith("/tracing/login")


def test_cookie_over_http_is_httponly_and_lax(client, kari, clock):
    response = login(client, one_time=code(clock))
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{auth.COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie


def test_cookie_over_https_is_secure_and_host_prefixed(client, kari, clock):
    https = {"base_url": "https://checkin.example.test",
             "headers": {"Referer": "https://checkin.example.test/tracing/login"}}
    response = login(client, one_time=code(clock), **https)
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-roros_staff=")
    assert all(flag in cookie for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"))
    assert "Domain" not in cookie
    assert client.get("/tracing/", base_url="https://checkin.example.test").status_code == 200


def test_https_login_without_referer_is_refused(client, kari, clock):
    """Flask-WTF's strict check stays on: over HTTPS a POST needs a same-origin Referer."""
    response = login(client, one_time=code(clock), base_url="https://checkin.example.test")
    assert response.status_code == 400


# --- where login leads ----------------------------------------------------------------------

OPEN_REDIRECTS = ["//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)",
                  "%2F%2Fevil.example", "/tracing//evil.example", "/tracing/\\evil.example",
                  "/tracing/%0d%0aSet-Cookie:x=y", "http:/evil.example", "/tracing/\x00"]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_next_outside_tracing_goes_to_the_start_page(app, target):
    from urllib.parse import quote
    with app.test_request_context(f"/tracing/login?next={quote(target, safe='%')}"):
        from flask import request
        assert auth._safe_next(request.args.get("next")) == "/tracing/"


def test_login_with_evil_next_lands_on_tracing(client, kari, clock):
    response = login(client, one_time=code(clock), next_url="%2F%2Fevil.example")
    assert response.status_code == 303 and response.headers["Location"] == "/tracing/"


def test_login_with_tracing_next_goes_there(client, kari, clock):
    response = login(client, one_time=code(clock), next_url="/tracing/some/page")
    assert response.headers["Location"] == "/tracing/some/page"


# --- parallel guesses against the real server ------------------------------------------------

@pytest.mark.slow
def test_parallel_wrong_passwords_get_no_more_401s_than_allowed_on_the_real_server(tmp_path):
    """Twelve wrong passwords at once: each attempt is reserved before its hash, so at most five 401s."""
    import subprocess
    import sys
    import threading

    from server import ROOT, Browser, Server

    from roros_checkin import login_throttle as throttle

    server = Server(tmp_path, env={"ROROS_TWO_FACTOR_ENABLED": "false"})
    added = subprocess.run([sys.executable, "-m", "flask", "staff", "add", "kari", "--password-stdin"],
                           cwd=ROOT, env=server.environ, input=TEST_PASSWORD + "\n", capture_output=True,
                           text=True, timeout=60, check=False)
    assert added.returncode == 0, added.stderr
    server.start()
    try:
        browsers = [Browser(server.base) for _ in range(12)]
        forms = [{"csrf_token": browser.form_tokens("/tracing/login")["csrf_token"], "username": "kari",
                  "password": f"wrong guess {n}"} for n, browser in enumerate(browsers)]
        start = threading.Barrier(12)
        statuses: list[int] = []

        def guess(browser: Browser, form: dict) -> None:
            start.wait()
            statuses.append(browser.request("/tracing/login", form)[0])

        threads = [threading.Thread(target=guess, args=pair) for pair in zip(browsers, forms)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        # The owner, from the same address, is held back too: the five failures were recorded.
        owner = Browser(server.base)
        data = {"csrf_token": owner.form_tokens("/tracing/login")["csrf_token"], "username": "kari",
                "password": TEST_PASSWORD}
        owner_status = owner.request("/tracing/login", data)[0]
    finally:
        server.stop()
    assert sorted(statuses) == [401] * throttle.FREE["pair"] + [429] * (12 - throttle.FREE["pair"])
    assert owner_status == 429
