"""Headers on every response (errors too), no-store where personal data shows, host names, error pages."""
from __future__ import annotations

import re
import sqlite3

import pytest
from conftest import post_checkin

from roros_checkin import create_app, db, queries
from roros_checkin.security import CONTENT_SECURITY_POLICY

EXPECTED = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
                                "frame-ancestors 'none'; form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def assert_security_headers(response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.status_code, name)
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


@pytest.fixture
def failing_app(app_config, monkeypatch):
    """An app whose database fails mid-request, with exceptions handled as in production."""
    app = create_app({**app_config, "PROPAGATE_EXCEPTIONS": False})
    with app.app_context():
        db.upgrade(db.get_db())

    def broken(*_args, **_kwargs):
        raise sqlite3.OperationalError("no such table: venues in /srv/roros/instance/checkin.sqlite3")

    monkeypatch.setattr(queries, "list_venues", broken)
    return app


def test_csp_is_the_agreed_policy():
    assert CONTENT_SECURITY_POLICY == EXPECTED["Content-Security-Policy"]


def test_headers_on_a_page(client, venue):
    for path in ("/", "/v/kaffestuggu", "/privacy", "/kiosk/kaffestuggu", "/tracing/login",
                 "/static/style.css", "/healthz"):
        with client.get(path) as response:
            assert response.status_code == 200, path
            assert_security_headers(response)


def test_headers_on_400(client, venue):
    response = client.post("/tracing/login", data={"username": "kari"})
    assert response.status_code == 400
    assert_security_headers(response)


def test_headers_on_404(client):
    response = client.get("/v/no-such-venue")
    assert response.status_code == 404
    assert_security_headers(response)


def test_headers_on_413(client, venue):
    response = client.post("/v/kaffestuggu", data={"name": "x" * 200_000})
    assert response.status_code == 413
    assert_security_headers(response)


def test_headers_on_429(app_config, venue):
    app = create_app({**app_config, "RATELIMIT_ENABLED": True})
    client = app.test_client()
    statuses = [post_checkin(client, area=str(n)).status_code for n in range(61)]
    assert statuses[:60] == [303] * 60 and statuses[60] == 429
    response = post_checkin(client)
    assert response.status_code == 429
    assert_security_headers(response)


def test_headers_on_500_and_no_internals_shown(failing_app):
    response = failing_app.test_client().get("/")
    assert response.status_code == 500
    assert_security_headers(response)
    body = response.get_data(as_text=True)
    assert "Noe gikk galt" in body
    for leak in ("Traceback", "OperationalError", "no such table", "/srv/", "sqlite", "Werkzeug",
                 "debugger", "File \""):
        assert leak not in body


def test_debug_is_off(app):
    assert app.debug is False


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    response = client.get("/", base_url="https://checkin.example.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    assert_security_headers(response)


def test_forged_forwarded_proto_does_not_make_https(client):
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


# --- no-store -------------------------------------------------------------------------------

def test_tracing_pages_are_not_stored(client, staff_client):
    assert client.get("/tracing/login").headers["Cache-Control"] == "no-store"
    assert staff_client.get("/tracing/").headers["Cache-Control"] == "no-store"


def test_receipt_and_kiosk_are_not_stored(client, venue):
    response = post_checkin(client)
    assert client.get(response.headers["Location"]).headers["Cache-Control"] == "no-store"
    assert client.get("/kiosk/kaffestuggu").headers["Cache-Control"] == "no-store"
    kiosk = post_checkin(client, path="/kiosk/")
    assert client.get(kiosk.headers["Location"]).headers["Cache-Control"] == "no-store"


def test_tracing_redirect_to_login_is_not_stored(client):
    response = client.get("/tracing/")
    assert response.status_code == 303 and response.headers["Cache-Control"] == "no-store"


# --- host names -----------------------------------------------------------------------------

def test_unknown_host_is_refused(client, venue):
    response = client.get("/v/kaffestuggu", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert_security_headers(response)
    assert "evil.example" not in response.get_data(as_text=True)
    posted = client.post("/tracing/login", data={"username": "kari"}, headers={"Host": "evil.example"})
    assert posted.status_code == 400 and "Ukjent adresse" in posted.get_data(as_text=True)


def test_public_and_local_hosts_are_served(client, venue):
    for host in ("checkin.example.test", "localhost", "127.0.0.1:8080"):
        assert client.get("/v/kaffestuggu", headers={"Host": host}).status_code == 200, host


def test_trusted_hosts_can_be_configured(app_config, venue):
    app = create_app({**app_config, "TRUSTED_HOSTS": ["innsjekk.roros.example"]})
    client = app.test_client()
    assert client.get("/", headers={"Host": "innsjekk.roros.example"}).status_code == 200
    assert client.get("/", headers={"Host": "checkin.example.test"}).status_code == 400


def test_kiosk_return_needs_no_inline_script(client, venue):
    response = post_checkin(client, path="/kiosk/")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    # A static file under script-src 'self', and a meta refresh for tablets without JavaScript.
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/kiosk.js" defer>']
    assert '<noscript><meta http-equiv="refresh"' in html
