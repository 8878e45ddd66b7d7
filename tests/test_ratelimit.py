"""The public form under abuse: limits set by what abuse costs the register, never by a crowd."""
from __future__ import annotations

import random
import string
import time
from types import SimpleNamespace

import limits.storage.memory
import limits.strategies
import pytest
from conftest import GOOD_GUEST, add_venue, hidden_fields, visit_rows
from flask import render_template

from roros_checkin import anomalies, create_app, db, queries, ratelimit
from roros_checkin.db import write_transaction
from server import Browser, Server

PHONE = "+4791234567"


@pytest.fixture
def limited_app(app_config, clock, monkeypatch):
    """The app with its limits on; the limiter's storage reads the test's clock, as the app does."""
    fake_time = SimpleNamespace(time=clock, sleep=time.sleep, monotonic=time.monotonic)
    monkeypatch.setattr(limits.storage.memory, "time", fake_time)
    monkeypatch.setattr(limits.strategies, "time", fake_time)
    monkeypatch.setattr(ratelimit, "time", fake_time)
    app = create_app({**app_config, "RATELIMIT_ENABLED": True})
    with app.app_context():
        db.upgrade(db.get_db())
    return app


@pytest.fixture
def limited_venue(limited_app) -> str:
    add_venue(limited_app)
    return "kaffestuggu"


def storage(app):
    """The limiter's in-memory store: counters (fixed windows) and events (moving windows)."""
    store = ratelimit.limiter(app).storage
    return store


def state_size(app) -> int:
    store = storage(app)
    return len(store.storage) + len(store.events)


def guest(number: int) -> dict[str, str]:
    """A made-up guest with a phone of their own."""
    return {**GOOD_GUEST, "phone": f"+47 9{number % 10_000_000:07d}"}


def checkin_from(client, address: str, path: str = "/v/", headers: dict | None = None,
                 slug: str = "kaffestuggu", **fields):
    """One guest's check-in from a client address (GET the form, POST it)."""
    client.environ_base["REMOTE_ADDR"] = address
    page = client.get(f"{path}{slug}", headers=headers)
    data = {**hidden_fields(page.get_data(as_text=True)), **GOOD_GUEST, **fields}
    data = {key: value for key, value in data.items() if value is not None}
    return client.post(f"{path}{slug}", data=data, headers=headers)


def test_thirty_guests_a_minute_behind_one_address_all_get_in(limited_app, limited_venue, clock, conn):
    client = limited_app.test_client()
    statuses = []
    for number in range(30):
        statuses.append(checkin_from(client, "100.64.0.1", **guest(number)).status_code)
        clock.advance(2)
    assert statuses == [303] * 30
    assert len(visit_rows(conn)) == 30


def test_flood_from_one_address_is_stopped_in_the_guests_language(limited_app, limited_venue, conn):
    client = limited_app.test_client()
    statuses = [checkin_from(client, "203.0.113.5", **guest(n)).status_code for n in range(60)]
    assert statuses == [303] * 60
    response = checkin_from(client, "203.0.113.5", headers={"Accept-Language": "en"}, **guest(61))
    assert response.status_code == 429
    assert "Too many registrations" in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 60
    nb = checkin_from(client, "203.0.113.5", headers={"Accept-Language": "nb"}, **guest(62))
    assert nb.status_code == 429 and "For mange registreringer" in nb.get_data(as_text=True)
    assert len(visit_rows(conn)) == 60
    # What is no check-in is never looked at by the limits: the view answers it as ever.
    assert client.post("/v/kaffestuggu").status_code == 400
    assert client.post("/v/ingen-slik", data={**guest(63), "idempotency_key": "k" * 24}).status_code == 404


