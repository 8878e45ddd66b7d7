"""CSRF stays on here, and the guest's language follows the browser and the switch."""
from __future__ import annotations

from conftest import GOOD_GUEST, hidden_fields, post_checkin, visit_rows


def test_post_without_csrf_token_stores_nothing(client, venue, conn):
    page = client.get("/v/kaffestuggu").get_data(as_text=True)
    data = {**GOOD_GUEST, "idempotency_key": hidden_fields(page)["idempotency_key"]}
    response = client.post("/v/kaffestuggu", data=data)
    assert response.status_code == 400
    assert visit_rows(conn) == []


def test_token_from_another_session_is_refused(app, venue, conn):
    other = app.test_client()
    token = hidden_fields(other.get("/v/kaffestuggu").get_data(as_text=True))["csrf_token"]
    client = app.test_client()
    page = client.get("/v/kaffestuggu").get_data(as_text=True)
    data = {**hidden_fields(page), **GOOD_GUEST, "csrf_token": token}
    assert client.post("/v/kaffestuggu", data=data).status_code == 400
    assert visit_rows(conn) == []


def test_expired_form_comes_back_fresh_with_what_was_typed(app, client, venue, conn, monkeypatch):
    page = client.get("/v/kaffestuggu").get_data(as_text=True)
    data = {**hidden_fields(page), **GOOD_GUEST, "area": "Bord 9"}
    # Flask-WTF reads the wall clock for the token's age: move it past the one-hour lifetime.
    import itsdangerous.timed
    real_time = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() + 3700)
    response = client.post("/v/kaffestuggu", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Siden hadde vært åpen lenge" in html
    # Nothing the guest typed was wrong: no "correct this" alert (it would take focus and list nothing).
    assert "error-summary" not in html and "Rett opp dette" not in html
    assert 'value="Kari Nordmann"' in html and 'value="912 34 567"' in html and 'value="Bord 9"' in html
    assert visit_rows(conn) == []
    fresh = hidden_fields(html)
    assert fresh["csrf_token"] != data["csrf_token"]
    assert client.post("/v/kaffestuggu", data={**data, **fresh}).status_code == 303
    assert len(visit_rows(conn)) == 1


def test_logout_without_token_is_refused(staff_client):
    assert staff_client.post("/tracing/logout").status_code == 400


def test_bokmaal_is_the_default(client, venue):
    html = client.get("/v/kaffestuggu").get_data(as_text=True)
    assert '<html lang="nb">' in html and "Registrer meg" in html


def test_english_browser_gets_english(client, venue):
    html = client.get("/v/kaffestuggu", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Check in at Kaffestuggu" in html


def test_norwegian_browser_tags_get_bokmaal(client, venue):
    for header in ("nb-NO", "no", "no-NO,en;q=0.5"):
        html = client.get("/v/kaffestuggu", headers={"Accept-Language": header}).get_data(as_text=True)
        assert '<html lang="nb">' in html


def test_language_switch_sticks_and_returns(client, venue):
    response = client.get("/lang/en?next=/v/kaffestuggu")
    assert response.status_code == 303 and response.headers["Location"] == "/v/kaffestuggu"
    html = client.get("/v/kaffestuggu", headers={"Accept-Language": "nb"}).get_data(as_text=True)
    assert '<html lang="en">' in html


def test_language_switch_is_on_the_form(client, venue):
    html = client.get("/v/kaffestuggu").get_data(as_text=True)
    assert 'href="/lang/en?next=/v/kaffestuggu"' in html and ">English<" in html


def test_language_switch_never_leaves_the_site(client):
    for target in ("https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)"):
        response = client.get("/lang/en", query_string={"next": target})
        assert response.headers["Location"] == "/"


def test_errors_and_receipt_are_translated(client, venue):
    client.get("/lang/en?next=/")
    html = post_checkin(client, phone="abc").get_data(as_text=True)
    assert "This is not a phone number we can call" in html
    location = post_checkin(client).headers["Location"]
    assert "You are registered" in client.get(location).get_data(as_text=True)
    assert "Page not found" in client.get("/v/nope").get_data(as_text=True)
