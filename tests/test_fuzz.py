"""Random form posts never give a 500, and every stored row obeys the rules."""
from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import hidden_fields
from roros_checkin import db

FIELDS = ["name", "phone", "consent", "party_size", "area", "visited_at", "idempotency_key", "extra"]
CONTROL = "".join(chr(code) for code in [*range(0, 32), 127, 0x85, 0x2028, 0x2029, 0x200B, 0x202E, 0xFEFF])
texts = st.one_of(st.text(max_size=200), st.binary(max_size=200).map(lambda b: b.decode("utf-8", "replace")),
                  st.text(alphabet=CONTROL, max_size=20), st.text(min_size=1000, max_size=5000),
                  st.sampled_from(["y", "1", "Kari Nordmann", "912 34 567", "+46 70 123 45 67",
                                   "2026-11-20T12:00", "2026-03-29T02:30", ""]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(FIELDS), texts), st.booleans())
def test_random_posts_never_fail_and_stored_rows_obey_rules(client, venue, app, fields, with_tokens):
    data = dict(fields)
    if with_tokens:
        page = client.get("/v/kaffestuggu").get_data(as_text=True)
        tokens = hidden_fields(page)
        data.setdefault("idempotency_key", tokens["idempotency_key"])
    response = client.post("/v/kaffestuggu", data=data)
    assert response.status_code in {303, 400, 413}
    with app.app_context():
        conn = db.get_db()
        for row in conn.execute("SELECT name, phone, party_size, area FROM visits"):
            assert 1 <= len(row["name"]) <= 100
            assert row["name"] == unicodedata.normalize("NFC", row["name"])
            assert unicodedata.category(row["name"][0]).startswith("L")
            assert row["phone"].startswith("+") and row["phone"][1:].isdigit()
            assert 1 <= row["party_size"] <= 20
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# Raw bodies, any bytes: non-UTF-8, odd percent-escapes, fields sent twice, control characters.
raw_pairs = st.lists(st.tuples(st.sampled_from([f.encode() for f in FIELDS] + [b"", b"%ff", b"name%00"]),
                               st.one_of(st.binary(max_size=60), st.sampled_from([b"y", b"91234567", b"%ff%fe",
                                                                                  b"%0d%0a", b"%00", b"%E2%80%A8"]))),
                     max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw_pairs, st.sampled_from(["/v/kaffestuggu", "/kiosk/kaffestuggu"]),
       st.sampled_from(["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=latin-1",
                        "text/plain", "application/json", ""]))
def test_raw_bodies_never_fail(client, venue, app, pairs, path, content_type):
    body = b"&".join(key + b"=" + value for key, value in pairs)
    response = client.post(path, data=body, content_type=content_type)
    assert response.status_code in {303, 400, 413}
    with app.app_context():
        assert db.get_db().execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(FIELDS), texts, min_size=1), st.sets(st.sampled_from(FIELDS), min_size=1),
       st.sampled_from(["/v/kaffestuggu", "/kiosk/kaffestuggu"]))
def test_fields_sent_as_files_are_refused_and_store_nothing(client, venue, app, fields, as_files, path):
    import io

    data = {**fields, **{name: (io.BytesIO(b"Kari Nordmann"), "hostname") for name in as_files}}
    response = client.post(path, data=data, content_type="multipart/form-data")
    assert response.status_code in {400, 413}
    with app.app_context():
        assert db.get_db().execute("SELECT count(*) FROM visits").fetchone()[0] == 0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300), st.sampled_from(["nb", "en", "xx", "", "%0a"]))
def test_the_language_switch_never_fails_or_leaves_the_site(client, target, code):
    response = client.get(f"/lang/{code}" if code else "/lang/nb", query_string={"next": target})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/") and location[1:2] not in ("/", "\\")
    assert location.isascii() and location.isprintable() and " " not in location
