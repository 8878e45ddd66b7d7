"""The guest forms work without cookies and refuse POSTs from other sites (DESIGN.md, "Guest form
security"); the language switch never leads off the site; guest pages stay bounded in memory."""
from __future__ import annotations

import io

import pytest

from conftest import GOOD_GUEST, hidden_fields, post_checkin, visit_rows
from roros_checkin import pages

SITE = "https://checkin.example.test"  # PUBLIC_URL in the tests' config
REFUSED_EN = "This form was sent from another site"

CROSS_SITE = [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},  # sandboxed frames and data: pages
    {"Origin": "http://checkin.example.test"},  # same host, plain http: another origin
    {"Origin": "https://checkin.example.test:8443"},
    {"Origin": "https://checkin.example.test.evil.example"},
    {"Origin": "not a url"},
    {"Referer": "https://evil.example/v/kaffestuggu"},
    {"Referer": "https://checkin.example.test@evil.example/"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "cross-site", "Origin": SITE},
    {"Origin": "https://evil.example", "Referer": f"{SITE}/v/kaffestuggu"},
]
SAME_SITE = [
    {"Origin": SITE},
    {"Origin": "https://CHECKIN.example.test:443"},
    {"Origin": "http://localhost"},  # the request's own origin (the test client asks for localhost)
    {"Referer": f"{SITE}/v/kaffestuggu"},
    {"Origin": SITE, "Sec-Fetch-Site": "same-origin"},
    {},  # neither Origin nor Referer: old browsers and privacy settings (security.py says why)
]


@pytest.fixture
def guest(app):
    """A client that keeps no cookies."""
    return app.test_client(use_cookies=False)


def form_of(client, path: str = "/v/kaffestuggu") -> dict:
    return {**hidden_fields(client.get(path).get_data(as_text=True)), **GOOD_GUEST}


def test_a_browser_without_cookies_checks_in_and_sees_its_receipt(guest, venue, conn):
    page = guest.get("/v/kaffestuggu")
    assert "Set-Cookie" not in page.headers
    response = guest.post("/v/kaffestuggu", data={**hidden_fields(page.get_data(as_text=True)), **GOOD_GUEST},
                          headers={"Origin": SITE})
    assert response.status_code == 303 and "Set-Cookie" not in response.headers
    assert "Du er registrert" in guest.get(response.headers["Location"]).get_data(as_text=True)
    assert len(visit_rows(conn)) == 1


def test_a_browser_without_cookies_checks_in_at_the_kiosk(guest, venue, conn):
    response = guest.post("/kiosk/kaffestuggu", data=form_of(guest, "/kiosk/kaffestuggu"),
                          headers={"Origin": SITE})
    assert response.status_code == 303
    assert [row["source"] for row in visit_rows(conn)] == ["kiosk"]


def test_a_browser_without_cookies_checks_out(guest, venue, conn, clock):
    location = guest.post("/v/kaffestuggu", data=form_of(guest), headers={"Origin": SITE}).headers["Location"]
    clock.advance(3600)
    response = guest.post(location + "/checkout", headers={"Origin": SITE})
    assert response.status_code == 303
    assert visit_rows(conn)[0]["left_at"] == clock.now


@pytest.mark.parametrize("headers", CROSS_SITE, ids=repr)
@pytest.mark.parametrize("path", ["/v/kaffestuggu", "/kiosk/kaffestuggu"])
def test_a_post_from_another_site_is_refused_and_stores_nothing(guest, venue, conn, headers, path):
    response = guest.post(path, data=form_of(guest, path), headers={**headers, "Accept-Language": "en"})
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert REFUSED_EN in html and "nothing was saved" in html and '<html lang="en">' in html
    assert visit_rows(conn) == []


