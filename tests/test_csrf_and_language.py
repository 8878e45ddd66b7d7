"""CSRF stays on here (the staff side), and the guest's language follows the browser and the switch."""
from __future__ import annotations

from conftest import post_checkin


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