def test_mistakes_and_resent_forms_use_up_no_budget(limited_app, limited_venue, conn):
    """Guests who forget the consent tick, or tap twice, cost the register nothing: no count."""
    client = limited_app.test_client()
    for number in range(100):
        assert checkin_from(client, "100.64.0.2", **{**guest(number), "consent": None}).status_code == 400
    client.environ_base["REMOTE_ADDR"] = "100.64.0.2"
    data = {**hidden_fields(client.get("/v/kaffestuggu").get_data(as_text=True)), **guest(1)}
    for _ in range(100):
        assert client.post("/v/kaffestuggu", data=data).status_code == 303
    statuses = [checkin_from(client, "100.64.0.2", **guest(n)).status_code for n in range(2, 61)]
    assert statuses == [303] * 59
    assert len(visit_rows(conn)) == 60


def junk_posts(client, slug: str = "kaffestuggu") -> list[int]:
    """What a script sends that is no check-in: no body, no or bad key, missing fields, wrong type."""
    key = "k" * 24
    sent = [
        client.post(f"/v/{slug}"),
        client.post(f"/kiosk/{slug}"),
        client.post(f"/v/{slug}", data={"name": "Kari Nordmann", "phone": "91234567", "consent": "y"}),
        client.post(f"/v/{slug}", data={**GOOD_GUEST, "idempotency_key": "short"}),
        client.post(f"/v/{slug}", data={**GOOD_GUEST, "idempotency_key": "ø" * 24}),
        client.post(f"/v/{slug}", data={"idempotency_key": key, "phone": "91234567"}),
        client.post(f"/v/{slug}", data={"idempotency_key": key, "name": "Kari Nordmann", "phone": " "}),
        client.post(f"/v/{slug}", data=f"idempotency_key={key}&name=Kari&phone=912", content_type="text/plain"),
    ]
    return [response.status_code for response in sent]


def test_junk_posts_from_four_addresses_never_shut_the_venue(limited_app, limited_venue, conn):
    add_venue(limited_app, "stengt", "Stengt kafé", active=False)
    client = limited_app.test_client()
    for round_ in range(30):
        for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"):
            client.environ_base["REMOTE_ADDR"] = address
            assert all(status in (400, 404, 405) for status in junk_posts(client))
            assert client.post("/v/stengt", data={**guest(round_), "idempotency_key": "k" * 24}).status_code == 409
            assert client.post("/v/ingen-slik", data={**guest(round_), "idempotency_key": "k" * 24}).status_code == 404
    assert state_size(limited_app) == 0
    # The venue's real guests, and the real guests behind the flooding addresses, all get in.
    for number in range(30):
        assert checkin_from(client, "198.51.100.20", **guest(number)).status_code == 303
        assert checkin_from(client, "203.0.113.1", **guest(100 + number)).status_code == 303
    assert len(visit_rows(conn)) == 60


def test_flood_does_not_block_other_guests(limited_app, limited_venue):
    client = limited_app.test_client()
    for number in range(65):
        checkin_from(client, "203.0.113.5", **guest(number))
    assert checkin_from(limited_app.test_client(), "198.51.100.20", **guest(99)).status_code == 303


def test_crowd_behind_one_mobile_address_gets_in_all_evening(limited_app, limited_venue, clock, conn):
    """A tour group of 30 on one carrier-NAT address in one minute, then more guests all evening."""
    client = limited_app.test_client()
    for number in range(30):
        assert checkin_from(client, "100.64.0.1", **guest(number)).status_code == 303
        clock.advance(2)
    for number in range(60):  # one more guest every 2 minutes for two hours
        clock.advance(120)
        assert checkin_from(client, "100.64.0.1", **guest(100 + number)).status_code == 303
    assert len(visit_rows(conn)) == 90


def test_busy_kiosk_is_never_blocked(limited_app, limited_venue, clock, conn):
    """A queue at the venue's tablet: a guest every 15 seconds for an hour, phones on the same Wi-Fi."""
    tablet, phones = limited_app.test_client(), limited_app.test_client()
    for number in range(240):
        assert checkin_from(tablet, "192.0.2.50", path="/kiosk/", **guest(number)).status_code == 303
        if number % 12 == 0:
            assert checkin_from(phones, "192.0.2.50", **guest(1000 + number)).status_code == 303
        clock.advance(15)
    assert len(visit_rows(conn)) == 260


