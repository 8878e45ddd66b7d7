"""Guest pages rendered once per shape and filled in per request (pages.py) read exactly as a fresh render."""
from __future__ import annotations

import re

import pytest

from conftest import GOOD_GUEST, add_venue, hidden_fields, post_checkin
from roros_checkin import pages

# The per-request value of a form page: its idempotency key.
PER_REQUEST = re.compile(r'(name="idempotency_key"(?: type="hidden")? value=")[^"]*"')


def same_apart_from_tokens(html: str) -> str:
    return PER_REQUEST.sub(r'\1…"', html)


def fresh_render(app, client, path: str) -> str:
    app.extensions["roros_pages_enabled"] = False
    try:
        return client.get(path).get_data(as_text=True)
    finally:
        app.extensions["roros_pages_enabled"] = True


@pytest.mark.parametrize("path", ["/v/kaffestuggu", "/kiosk/kaffestuggu", "/v/kaffestuggu?area=Bord%207"])
@pytest.mark.parametrize("language", ["nb", "en", "de"])
def test_form_page_from_the_cache_reads_as_a_fresh_render(app, client, venue, path, language):
    client.set_cookie("lang", language)
    first = client.get(path).get_data(as_text=True)
    second = client.get(path).get_data(as_text=True)
    assert same_apart_from_tokens(first) == same_apart_from_tokens(second) == same_apart_from_tokens(
        fresh_render(app, client, path))


def test_each_form_page_gets_its_own_key(client, venue):
    first = hidden_fields(client.get("/v/kaffestuggu").get_data(as_text=True))
    second = hidden_fields(client.get("/v/kaffestuggu").get_data(as_text=True))
    assert first["idempotency_key"] != second["idempotency_key"]


def test_renamed_venue_shows_its_new_name_at_once(app, client, venue, conn):
    client.get("/v/kaffestuggu")
    with conn:
        conn.execute("UPDATE venues SET name = 'Kaffestuggu & Bakeri' WHERE slug = 'kaffestuggu'")
    assert "Kaffestuggu &amp; Bakeri" in client.get("/v/kaffestuggu").get_data(as_text=True)


@pytest.mark.parametrize("fields", [
    {},
    {"area": "Bord 7/8"},
    {"visited_at": "2026-11-20T17:30"},
])
@pytest.mark.parametrize("language", ["nb", "en"])
def test_receipt_from_the_cache_reads_as_a_fresh_render(app, client, fields, language):
    add_venue(app, slug="kro", name="<Kro> & \"Bar\" 'Røros'")
    client.set_cookie("lang", language)
    location = post_checkin(client, slug="kro", **fields).headers["Location"]
    cached = client.get(location).get_data(as_text=True)
    again = client.get(location).get_data(as_text=True)
    assert "&lt;Kro&gt; &amp; &#34;Bar&#34; &#39;Røros&#39;" in again
    assert same_apart_from_tokens(cached) == same_apart_from_tokens(again) == same_apart_from_tokens(
        fresh_render(app, client, location))


def test_checked_out_receipt_from_the_cache_reads_as_a_fresh_render(app, client, venue):
    location = post_checkin(client).headers["Location"]
    page = client.get(location).get_data(as_text=True)
    checked_out = client.post(location + "/checkout", data=hidden_fields(page)).headers["Location"]
    later = client.get(location).get_data(as_text=True)  # the same receipt, opened again later
    cached = client.get(checked_out).get_data(as_text=True)
    assert "Du er sjekket ut" in cached and "Du er sjekket ut" not in later
    assert cached == fresh_render(app, client, checked_out)
    assert later == fresh_render(app, client, location)


def test_two_guests_receipts_each_show_their_own_details(client, venue):
    first = client.get(post_checkin(client, party_size="3").headers["Location"]).get_data(as_text=True)
    second = client.get(post_checkin(client, party_size="5", area="Terrassen").headers["Location"])
    second_html = second.get_data(as_text=True)
    assert "<dd>3</dd>" in first and "Terrassen" not in first
    assert "<dd>5</dd>" in second_html and "<dd>Terrassen</dd>" in second_html


def test_the_markers_are_secret_and_never_reach_a_page(app, client, venue):
    """A guest cannot send a marker (and have a token filled into a link): it is random and never shown."""
    mark = app.extensions["roros_pages"].mark
    assert len(mark) >= 17 and mark != pages.PageCache().mark
    location = post_checkin(client, area="Bord 7").headers["Location"]
    for path in ("/v/kaffestuggu", "/kiosk/kaffestuggu", location):
        assert mark not in client.get(path).get_data(as_text=True)


def test_cache_keeps_at_most_its_size():
    cache = pages.PageCache(size=2)
    for key in "abc":
        cache.put(key, ("<p>", "x", "</p>"))
    assert len(cache) == 2 and cache.get("a") is None and cache.get("c") is not None


def test_post_with_errors_is_rendered_fresh_and_keeps_what_was_typed(client, venue):
    page = client.get("/v/kaffestuggu").get_data(as_text=True)
    response = client.post("/v/kaffestuggu", data={**hidden_fields(page), **GOOD_GUEST, "phone": "12"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'value="12"' in html


def test_page_cache_switched_off_renders_every_page_plainly(app_config, tmp_path):
    from roros_checkin import create_app, db

    app = create_app({**app_config, "PAGE_CACHE_ENABLED": False})
    with app.app_context():
        db.upgrade(db.get_db())
    add_venue(app)
    client = app.test_client()
    page = client.get("/v/kaffestuggu")
    assert page.status_code == 200 and 'name="idempotency_key"' in page.get_data(as_text=True)
    assert post_checkin(client).status_code == 303
    assert len(pages.cache_of(app)) == 0
