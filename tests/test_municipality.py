"""Another municipality runs the same code with its own settings: no page, poster or code names Røros.

Every guest page (start, form, a mistake, receipt, check-out, kiosk, closed venue, privacy), every
error page, the staff pages (login, search forms, a result, the call list), a QR poster's text
and the two-factor URI are rendered with Tolga's details (made up) in every language; none of them
may say Røros, and the retention they promise is the configured one.
"""
from __future__ import annotations

import re
import urllib.parse

import pytest
from conftest import TEST_PASSWORD, add_staff, hidden_fields, post_checkin
from PIL import ImageDraw
from tracing_data import add_visit

from roros_checkin import db, errors, queries
from roros_checkin.db import write_transaction
from roros_checkin import staff as staff_accounts
from roros_checkin.tracing import auth

TOLGA = {
    "MUNICIPALITY_NAME": "Tolga kommune",
    "MUNICIPALITY_ADDRESS": "Kommunehuset, 2540 Tolga",
    "MUNICIPALITY_PHONE": "62 00 00 00",
    "PRIVACY_CONTACT": "personvern@tolga.example",
    "RETENTION_DAYS": 10,
}
LANGUAGES = ["nb", "nn", "en", "de", "sv"]
# How each language writes the configured retention, and the default it must not fall back to.
TEN_DAYS = {"nb": "10 dager", "nn": "10 dagar", "en": "10 days", "de": "10 Tag", "sv": "10 dagar"}
FOURTEEN = re.compile(r"14\s*(dag|day|Tag)", re.IGNORECASE)
CASE_PHONE = "+4791234567"


@pytest.fixture
def tolga(app_config):
    from roros_checkin import create_app

    app = create_app({**app_config, **TOLGA})
    with app.app_context():
        conn = db.get_db()
        db.upgrade(conn)
        now = int(app.config["CLOCK"]())
        with write_transaction(conn):
            queries.insert_venue(conn, "kafe", "Kafé Sentrum", "Storgata 1, 2540 Tolga", now)
            queries.insert_venue(conn, "stengt", "Stengt kafé", "", now)
            queries.set_venue_active(conn, "stengt", False)
    return app


def assert_no_roros(where: str, text: str) -> None:
    folded = urllib.parse.unquote(text).lower()
    assert "røros" not in folded and "roros" not in folded, f"{where} names Røros"
    assert not FOURTEEN.search(text), f"{where} promises 14 days, not RETENTION_DAYS"


def guest_pages(app, language: str) -> dict[str, str]:
    """Every page a guest can reach, as the guest's browser gets it, in one language."""
    # The kiosk forgets a language chosen on the tablet, so it gets a client of its own.
    kiosk = app.test_client()
    kiosk.get(f"/lang/{language}?next=/")
    pages = {"kiosk": kiosk.get("/kiosk/kafe"), "kiosk done": kiosk.get("/kiosk/kafe/ok")}
    client = app.test_client()
    client.get(f"/lang/{language}?next=/")
    pages |= {
        "start": client.get("/"),
        "form": client.get("/v/kafe"),
        "closed venue": client.get("/v/stengt"),
        "privacy": client.get("/privacy"),
        "not found": client.get("/v/nowhere"),
        "a mistake": post_checkin(client, "kafe", phone="12"),
        "too old": post_checkin(client, "kafe", visited_at="2026-10-01T18:00"),
    }
    stored = post_checkin(client, "kafe")
    assert stored.status_code == 303
    receipt_path = urllib.parse.urlsplit(stored.headers["Location"]).path
    receipt = client.get(receipt_path)
    pages["receipt"] = receipt
    client.post(receipt_path + "/checkout", data=hidden_fields(receipt.get_data(as_text=True)))
    pages["checked out"] = client.get(receipt_path)
    return {name: response.get_data(as_text=True) for name, response in pages.items()}


