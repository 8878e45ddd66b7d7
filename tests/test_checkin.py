"""The guest path: form, validation, storing, receipt, check-out, kiosk, closed venues."""
from __future__ import annotations

import logging
import re

from werkzeug.datastructures import MultiDict

from roros_checkin import queries
from roros_checkin.db import write_transaction

from conftest import GOOD_GUEST, add_venue, hidden_fields, post_checkin, visit_rows


def test_form_has_every_field(client, venue):
    html = client.get("/v/kaffestuggu").get_data(as_text=True)
    for name in ("name", "phone", "consent", "party_size", "area", "visited_at", "idempotency_key"):
        assert f'name="{name}"' in html
    # No CSRF token: the form works without cookies (its POSTs are checked by origin instead).
    assert 'name="csrf_token"' not in html
    assert "Røros kommune" in html and "14 dager" in html and "smittesporing" in html


def test_party_size_defaults_to_one(client, venue):
    html = client.get("/v/kaffestuggu").get_data(as_text=True)
    assert re.search(r'name="party_size" value="1"', html)


def test_check_in_stores_one_row_and_redirects_to_receipt(client, venue, conn, clock):
    response = post_checkin(client)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/r/")
    rows = visit_rows(conn)
    assert len(rows) == 1
    row = rows[0]
    assert (row["name"], row["phone"], row["party_size"], row["source"]) == (
        "Kari Nordmann", "+4791234567", 2, "qr")
    assert row["arrived_at"] == row["registered_at"] == clock.now
    assert row["left_at"] is None and row["area"] is None


def test_receipt_shows_venue_time_and_party_but_no_phone_or_id(client, venue, conn):
    location = post_checkin(client).headers["Location"]
    receipt = client.get(location)
    html = receipt.get_data(as_text=True)
    assert receipt.status_code == 200
    assert "Kaffestuggu" in html and "18:00" in html and "Antall personer" in html
    assert "912" not in html and "+47" not in html and "Kari" not in html
    row_id = visit_rows(conn)[0]["id"]
    assert str(row_id) not in location.split("/")  # not as a path segment (a token may start with a digit)
    assert receipt.headers["Cache-Control"] == "no-store"


def test_receipt_token_is_unguessable(client, venue):
    token = post_checkin(client).headers["Location"].rsplit("/", 1)[1]
    key, mac = token.split(".")
    assert len(mac) == 16  # 96 bits of HMAC-SHA256 with SECRET_KEY
    assert client.get("/r/" + token).status_code == 200
    assert client.get("/r/" + token[:-1] + ("A" if token[-1] != "A" else "B")).status_code == 404
    assert client.get("/r/" + key).status_code == 404  # the key alone (it is in the form) is no receipt
    other_key = ("B" if key[0] != "B" else "C") + key[1:]
    assert client.get(f"/r/{other_key}.{mac}").status_code == 404
    for odd in (f"{key}.{mac[:-1]}é", f"{key}..{mac}", f"{key}.{mac}.{mac}", "é" * 24):
        assert client.get("/r/" + odd).status_code == 404, odd


def test_receipt_token_carries_the_key_and_the_visit_stores_no_receipt_hash(client, venue, conn):
    """Found through the idempotency key's index: no 64-character hash and its index per visit."""
    page = client.get("/v/kaffestuggu").get_data(as_text=True)
    key = hidden_fields(page)["idempotency_key"]
    location = client.post("/v/kaffestuggu", data={**hidden_fields(page), **GOOD_GUEST}).headers["Location"]
    assert location.startswith(f"/r/{key}.")
    assert visit_rows(conn)[0]["receipt_hash"] is None


def test_a_receipt_of_a_visit_stored_with_a_receipt_hash_still_opens(app, client, venue, conn, clock):
    """Visits stored before tokens carried the key keep their receipts until they expire."""
    import hashlib

    old_token = "Aa0_-" * 4 + "Zz9-"  # 24 URL-safe characters, as the old tokens were
    with write_transaction(conn):
        venue_id = queries.venue_by_slug(conn, "kaffestuggu")["id"]
        queries.insert_visit(conn, queries.NewVisit(
            venue_id=venue_id, name="Test Gjest", phone="+4790000001", party_size=3, area=None,
            arrived_at=int(clock.now), registered_at=int(clock.now), source="qr",
            idempotency_key="k" * 24, receipt_hash=hashlib.sha256(old_token.encode()).hexdigest(),
            consent_version="test"))
    receipt = client.get(f"/r/{old_token}")
    assert receipt.status_code == 200 and "Kaffestuggu" in receipt.get_data(as_text=True)
    assert client.get(f"/r/{old_token[:-1]}A").status_code == 404


def test_a_paper_list_row_has_no_receipt_even_with_a_valid_token(app, client, venue, conn, clock):
    from roros_checkin import visits

    with write_transaction(conn):
        venue_id = queries.venue_by_slug(conn, "kaffestuggu")["id"]
        queries.insert_visit(conn, queries.NewVisit(
            venue_id=venue_id, name="Test Gjest", phone="+4790000002", party_size=1, area=None,
            arrived_at=int(clock.now), registered_at=int(clock.now), source="paper",
            idempotency_key="p" * 24, receipt_hash=None, consent_version=None))
    with app.app_context():
        token = visits.receipt_token("p" * 24)
    assert client.get(f"/r/{token}").status_code == 404


