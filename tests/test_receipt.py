"""The receipt says only what is true of the visit, and a check-out cannot make a stay of days."""
from __future__ import annotations

from conftest import hidden_fields, post_checkin, visit_rows

KEEP_OPEN = "La denne siden være åpen eller lagre den som bokmerke for å sjekke ut senere."


def test_receipt_shows_the_venues_address(client, venue):
    html = client.get(post_checkin(client).headers["Location"]).get_data(as_text=True)
    assert "<dt>Adresse</dt><dd>Bergmannsgata 18</dd>" in html


def test_open_receipt_asks_to_be_kept_open_for_the_check_out(client, venue):
    html = client.get(post_checkin(client).headers["Location"]).get_data(as_text=True)
    assert KEEP_OPEN in html and "Sjekk ut</button>" in html


def test_receipt_after_the_check_out_no_longer_asks_to_be_kept_open(client, venue):
    location = post_checkin(client).headers["Location"]
    page = client.get(location).get_data(as_text=True)
    checked_out = client.post(location + "/checkout", data=hidden_fields(page)).headers["Location"]
    for path in (checked_out, location):  # right after, and the same receipt opened again later
        html = client.get(path).get_data(as_text=True)
        assert "Gikk" in html and KEEP_OPEN not in html and "Sjekk ut</button>" not in html
        assert "Opplysningene dine slettes etter 14 dager." in html


def test_receipt_of_a_visit_registered_afterwards_offers_no_check_out(client, venue):
    html = client.get(post_checkin(client, visited_at="2026-11-19T20:15").headers["Location"]).get_data(as_text=True)
    assert "20:15" in html and "Bergmannsgata 18" in html
    assert KEEP_OPEN not in html and "Sjekk ut</button>" not in html and "/checkout" not in html


def test_visit_registered_afterwards_cannot_be_checked_out(client, venue, conn):
    location = post_checkin(client, visited_at="2026-11-07T20:15").headers["Location"]  # 13 days ago
    token = hidden_fields(client.get("/v/kaffestuggu").get_data(as_text=True))["csrf_token"]
    response = client.post(location + "/checkout", data={"csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Et besøk registrert i etterkant har ingen utsjekking." in html
    assert visit_rows(conn)[0]["left_at"] is None


def test_check_out_ends_a_stay_at_most_24_hours_after_arrival(client, venue, conn, clock):
    location = post_checkin(client).headers["Location"]
    arrived = visit_rows(conn)[0]["arrived_at"]
    page = client.get(location).get_data(as_text=True)
    clock.advance(30 * 3600)  # the receipt left open on the phone until the next evening
    assert client.post(location + "/checkout", data=hidden_fields(page)).status_code == 303
    assert visit_rows(conn)[0]["left_at"] == arrived + 24 * 3600


def test_check_out_within_a_day_ends_the_stay_now(client, venue, conn, clock):
    location = post_checkin(client).headers["Location"]
    arrived = visit_rows(conn)[0]["arrived_at"]
    page = client.get(location).get_data(as_text=True)
    clock.advance(23 * 3600 + 59 * 60)
    client.post(location + "/checkout", data=hidden_fields(page))
    assert visit_rows(conn)[0]["left_at"] == arrived + 23 * 3600 + 59 * 60
