"""Requests no browser sends: none of them gives a 500 or stores anything."""
from __future__ import annotations

import json

from conftest import GOOD_GUEST, add_venue, hidden_fields, post_checkin, visit_rows


def test_json_body_is_refused(client, venue, conn):
    response = client.post("/v/kaffestuggu", data=json.dumps(GOOD_GUEST), content_type="application/json")
    assert response.status_code == 400
    assert visit_rows(conn) == []


def test_plain_text_body_is_refused(client, venue, conn):
    response = client.post("/v/kaffestuggu", data="name=Kari", content_type="text/plain")
    assert response.status_code == 400
    assert visit_rows(conn) == []


def test_multipart_with_many_parts_is_refused(client, venue, conn):
    data = {f"field{i}": "x" for i in range(200)}
    response = client.post("/v/kaffestuggu", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert visit_rows(conn) == []


def test_invalid_utf8_is_refused(client, venue, conn):
    page = client.get("/v/kaffestuggu").get_data(as_text=True)
    tokens = hidden_fields(page)
    body = (f"idempotency_key={tokens['idempotency_key']}"
            "&name=%ff%fe&phone=91234567&consent=y").encode()
    response = client.post("/v/kaffestuggu", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert visit_rows(conn) == []


def test_get_with_odd_query_string(client, venue):
    response = client.get("/v/kaffestuggu?area=%00%ff" + "x" * 5000)
    assert response.status_code == 200


def test_method_not_allowed_is_a_page(client):
    response = client.delete("/v/kaffestuggu")
    assert response.status_code == 405
    assert "<h1>" in response.get_data(as_text=True)


def test_idempotency_key_of_another_venue_gives_a_fresh_form(client, app, venue, conn):
    add_venue(app, "annen", "Annen kafé")
    page = client.get("/v/kaffestuggu").get_data(as_text=True)
    tokens = hidden_fields(page)
    assert client.post("/v/kaffestuggu", data={**tokens, **GOOD_GUEST}).status_code == 303
    other = client.post("/v/annen", data={**tokens, **GOOD_GUEST})
    assert other.status_code == 400
    assert hidden_fields(other.get_data(as_text=True))["idempotency_key"] != tokens["idempotency_key"]
    assert len(visit_rows(conn)) == 1


def test_tampered_idempotency_key_gives_a_fresh_form(client, venue, conn):
    response = post_checkin(client, idempotency_key="short")
    assert response.status_code == 400
    assert len(hidden_fields(response.get_data(as_text=True))["idempotency_key"]) >= 16
    assert visit_rows(conn) == []


def test_duplicated_fields_are_refused_whole(client, venue, conn):
    page = client.get("/v/kaffestuggu").get_data(as_text=True)
    body = (f"idempotency_key={hidden_fields(page)['idempotency_key']}&name=Kari+Nordmann&name=Ola+Nordmann"
            "&phone=91234567&consent=y").encode()
    response = client.post("/v/kaffestuggu", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert visit_rows(conn) == []


def test_control_characters_in_fields_are_refused(client, venue, conn):
    for name in ("Kari\x00Nordmann", "Kari\r\nNordmann", "Kari\u2028Nordmann", "Kari\u202eNordmann"):
        response = post_checkin(client, name=name)
        assert response.status_code == 400
    assert visit_rows(conn) == []


def test_latin1_body_is_refused(client, venue, conn):
    page = client.get("/v/kaffestuggu").get_data(as_text=True)
    body = f"idempotency_key={hidden_fields(page)['idempotency_key']}&name=".encode() + "Bjørn".encode("latin-1") + \
        b"&phone=91234567&consent=y"
    response = client.post("/v/kaffestuggu", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert visit_rows(conn) == []


def test_a_huge_query_string_on_the_form_is_no_error(client, venue):
    response = client.get("/v/kaffestuggu?" + "&".join(f"k{i}={'x' * 100}" for i in range(1000)))
    assert response.status_code == 200