def test_resent_form_stores_one_visit(client, venue, conn):
    page = client.get("/v/kaffestuggu").get_data(as_text=True)
    data = {**hidden_fields(page), **GOOD_GUEST}
    first = client.post("/v/kaffestuggu", data=data)
    second = client.post("/v/kaffestuggu", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(visit_rows(conn)) == 1


def test_a_key_stored_at_one_venue_is_not_reused_at_another(app, client, venue, conn):
    """The same form data sent to a second venue stores nothing there and comes back with a fresh key."""
    add_venue(app, "bergstaden", "Bergstaden")
    data = {**hidden_fields(client.get("/v/kaffestuggu").get_data(as_text=True)), **GOOD_GUEST}
    assert client.post("/v/kaffestuggu", data=data).status_code == 303
    elsewhere = client.post("/v/bergstaden", data=data)
    html = elsewhere.get_data(as_text=True)
    assert elsewhere.status_code == 400
    assert "Skjemaet var ufullstendig" in html
    fresh = hidden_fields(html)["idempotency_key"]
    assert fresh and fresh != data["idempotency_key"]
    assert [row["venue_id"] for row in visit_rows(conn)] == [1]
    assert client.post("/v/bergstaden", data={**data, "idempotency_key": fresh}).status_code == 303
    assert sorted(row["venue_id"] for row in visit_rows(conn)) == [1, 2]


def test_two_forms_store_two_visits(client, venue, conn):
    post_checkin(client)
    post_checkin(client, name="Ola Nordmann")
    assert len(visit_rows(conn)) == 2


def test_invalid_input_gives_400_with_messages_and_keeps_what_was_typed(client, venue, conn):
    response = post_checkin(client, name="Ola <b>", phone="123", party_size="0", consent=None)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Navnet kan bare inneholde bokstaver" in html
    assert "Dette er ikke et telefonnummer vi kan ringe" in html
    assert "Skriv et tall fra 1 til 20" in html
    assert "Du må samtykke" in html
    assert 'value="Ola &lt;b&gt;"' in html and 'value="123"' in html
    assert 'aria-invalid="true"' in html and 'aria-describedby="name-error"' in html
    assert visit_rows(conn) == []


def test_error_summary_links_to_fields(client, venue):
    html = post_checkin(client, phone="abc").get_data(as_text=True)
    assert 'class="error-summary"' in html and 'href="#phone"' in html


def test_consent_must_be_exactly_yes(client, venue, conn):
    for consent in (None, "0", "off", "false", "true"):
        assert post_checkin(client, consent=consent).status_code == 400
    page = client.get("/v/kaffestuggu").get_data(as_text=True)
    both = [*hidden_fields(page).items(), *GOOD_GUEST.items(), ("consent", "n")]
    assert client.post("/v/kaffestuggu", data=MultiDict(both)).status_code == 400
    assert visit_rows(conn) == []


def test_a_field_sent_twice_is_refused(client, venue, conn):
    page = client.get("/v/kaffestuggu").get_data(as_text=True)
    data = [*hidden_fields(page).items(), *GOOD_GUEST.items(), ("name", "Ola Nordmann")]
    assert client.post("/v/kaffestuggu", data=MultiDict(data)).status_code == 400
    assert visit_rows(conn) == []


def test_extra_fields_cannot_choose_venue_or_times(client, venue, app, conn):
    add_venue(app, "other", "Other")
    post_checkin(client, venue_id="2", arrived_at="1", source="paper", id="99", registered_at="5")
    row = visit_rows(conn)[0]
    assert (row["venue_id"], row["source"], row["id"]) == (1, "qr", 1)
    assert row["arrived_at"] > 1000


def test_party_size_and_area_are_stored(client, venue, conn):
    post_checkin(client, party_size="6", area="Bord 4")
    row = visit_rows(conn)[0]
    assert (row["party_size"], row["area"]) == (6, "Bord 4")


def test_area_from_the_qr_code_prefills_the_form(client, venue):
    html = client.get("/v/kaffestuggu?area=7").get_data(as_text=True)
    assert 'name="area" value="7"' in html


def test_visit_registered_afterwards(client, venue, conn, clock):
    response = post_checkin(client, visited_at="2026-11-19T20:15")
    assert response.status_code == 303
    row = visit_rows(conn)[0]
    assert row["source"] == "retro"
    assert row["arrived_at"] == 1_795_115_700  # 2026-11-19 20:15 Oslo = 19:15 UTC
    assert row["registered_at"] == clock.now
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "20:15" in receipt and "Sjekk ut" not in receipt


def test_visit_in_the_future_is_refused(client, venue, conn):
    html = post_checkin(client, visited_at="2026-11-20T18:10").get_data(as_text=True)
    assert "kan ikke være fram i tid" in html
    assert visit_rows(conn) == []


def test_visit_within_clock_skew_is_accepted(client, venue, conn):
    assert post_checkin(client, visited_at="2026-11-20T18:04").status_code == 303


def test_visit_older_than_retention_is_refused(client, venue, conn):
    assert post_checkin(client, visited_at="2026-11-06T17:59").status_code == 400
    assert post_checkin(client, visited_at="2026-11-06T18:01").status_code == 303
    assert len(visit_rows(conn)) == 1


def test_visit_in_daylight_saving_gap_is_refused(client, venue, conn, clock):
    clock.now = 1_774_800_000  # 2026-03-29 18:00 Oslo
    html = post_checkin(client, visited_at="2026-03-29T02:30").get_data(as_text=True)
    assert "klokken ble stilt en time fram" in html


def test_check_out_records_left_at_once(client, venue, conn, clock):
    location = post_checkin(client).headers["Location"]
    clock.advance(90 * 60)
    page = client.get(location).get_data(as_text=True)
    checkout = client.post(location + "/checkout", data=hidden_fields(page))
    assert checkout.status_code == 303
    assert visit_rows(conn)[0]["left_at"] == clock.now
    html = client.get(checkout.headers["Location"]).get_data(as_text=True)
    assert "Du er sjekket ut" in html and "19:30" in html
    clock.advance(600)
    client.post(location + "/checkout", data=hidden_fields(page))
    assert visit_rows(conn)[0]["left_at"] == clock.now - 600


def test_check_out_from_another_site_is_refused(client, venue, conn):
    location = post_checkin(client).headers["Location"]
    response = client.post(location + "/checkout", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert visit_rows(conn)[0]["left_at"] is None


def test_unknown_venue_is_404_page(client):
    for slug in ("nope", "1", "x" * 10_000):
        response = client.get(f"/v/{slug}")
        assert response.status_code == 404
        assert "Fant ikke siden" in response.get_data(as_text=True)


def test_closed_venue_says_so_and_stores_nothing(client, app, conn):
    add_venue(app, "stengt", "Stengt kafé", active=False)
    page = client.get("/v/stengt")
    assert page.status_code == 200
    assert "ikke i bruk her nå" in page.get_data(as_text=True)
    assert 'name="phone"' not in page.get_data(as_text=True)
    response = client.post("/v/stengt", data=GOOD_GUEST)
    assert response.status_code == 409
    assert visit_rows(conn) == []


def test_oversized_body_is_413_page(client, venue, conn):
    response = client.post("/v/kaffestuggu", data={"name": "x" * 70_000})
    assert response.status_code == 413
    assert "For mye data" in response.get_data(as_text=True)
    assert post_checkin(client).status_code == 303


def test_hundred_kilobyte_name_is_refused_without_error(client, venue, conn, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    html = post_checkin(client, name="x" * 100_000).get_data(as_text=True)
    assert "Navnet er for langt" in html
    assert visit_rows(conn) == []


def test_kiosk_stores_kiosk_source_and_returns_to_empty_form(client, venue, conn):
    page = client.get("/kiosk/kaffestuggu")
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert 'autocomplete="off"' in html and 'name="visited_at"' not in html
    response = post_checkin(client, path="/kiosk/")
    assert response.status_code == 303 and response.headers["Location"] == "/kiosk/kaffestuggu/ok"
    assert visit_rows(conn)[0]["source"] == "kiosk"
    done = client.get("/kiosk/kaffestuggu/ok").get_data(as_text=True)
    assert "Du er registrert" in done and "Kari" not in done and 'http-equiv="refresh"' in done
    fresh = client.get("/kiosk/kaffestuggu").get_data(as_text=True)
    assert "Kari" not in fresh and "912" not in fresh


def test_start_page_lists_active_venues_only(client, app):
    add_venue(app, "apen", "Åpen kafé")
    add_venue(app, "stengt", "Stengt kafé", active=False)
    html = client.get("/").get_data(as_text=True)
    assert "Åpen kafé" in html and "Stengt kafé" not in html
    assert 'href="/privacy"' in html


def test_privacy_page_names_controller_purpose_basis_retention_rights(client):
    html = client.get("/privacy").get_data(as_text=True)
    for words in ("Røros kommune", "smittevernloven § 3-6", "samtykke", "14 dager", "innsyn",
                  "Datatilsynet"):
        assert words in html


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok\n"


def test_no_name_or_phone_in_logs(client, venue, caplog):
    caplog.set_level(logging.DEBUG)
    post_checkin(client, name="Zyxwvu Markersen", phone="+47 912 99 888")
    post_checkin(client, name="Zyxwvu <Markersen>", phone="+47 912 99 888")
    text = caplog.text
    assert "Zyxwvu" not in text and "99888" not in text and "99 888" not in text


def test_party_size_in_other_digit_forms_is_refused_not_a_500(client, venue, conn):
    for size in ("¹", "²", "٣", "１"):
        assert post_checkin(client, party_size=size).status_code == 400, size
    assert visit_rows(conn) == []


def test_favicon_request_gets_an_empty_answer_not_an_error_page(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 204 and response.data == b""