def test_script_on_the_kiosk_path_is_stopped(limited_app, limited_venue):
    client = limited_app.test_client()
    statuses = [checkin_from(client, "203.0.113.7", path="/kiosk/", **guest(n)).status_code for n in range(21)]
    assert statuses == [303] * 20 + [429]


def test_limit_lifts_after_the_window(limited_app, limited_venue, clock):
    client = limited_app.test_client()
    statuses = [checkin_from(client, "203.0.113.5", **guest(n)).status_code for n in range(61)]
    assert statuses[-1] == 429
    clock.advance(61)
    assert checkin_from(client, "203.0.113.5", **guest(99)).status_code == 303


def test_forged_forwarded_for_changes_no_limit(limited_app, limited_venue):
    client = limited_app.test_client()
    statuses = [checkin_from(client, "203.0.113.5", headers={"X-Forwarded-For": f"10.9.{n}.1",
                                                              "X-Real-IP": f"10.8.{n}.1"}, **guest(n)).status_code
                for n in range(61)]
    assert statuses == [303] * 60 + [429]


def test_one_ipv6_subscriber_network_counts_as_one_address(limited_app, limited_venue):
    """A phone gets a /64: rotating addresses inside it changes no limit; another /64 counts apart."""
    client = limited_app.test_client()
    statuses = [checkin_from(client, f"2001:db8:1:2::{n:x}", **guest(n)).status_code for n in range(61)]
    assert statuses == [303] * 60 + [429]
    assert checkin_from(client, "2001:db8:1:3::1", **guest(99)).status_code == 303


def test_switch_off_for_benchmarks(app, venue):
    assert app.config["RATELIMIT_ENABLED"] is False
    client = app.test_client()
    assert all(checkin_from(client, "203.0.113.5", **guest(n)).status_code == 303 for n in range(65))


def wait_for(condition, seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_limiter_forgets_addresses_within_the_hour(limited_app, limited_venue, clock):
    client = limited_app.test_client()
    checkin_from(client, "203.0.113.5", **guest(1))
    assert any("203.0.113.5" in key for key in storage(limited_app).storage)
    clock.advance(2 * 3600 + 1)  # the hour's counter is kept through the next hour, then dropped
    checkin_from(client, "198.51.100.7", **guest(2))  # a write wakes the store's expiry
    assert wait_for(lambda: not any("203.0.113.5" in key for key in storage(limited_app).storage))
    assert state_size(limited_app) == 4


def random_slug() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits + "-", k=random.randint(1, 40)))


def test_tens_of_thousands_of_posts_to_unknown_venues_leave_no_state(limited_app, limited_venue, conn):
    """Posts to random /kiosk/<slug> and /v/<slug> (404s, even with a well-formed form) keep nothing."""
    client = limited_app.test_client()
    random.seed(13)
    plausible = {**GOOD_GUEST, "idempotency_key": "k" * 24}
    for number in range(20_000):
        client.environ_base["REMOTE_ADDR"] = f"203.0.{number % 250}.{number // 250 % 250}"
        path = random.choice(("/kiosk/", "/v/"))
        data = plausible if number % 2 else None
        assert client.post(path + random_slug(), data=data).status_code == 404
    assert state_size(limited_app) == 0
    assert checkin_from(client, "198.51.100.9", **guest(1)).status_code == 303
    # One real check-in: a counter per QR rule (address at the venue, address over all venues)
    # and window (minute, hour).
    assert state_size(limited_app) == 4
    assert len(visit_rows(conn)) == 1


# --- one phone at many venues ----------------------------------------------------------------

def venues(app, count: int) -> list[str]:
    slugs = [f"sted-{n}" for n in range(count)]
    for slug in slugs:
        add_venue(app, slug, f"Sted {slug}")
    return slugs


