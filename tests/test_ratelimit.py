"""The public form under abuse: floods stopped, busy kiosks and crowds never; anomaly signs."""
from __future__ import annotations

import pytest
from conftest import GOOD_GUEST, add_venue, hidden_fields, visit_rows
from flask import render_template

from roros_checkin import anomalies, create_app, db, queries, ratelimit
from roros_checkin.db import write_transaction
from server import Browser, Server

PHONE = "+4791234567"


@pytest.fixture
def limited_app(app_config):
    app = create_app({**app_config, "RATELIMIT_ENABLED": True})
    with app.app_context():
        db.upgrade(db.get_db())
    return app


@pytest.fixture
def limited_venue(limited_app) -> str:
    add_venue(limited_app)
    return "kaffestuggu"


def checkin_from(client, address: str, path: str = "/v/", headers: dict | None = None):
    """One guest's check-in from a client address (GET the form, POST it)."""
    client.environ_base["REMOTE_ADDR"] = address
    page = client.get(f"{path}kaffestuggu", headers=headers)
    data = {**hidden_fields(page.get_data(as_text=True)), **GOOD_GUEST}
    return client.post(f"{path}kaffestuggu", data=data, headers=headers)


def test_flood_from_one_address_is_stopped_in_the_guests_language(limited_app, limited_venue, conn):
    client = limited_app.test_client()
    statuses = [checkin_from(client, "203.0.113.5").status_code for _ in range(20)]
    assert statuses == [303] * 20
    response = checkin_from(client, "203.0.113.5", headers={"Accept-Language": "en"})
    assert response.status_code == 429
    assert "Too many registrations" in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 60
    nb = checkin_from(client, "203.0.113.5", headers={"Accept-Language": "nb"})
    assert nb.status_code == 429 and "For mange registreringer" in nb.get_data(as_text=True)
    assert len(visit_rows(conn)) == 20


def test_flood_does_not_block_other_guests(limited_app, limited_venue):
    client = limited_app.test_client()
    for _ in range(25):
        checkin_from(client, "203.0.113.5")
    assert checkin_from(limited_app.test_client(), "198.51.100.20").status_code == 303


def test_crowd_behind_one_mobile_address_gets_in(limited_app, limited_venue, clock, conn):
    """A tour group of 20 on one carrier-NAT address in one minute, then more guests all evening."""
    client = limited_app.test_client()
    for _ in range(20):
        assert checkin_from(client, "100.64.0.1").status_code == 303
        clock.advance(2)
    for _ in range(60):  # one more guest every 2 minutes for two hours
        clock.advance(120)
        assert checkin_from(client, "100.64.0.1").status_code == 303
    assert len(visit_rows(conn)) == 80


def test_busy_kiosk_is_never_blocked(limited_app, limited_venue, clock, conn):
    """A queue at the venue's tablet: a guest every 15 seconds for an hour, phones on the same Wi-Fi."""
    tablet, phones = limited_app.test_client(), limited_app.test_client()
    for guest in range(240):
        assert checkin_from(tablet, "192.0.2.50", path="/kiosk/").status_code == 303
        if guest % 12 == 0:
            assert checkin_from(phones, "192.0.2.50").status_code == 303
        clock.advance(15)
    assert len(visit_rows(conn)) == 260


def test_script_on_the_kiosk_path_is_stopped(limited_app, limited_venue):
    client = limited_app.test_client()
    statuses = [checkin_from(client, "203.0.113.7", path="/kiosk/").status_code for _ in range(11)]
    assert statuses == [303] * 10 + [429]


def test_limit_lifts_after_the_window(limited_app, limited_venue, clock):
    client = limited_app.test_client()
    for _ in range(21):
        checkin_from(client, "203.0.113.5")
    clock.advance(61)
    assert checkin_from(client, "203.0.113.5").status_code == 303


def test_forged_forwarded_for_changes_no_limit(limited_app, limited_venue):
    client = limited_app.test_client()
    statuses = [checkin_from(client, "203.0.113.5", headers={"X-Forwarded-For": f"10.9.{n}.1",
                                                              "X-Real-IP": f"10.8.{n}.1"}).status_code
                for n in range(21)]
    assert statuses == [303] * 20 + [429]


def test_switch_off_for_benchmarks(app, venue):
    assert app.config["RATELIMIT_ENABLED"] is False
    client = app.test_client()
    assert all(checkin_from(client, "203.0.113.5").status_code == 303 for _ in range(25))


def test_whole_venue_budget_caps_a_spread_flood():
    limiter = ratelimit.CheckinLimiter()
    results = [limiter.hit(f"203.0.113.{n % 200}", "kaffestuggu", "qr", 1000) for n in range(121)]
    assert results[:120] == [0] * 120 and results[120] > 0
    assert limiter.hit("198.51.100.1", "another-venue", "qr", 1000) == 0


def test_limiter_forgets_addresses_within_the_hour():
    limiter = ratelimit.CheckinLimiter()
    limiter.hit("203.0.113.5", "kaffestuggu", "qr", 1000)
    limiter._prune(1000 + 3601)
    assert not any("203.0.113.5" in key for key in limiter.hits)


# --- the real server: waitress drops a forged X-Forwarded-For from a peer that is not the proxy ---

@pytest.mark.slow
def test_forged_forwarded_for_on_the_real_server(tmp_path):
    server = Server(tmp_path, "--demo").start()
    try:
        browser = Browser(server.base)
        statuses = []
        for n in range(21):
            tokens = browser.form_tokens("/v/demo-kafe")
            data = {**tokens, "name": "Kari Nordmann", "phone": "912 34 567", "consent": "y"}
            status, _, _ = browser.request("/v/demo-kafe", data, headers={"X-Forwarded-For": f"10.7.{n}.1"})
            statuses.append(status)
    finally:
        server.stop()
    assert statuses == [303] * 20 + [429]


@pytest.mark.slow
def test_configured_proxy_is_trusted_for_the_client_address(tmp_path):
    """Behind the configured proxy (here the test itself, on 127.0.0.1) each forwarded client counts apart."""
    server = Server(tmp_path, "--demo", env={"ROROS_TRUSTED_PROXY": "127.0.0.1"}).start()
    try:
        browser = Browser(server.base)
        statuses = []
        for n in range(25):
            headers = {"X-Forwarded-For": f"198.51.100.{n}", "X-Forwarded-Proto": "http"}
            tokens = browser.form_tokens("/v/demo-kafe")
            data = {**tokens, "name": "Kari Nordmann", "phone": "912 34 567", "consent": "y"}
            statuses.append(browser.request("/v/demo-kafe", data, headers=headers)[0])
    finally:
        server.stop()
    assert statuses == [303] * 25


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
        return anomalies.venue_anomalies(conn, queries.venue_by_slug(conn, "kaffestuggu"), start, end)


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


def test_burst_from_one_address_is_flagged_without_the_address(limited_app, limited_venue, clock):
    client = limited_app.test_client()
    for _ in range(12):
        checkin_from(client, "203.0.113.99")
        clock.advance(20)
    result = found(limited_app, int(clock.now) - 3600, int(clock.now) + 60)
    address = [a for a in result if a.kind == "address"]
    assert len(address) == 1 and address[0].count == 12
    with limited_app.test_request_context():
        html = render_template("tracing/_anomalies.html", anomalies=result)
    assert "12 registreringer fra samme nettadresse" in html and "203.0.113.99" not in html


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
