"""Random form posts never give a 500, and every stored row obeys the rules."""
from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import hidden_fields
from roros_checkin import db

FIELDS = ["name", "phone", "consent", "party_size", "area", "visited_at", "idempotency_key", "extra"]
texts = st.one_of(st.text(max_size=200), st.binary(max_size=200).map(lambda b: b.decode("utf-8", "replace")),
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
