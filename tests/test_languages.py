"""Five languages for guests, found from the catalogs, so a translator adds a language with one file."""
from __future__ import annotations

import shutil

from roros_checkin import i18n

from conftest import post_checkin


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