@pytest.mark.parametrize("language", LANGUAGES)
def test_guest_pages_name_the_configured_municipality_and_retention(tolga, language):
    pages = guest_pages(tolga, language)
    for name, html in pages.items():
        assert_no_roros(f"{language} {name}", html)
        assert "Tolga kommune" in html, f"{language} {name} does not name who keeps the data"
        if name != "kiosk":  # the kiosk's form is in the tablet's language
            assert f'<html lang="{language}">' in html, f"{language} {name}"
    for name in ("start", "form", "receipt", "privacy", "too old"):
        assert TEN_DAYS[language] in pages[name], f"{language} {name} does not say {TEN_DAYS[language]}"
    privacy = pages["privacy"]
    for detail in ("Kommunehuset, 2540 Tolga", "62 00 00 00", "personvern@tolga.example"):
        assert detail in privacy


@pytest.mark.parametrize("language", LANGUAGES)
def test_error_pages_name_the_configured_municipality(tolga, language):
    for code in errors.PAGES:
        with tolga.test_request_context("/", headers={"Cookie": f"lang={language}"}):
            html, _status = errors.render_error(code)
        assert_no_roros(f"{language} error {code}", html)
        assert "Tolga kommune" in html


def test_staff_pages_name_the_configured_municipality(tolga):
    staff_id = add_staff(tolga, role="admin")
    with tolga.app_context():
        conn = db.get_db()
        add_visit(conn, "kafe", "Kari Nordmann", CASE_PHONE, "2026-11-19T18:00", "2026-11-19T20:00")
        add_visit(conn, "kafe", "Per Hansen", "+4798765432", "2026-11-19T19:00")
        token = staff_accounts.start_session(conn, staff_id, int(tolga.config["CLOCK"]()))
    pages = {"login": tolga.test_client().get("/tracing/login")}
    client = tolga.test_client()
    client.set_cookie(auth.COOKIE, token)
    for path in ("/tracing/", "/tracing/case", "/tracing/venue", "/tracing/paper", "/tracing/activity",
                 "/tracing/audit", "/tracing/nowhere"):
        pages[path] = client.get(path)
    search = {"phone": CASE_PHONE, "case_ref": "2026/17", "onset": "2026-11-20"}
    token_fields = hidden_fields(client.get("/tracing/case").get_data(as_text=True))
    pages["result"] = client.post("/tracing/case", data={**token_fields, **search})
    pages["call list"] = client.post("/tracing/case/print", data={**token_fields, **search})
    for name, response in pages.items():
        html = response.get_data(as_text=True)
        assert_no_roros(f"staff {name}", html)
        assert "Tolga kommune" in html, f"staff {name}"
    assert "Per Hansen" in pages["result"].get_data(as_text=True)
    assert "Per Hansen" in pages["call list"].get_data(as_text=True)


def test_poster_text_names_the_configured_municipality(tolga, tmp_path, monkeypatch):
    drawn: list[str] = []
    text = ImageDraw.ImageDraw.text

    def recording_text(self, xy, words, *args, **kwargs):
        drawn.append(str(words))
        return text(self, xy, words, *args, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", recording_text)
    result = tolga.test_cli_runner().invoke(args=["venues", "qr", "kafe", "--out", str(tmp_path / "posters")])
    assert result.exit_code == 0, result.output
    assert drawn, "the poster drew no text"
    poster = "\n".join(drawn)
    assert_no_roros("the poster", poster)
    assert "Tolga kommune" in poster and "10 dager" in poster and "10 days" in poster


def test_two_factor_uri_names_the_configured_municipality(tolga):
    result = tolga.test_cli_runner().invoke(args=["staff", "add", "ola", "--password-stdin"],
                                            input=TEST_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    uri = next(line for line in result.output.splitlines() if line.startswith("otpauth://"))
    assert_no_roros("the two-factor URI", uri)
    assert "issuer=Tolga%20kommune" in uri


@pytest.mark.parametrize("language, one_day", [("nb", "slettes etter 1 dag."), ("en", "deleted after 1 day."),
                                                ("de", "nach 1 Tag gelöscht."), ("sv", "raderas efter 1 dag.")])
def test_a_one_day_retention_is_said_in_the_singular(app_config, language, one_day):
    from roros_checkin import create_app

    app = create_app({**app_config, "RETENTION_DAYS": 1})
    with app.app_context():
        db.upgrade(db.get_db())
    client = app.test_client()
    client.get(f"/lang/{language}?next=/")
    assert one_day in client.get("/").get_data(as_text=True)