def test_the_refusal_is_in_the_guests_language(guest, venue):
    response = guest.post("/v/kaffestuggu", data=form_of(guest), headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert "Skjemaet ble sendt fra et annet nettsted" in response.get_data(as_text=True)


@pytest.mark.parametrize("headers", CROSS_SITE, ids=repr)
def test_a_check_out_from_another_site_is_refused(guest, venue, conn, headers):
    location = post_checkin(guest).headers["Location"]
    assert guest.post(location + "/checkout", headers=headers).status_code == 403
    assert visit_rows(conn)[0]["left_at"] is None


@pytest.mark.parametrize("headers", SAME_SITE, ids=repr)
def test_a_post_from_this_site_is_stored(guest, venue, conn, headers):
    assert guest.post("/v/kaffestuggu", data=form_of(guest), headers=headers).status_code == 303
    assert len(visit_rows(conn)) == 1


def test_a_cross_site_post_is_refused_before_the_rate_limit_counts_it(app, guest, venue, conn):
    app.config["RATELIMIT_ENABLED"] = True
    form = form_of(guest)
    for _ in range(200):
        assert guest.post("/v/kaffestuggu", data=form, headers={"Origin": "https://evil.example"}).status_code == 403
    assert guest.post("/v/kaffestuggu", data=form, headers={"Origin": SITE}).status_code == 303


def test_a_resent_form_is_stored_once(guest, venue, conn):
    form = form_of(guest)
    first = guest.post("/v/kaffestuggu", data=form, headers={"Origin": SITE})
    again = guest.post("/v/kaffestuggu", data=form, headers={"Origin": SITE})
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert len(visit_rows(conn)) == 1


def test_a_form_left_open_for_days_is_still_stored_once(guest, venue, conn, clock):
    form = form_of(guest)
    clock.advance(3 * 24 * 3600)
    assert guest.post("/v/kaffestuggu", data=form).status_code == 303
    assert guest.post("/v/kaffestuggu", data=form).status_code == 303
    assert len(visit_rows(conn)) == 1


def test_the_staff_side_keeps_its_csrf_tokens(app, client):
    response = client.post("/tracing/login", data={"username": "kari", "password": "x", "code": "123456"},
                           headers={"Origin": SITE})
    assert response.status_code == 400


# --- a form field sent as a file ---------------------------------------------------------

@pytest.mark.parametrize("path", ["/v/kaffestuggu", "/kiosk/kaffestuggu"])
@pytest.mark.parametrize("as_file", ["name", "phone", "consent", "idempotency_key", "area", "upload"])
def test_a_field_sent_as_a_file_is_a_clear_400(guest, venue, conn, path, as_file):
    data = form_of(guest, path)
    data[as_file] = (io.BytesIO(b"Kari Nordmann"), "hostname")
    response = guest.post(path, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Noe var galt med forespørselen" in response.get_data(as_text=True)
    assert visit_rows(conn) == []


def test_a_multipart_form_without_files_is_stored(guest, venue, conn):
    response = guest.post("/v/kaffestuggu", data=form_of(guest), content_type="multipart/form-data")
    assert response.status_code == 303
    assert len(visit_rows(conn)) == 1


# --- the language switch never leaves the site ------------------------------------------

OFF_SITE = [
    "https://evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
    "/\t/evil.example/", "/%09/evil.example/", "\t//evil.example", "/\r\n/evil.example", "/\n/evil.example",
    "/\x00/evil.example", "/%00/evil.example", "/\x0b/evil.example", "/\x7f/evil.example",
    "/%2F/evil.example", "/%2f%2fevil.example", "%2F%2Fevil.example", "/%5Cevil.example", "/%5C%5Cevil.example",
    "/\u3000/evil.example", "/\u00a0/evil.example", "/\u2028/evil.example", "/\u200b/evil.example",
    "/\ufeff/evil.example", "https:evil.example", "https:/evil.example", "http:\\\\evil.example",
    "/./evil.example", "/../evil.example", "/v/../../evil.example", "///evil.example", "/ /evil.example",
    "／／evil.example", "/\uff0fevil.example", "evil.example", "", "?next=//evil.example", "#//evil.example",
]


@pytest.mark.parametrize("target", OFF_SITE, ids=repr)
def test_the_language_switch_never_leaves_the_site(client, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 303
    location = response.headers["Location"]
    # A path on this site, in plain URL-safe characters: nothing a browser could read as another host.
    assert location.startswith("/") and location[1:2] not in ("/", "\\"), location
    assert all(ch.isascii() and ch.isalnum() or ch in "/-._~" for ch in location), location
    if target.startswith(("http", "javascript", "/\t", "\t", "/\r", "/\n", "/%", "%", "//", "\\")):
        assert location == "/"


@pytest.mark.parametrize("target", ["/%0d%0aSet-Cookie:%20a=b", "/v/x\r\nSet-Cookie: a=b", "/\r", "/\n"])
def test_a_newline_in_next_is_no_500_and_no_header(client, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert [name for name, _ in response.headers if name.lower() == "set-cookie"] == ["Set-Cookie"]


@pytest.mark.parametrize(("target", "location"), [
    ("/v/kaffestuggu", "/v/kaffestuggu"),
    ("/kiosk/kaffestuggu", "/kiosk/kaffestuggu"),
    ("/v/kaffestuggu?area=Bord 7", "/v/kaffestuggu?area=Bord+7"),
    ("/v/kaffestuggu?area=Bord 7&x=" + "y" * 300, "/v/kaffestuggu?area=Bord+7"),
    ("/v/kaffestuggu?area=<script>", "/v/kaffestuggu"),
    ("/r/AbC-d_9?checked_out=1", "/r/AbC-d_9?checked_out=1"),
    ("/privacy", "/privacy"),
    ("/", "/"),
])
def test_the_language_switch_returns_to_the_page(client, target, location):
    assert client.get("/lang/en", query_string={"next": target}).headers["Location"] == location


# --- the page cache keys only on what changes the page ----------------------------------

def test_long_query_strings_add_no_pages_to_the_cache(app, client, venue):
    client.get("/v/kaffestuggu")
    before = len(app.extensions["roros_pages"])
    for number in range(300):
        response = client.get(f"/v/kaffestuggu?utm={number}&junk=" + "x" * 100_000)
        assert response.status_code == 200
        assert len(response.get_data()) < 20_000  # the query string is not echoed into the page
    assert len(app.extensions["roros_pages"]) == before


def test_the_area_from_the_poster_still_shapes_the_page(app, client, venue):
    html = client.get("/v/kaffestuggu?area=Bord%207").get_data(as_text=True)
    assert 'name="area" type="text" value="Bord 7"' in html or 'value="Bord 7"' in html
    assert "next=/v/kaffestuggu?area%3DBord%2B7" in html or "area%3DBord" in html
    junk = client.get("/v/kaffestuggu?area=%3Cb%3E" + "x" * 50).get_data(as_text=True)
    assert "&lt;b&gt;" not in junk and "<b>x" not in junk


def test_the_cache_stays_bounded_whatever_the_areas(app, client, venue):
    app.extensions["roros_pages"] = pages.PageCache(size=50)
    for number in range(120):
        assert client.get(f"/v/kaffestuggu?area=Bord {number}").status_code == 200
    assert len(app.extensions["roros_pages"]) == 50
