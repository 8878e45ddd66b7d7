"""Five languages for guests, found from the catalogs, so a translator adds a language with one file."""
from __future__ import annotations

import shutil

import pytest

from roros_checkin import i18n

from conftest import post_checkin
from server import Browser, Server


def test_guests_are_offered_five_languages_bokmaal_first(app):
    assert app.config["LANGUAGES"] == ["nb", "nn", "en", "de", "sv"]


def test_a_new_catalog_is_a_new_language(tmp_path):
    shutil.copytree(i18n.TRANSLATIONS, tmp_path, dirs_exist_ok=True)
    (tmp_path / "sma" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy(tmp_path / "nb" / "LC_MESSAGES" / "messages.po", tmp_path / "sma" / "LC_MESSAGES")
    assert i18n.available_languages("nb", tmp_path) == ["nb", "nn", "en", "de", "sv", "sma"]


def test_a_new_language_is_named_in_its_own_language():
    assert i18n.language_name("sma") == "Åarjelsaemien gïele"
    assert i18n.language_name("de") == "Deutsch"


def test_configured_languages_win_over_the_catalogs(app_config):
    from roros_checkin import create_app
    app = create_app({**app_config, "LANGUAGES": ["nb", "en"]})
    assert app.config["LANGUAGES"] == ["nb", "en"]


def test_switch_names_each_language_in_its_own_language(client, venue):
    html = client.get("/v/kaffestuggu").get_data(as_text=True)
    for name in ("Norsk bokmål", "Norsk nynorsk", "English", "Deutsch", "Svenska"):
        assert f">{name}</a>" in html


def test_swedish_browser_gets_swedish(client, venue):
    html = client.get("/v/kaffestuggu", headers={"Accept-Language": "sv-SE,sv;q=0.9"}).get_data(as_text=True)
    assert '<html lang="sv">' in html and "Incheckning på Kaffestuggu" in html


def test_nynorsk_receipt_and_errors(client, venue):
    client.get("/lang/nn?next=/")
    html = post_checkin(client, phone="abc").get_data(as_text=True)
    assert '<html lang="nn">' in html and "Dette er ikkje eit telefonnummer vi kan ringje" in html
    location = post_checkin(client).headers["Location"]
    assert "Du er registrert" in client.get(location).get_data(as_text=True)
    assert "Kven som er ansvarleg" in client.get("/privacy").get_data(as_text=True)


# What each browser sends, and the guest language it must get: an offered language (any region),
# English for a browser that names only languages we do not offer, bokmål for one that names none.
ACCEPT_LANGUAGE = [
    ("fr", "en"),
    ("fr-FR;q=0.9", "en"),
    ("fr-FR,fr;q=0.9,*;q=0.5", "en"),
    ("zh", "en"),
    ("ja", "en"),
    ("*", "nb"),
    ("", "nb"),
    (None, "nb"),
    ("nn", "nn"),
    ("no-NO", "nb"),
    ("nb-NO,nb;q=0.9", "nb"),
    ("en-GB", "en"),
    ("de-CH", "de"),
    ("sv-FI", "sv"),
    ("fr, de;q=0.5", "de"),
    ("fr, en;q=0", "nb"),
]


@pytest.fixture(scope="module")
def real_server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("languages"), "--demo").start()
    yield server
    server.stop()


@pytest.mark.parametrize("header, language", ACCEPT_LANGUAGE)
def test_browser_languages_pick_the_guest_language_on_the_real_server(real_server, header, language):
    headers = {} if header is None else {"Accept-Language": header}
    status, _, html = Browser(real_server.base).request("/v/demo-kafe", headers=headers)
    assert status == 200
    assert f'<html lang="{language}">' in html
    heading = {"en": "Check in at Demo-kafé", "nb": "Registrering på Demo-kafé", "nn": "Registrering på Demo-kafé",
               "de": "Check-in bei Demo-kafé", "sv": "Incheckning på Demo-kafé"}[language]
    assert f"<h1>{heading}</h1>" in html


def test_a_french_browser_gets_english_errors_too(client, venue):
    response = client.get("/v/nope", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and '<html lang="en">' in html and "Page not found" in html


@pytest.mark.parametrize("header", ["en-GB,en;q=0.9", "de-CH", "fr", "sv-FI", None])
def test_staff_login_page_is_bokmaal_throughout(real_server, header):
    headers = {} if header is None else {"Accept-Language": header}
    status, _, html = Browser(real_server.base).request("/tracing/login", headers=headers)
    assert status == 200 and '<html lang="nb">' in html
    assert "<title>Logg inn – smittesporing – Røros kommune</title>" in html
    assert "Gjesteregister" in html and "Smittesporing: logg inn" in html
    for foreign in ("Guest register", "Gästregister", "Gästeregistrierung", "Privacy"):
        assert foreign not in html


def test_staff_pages_stay_bokmaal_after_a_guest_chose_a_language(app, client):
    client.get("/lang/en?next=/")
    html = client.get("/tracing/login").get_data(as_text=True)
    assert '<html lang="nb">' in html and "Gjesteregister" in html and "Guest register" not in html


def test_staff_error_pages_are_bokmaal(staff_client):
    staff_client.get("/lang/en?next=/")
    missing = staff_client.get("/tracing/no-such-page", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="nb">' in missing and "Fant ikke siden" in missing