def test_phone_at_a_fourth_venue_within_ten_minutes_is_refused(limited_app, clock, conn):
    slugs = venues(limited_app, 5)
    client = limited_app.test_client()
    for slug in slugs[:3]:
        assert checkin_from(client, "100.64.0.9", slug=slug, phone=PHONE).status_code == 303
        clock.advance(60)
    refused = checkin_from(client, "100.64.0.9", slug=slugs[3], phone=PHONE, headers={"Accept-Language": "en"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "registered at 3 other places in the last 10 minutes" in html
    assert 'aria-invalid="true"' in html and "Kari Nordmann" in html  # beside the field, typed data kept
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    nb = checkin_from(client, "100.64.0.9", slug=slugs[4], phone=PHONE, headers={"Accept-Language": "nb"})
    assert nb.status_code == 429 and "registrert på 3 andre steder de siste 10 minuttene" in nb.get_data(as_text=True)
    assert len(visit_rows(conn)) == 3
    # The same phone again at a venue it is already at (a family sharing a phone) is no new venue.
    assert checkin_from(client, "100.64.0.9", slug=slugs[0], phone=PHONE, name="Sønn Hansen").status_code == 303
    # Once one of the three (the second; the first was just visited again) is ten minutes ago,
    # a fourth venue is allowed.
    clock.advance(600 - 3 * 60 + 60 + 1)
    assert checkin_from(client, "100.64.0.9", slug=slugs[3], phone=PHONE).status_code == 303
    assert len(visit_rows(conn)) == 5


def store_at_three_venues(conn, slugs: list[str], now: int, source: str) -> None:
    """Visits of PHONE at the first three venues a minute ago, stored past this app (another process)."""
    with write_transaction(conn):
        for number, slug in enumerate(slugs[:3]):
            queries.insert_visit(conn, queries.NewVisit(
                queries.venue_by_slug(conn, slug)["id"], "Kari Nordmann", PHONE, 1, None, now - 60, now - 60,
                source, f"{source}-stored-key-{number:04d}", None, None))


def test_phone_rule_counts_rows_stored_by_another_process(limited_app, clock, conn):
    """The count is read from the database: visits another server process stored count too."""
    slugs = venues(limited_app, 4)
    store_at_three_venues(conn, slugs, int(clock.now), "qr")
    response = checkin_from(limited_app.test_client(), "100.64.0.9", slug=slugs[3], phone="912 34 567")
    assert response.status_code == 429
    assert len(visit_rows(conn)) == 3


def test_paper_lists_do_not_count_for_the_phone_rule(limited_app, clock, conn):
    slugs = venues(limited_app, 4)
    store_at_three_venues(conn, slugs, int(clock.now), "paper")
    assert checkin_from(limited_app.test_client(), "100.64.0.9", slug=slugs[3], phone=PHONE).status_code == 303


# --- the real server --------------------------------------------------------------------------

def real_checkin(browser: Browser, path: str, number: int, headers: dict | None = None, **fields) -> int:
    tokens = browser.form_tokens(path)
    data = {**tokens, "name": "Kari Nordmann", "phone": f"9{number % 10_000_000:07d}", "consent": "y",
            **fields}
    return browser.request(path, data, headers=headers)[0]


@pytest.mark.slow
def test_thirty_guests_in_a_minute_from_one_address_on_the_real_server(tmp_path):
    server = Server(tmp_path, "--demo").start()
    started = time.monotonic()
    try:
        browser = Browser(server.base)
        statuses = [real_checkin(browser, "/v/demo-kafe", 40_000_000 + n) for n in range(30)]
    finally:
        server.stop()
    assert time.monotonic() - started < 60
    assert statuses == [303] * 30
    count = db.connect(str(server.database)).execute("SELECT count(*) FROM visits").fetchone()[0]
    assert count == 30


@pytest.mark.slow
def test_flood_of_empty_posts_from_four_addresses_leaves_the_venue_open_on_the_real_server(tmp_path):
    """Four addresses (behind the configured proxy, here the test) send junk; real guests still get in."""
    server = Server(tmp_path, "--demo", env={"ROROS_TRUSTED_PROXY": "127.0.0.1"}).start()
    try:
        browser = Browser(server.base)
        flood = []
        for round_ in range(40):
            for n in range(1, 5):
                headers = {"X-Forwarded-For": f"203.0.113.{n}", "X-Forwarded-Proto": "http"}
                flood.append(browser.request("/v/demo-kafe", {}, headers=headers)[0])
                flood.append(browser.request("/v/demo-kafe", {"name": "x", "phone": "1"}, headers=headers)[0])
                flood.append(browser.request(f"/kiosk/nope-{round_}", {}, headers=headers)[0])
        guests = [real_checkin(browser, "/v/demo-kafe", 41_000_000 + n,
                               headers={"X-Forwarded-For": address, "X-Forwarded-Proto": "http"})
                  for n, address in enumerate(["198.51.100.1", "203.0.113.1", "203.0.113.4"] * 10)]
    finally:
        server.stop()
    assert set(flood) <= {400, 404} and 429 not in flood
    assert guests == [303] * 30


@pytest.mark.slow
def test_phone_at_a_fourth_venue_is_refused_on_the_real_server(tmp_path):
    server = Server(tmp_path, "--demo").start()
    try:
        conn = db.connect(str(server.database))
        with write_transaction(conn):
            for slug in ("sted-a", "sted-b", "sted-c"):
                queries.insert_venue(conn, slug, f"Sted {slug}", "Kjerkgata 2", int(time.time()))
        browser = Browser(server.base)
        first = [real_checkin(browser, f"/v/{slug}", 0, phone="+47 912 34 567")
                 for slug in ("sted-a", "sted-b", "sted-c")]
        tokens = browser.form_tokens("/v/demo-kafe")
        data = {**tokens, "name": "Kari Nordmann", "phone": "+47 912 34 567", "consent": "y"}
        status, headers, html = browser.request("/v/demo-kafe", data, headers={"Accept-Language": "en"})
        rows = conn.execute("SELECT venues.slug FROM visits JOIN venues ON venues.id = visits.venue_id"
                            " ORDER BY visits.id").fetchall()
        conn.close()
    finally:
        server.stop()
    assert first == [303] * 3
    assert status == 429 and "registered at 3 other places in the last 10 minutes" in html
    assert int(headers["Retry-After"]) > 0
    assert [row[0] for row in rows] == ["sted-a", "sted-b", "sted-c"]


@pytest.mark.slow
def test_forged_forwarded_for_on_the_real_server(tmp_path):
    server = Server(tmp_path, "--demo").start()
    try:
        browser = Browser(server.base)
        statuses = [real_checkin(browser, "/v/demo-kafe", 42_000_000 + n, headers={"X-Forwarded-For": f"10.7.{n}.1"})
                    for n in range(61)]
    finally:
        server.stop()
    assert statuses == [303] * 60 + [429]


@pytest.mark.slow
def test_configured_proxy_is_trusted_for_the_client_address(tmp_path):
    """Behind the configured proxy (here the test itself, on 127.0.0.1) each forwarded client counts apart."""
    server = Server(tmp_path, "--demo", env={"ROROS_TRUSTED_PROXY": "127.0.0.1"}).start()
    try:
        browser = Browser(server.base)
        statuses = []
        for n in range(65):
            headers = {"X-Forwarded-For": f"198.51.100.{n}", "X-Forwarded-Proto": "http"}
            statuses.append(real_checkin(browser, "/v/demo-kafe", 43_000_000 + n, headers=headers))
    finally:
        server.stop()
    assert statuses == [303] * 65


@pytest.mark.slow
def test_forged_forwarded_proto_does_not_make_https_on_the_real_server(tmp_path):
    server = Server(tmp_path, "--demo").start()
    try:
        status, headers, _ = Browser(server.base).request("/", headers={"X-Forwarded-Proto": "https"})
    finally:
        server.stop()
    assert status == 200 and "Strict-Transport-Security" not in headers
    assert headers["X-Frame-Options"] == "DENY"


# --- anomalies ------------------------------------------------------------------------------

def insert_arrivals(app, arrivals: list[int], source: str = "qr") -> None:
    with app.app_context():
        conn = db.get_db()
        venue = queries.venue_by_slug(conn, "kaffestuggu")
        with write_transaction(conn):
            for number, arrived in enumerate(arrivals):
                queries.insert_visit(conn, queries.NewVisit(
                    venue["id"], "Test Gjest", PHONE, 1, None, arrived, arrived, source,
                    f"anomaly-test-key-{source}-{number:06d}", None, None))


def found(app, start: int, end: int) -> list[anomalies.Anomaly]:
    with app.test_request_context():
        conn = db.get_db()
        per_venue = {venue["slug"]: odd for venue, odd in anomalies.anomalies_per_venue(conn, start, end)}
        return per_venue.get("kaffestuggu", [])


def test_burst_of_checkins_is_flagged(app, venue, clock):
    start = int(clock.now)
    insert_arrivals(app, [start + 10 * n for n in range(35)] + [start + 7200])
    result = found(app, start - 3600, start + 10800)
    assert [(a.kind, a.count, a.first) for a in result] == [("burst", 35, start)]


def test_ordinary_evening_is_not_flagged(app, venue, clock):
    start = int(clock.now)
    insert_arrivals(app, [start + 60 * n for n in range(100)])  # a guest a minute
    assert found(app, start, start + 7200) == []


def test_paper_lists_are_not_a_burst(app, venue, clock):
    start = int(clock.now)
    insert_arrivals(app, [start] * 40, source="paper")
    assert found(app, start - 60, start + 60) == []


def test_checkins_at_night_are_flagged(app, venue, clock):
    four_am = int(clock.now) + 10 * 3600  # Friday 18:00 + 10 h = Saturday 04:00 in Oslo
    insert_arrivals(app, [four_am, four_am + 600, four_am + 3 * 3600])
    result = found(app, four_am - 86400, four_am + 86400)
    assert [(a.kind, a.count) for a in result] == [("night", 2)]


def test_flood_shows_on_the_activity_page_counted_from_stored_rows(limited_app, limited_venue, clock):
    """60 stored from one address, then 40 refused: the page shows the 60 that got in, no address."""
    client = limited_app.test_client()
    statuses = [checkin_from(client, "203.0.113.99", **guest(n)).status_code for n in range(100)]
    assert statuses == [303] * 60 + [429] * 40
    result = found(limited_app, int(clock.now) - 3600, int(clock.now) + 60)
    assert [(a.kind, a.count) for a in result] == [("burst", 60)]
    with limited_app.test_request_context():
        html = render_template("tracing/_anomalies.html", anomalies=result)
    assert "60 registreringer i løpet av 10 minutter" in html and "203.0.113.99" not in html


def test_anomaly_partial_says_when_nothing_is_odd(app):
    with app.test_request_context():
        assert "Ingen avvik" in render_template("tracing/_anomalies.html", anomalies=[])


def test_anomalies_per_venue_lists_only_odd_venues(app, venue, clock):
    from conftest import add_venue
    add_venue(app, "stille", "Stille kafé")
    start = int(clock.now)
    insert_arrivals(app, [start + 5 * n for n in range(30)])
    with app.test_request_context():
        result = anomalies.anomalies_per_venue(db.get_db(), start - 60, start + 3600)
    assert [(venue_row["slug"], [a.kind for a in found]) for venue_row, found in result] == [
        ("kaffestuggu", ["burst"])]


def test_activity_page_shows_anomalies_by_venue(app, venue, clock, staff_client):
    start = int(clock.now) - 3600
    insert_arrivals(app, [start + 5 * n for n in range(30)])
    html = staff_client.get("/tracing/activity").get_data(as_text=True)
    section = html[html.index("Avvik siste 48 timer"):html.index("Per dag")]
    assert "Kaffestuggu" in section and "30 registreringer i løpet av 10 minutter" in section


def test_activity_page_says_when_nothing_is_odd(venue, staff_client):
    html = staff_client.get("/tracing/activity").get_data(as_text=True)
    assert "Ingen avvik: ingen sted hadde uvanlig mange" in html
