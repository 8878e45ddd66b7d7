"""Languages: Flask-Babel with gettext catalogs, bokmål by default, chosen by cookie or browser."""
from __future__ import annotations

import os
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, request
from flask_babel import Babel, get_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

TRANSLATIONS = Path(__file__).parent / "translations"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
# Names shown in the language switch, each in its own language, in the switch's order. A language
# that is not listed here is named from Unicode's CLDR data (e.g. "sma": "Åarjelsaemien gïele").
LANGUAGE_NAMES = {
    "nb": "Norsk bokmål",
    "nn": "Norsk nynorsk",
    "en": "English",
    "de": "Deutsch",
    "sv": "Svenska",
}

babel = Babel()


def available_languages(default: str, directory: Path = TRANSLATIONS) -> list[str]:
    """The default language, every language with a catalog, and English (the msgids): the switch's order."""
    codes = {default, "en"} | {po.parent.parent.name for po in directory.glob("*/LC_MESSAGES/messages.po")}
    known = [code for code in LANGUAGE_NAMES if code in codes and code != default]
    return [default, *known, *sorted(codes - set(known) - {default})]


def language_name(code: str) -> str:
    """A language's name in that language, as shown in the switch."""
    if code in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[code]
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


def select_locale() -> str:
    """The language of a response: see `guest_language`; the tracing team's pages are bokmål."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    # Staff pages are written in bokmål for municipal staff; their frame (title, header, error
    # pages under /tracing/) follows, so no page mixes the guest's language with Norwegian.
    if request.blueprint == "tracing" or request.path.startswith("/tracing/"):
        return default
    return guest_language(current_app.config["LANGUAGES"], request.cookies.get(COOKIE),
                          request.accept_languages, default)


def select_timezone() -> str:
    """Times are shown in the deployment's TIMEZONE (Europe/Oslo), whoever reads them."""
    return current_app.config["TIMEZONE"]


def guest_language(languages: list[str], chosen: str | None, accepted, default: str) -> str:
    """The guest's choice (cookie), else the browser's best offered language, else English or bokmål.

    A browser that names languages, none of them offered (a French phone), gets English, the
    language a tourist most likely reads; one that names none at all (no header, an empty one,
    or only "*", which accepts anything) gets the default, bokmål.
    """
    if chosen in languages:
        return chosen
    named, refused = False, set()
    for tag, quality in accepted:  # best first
        if tag == "*":
            continue
        named = True
        primary = tag.replace("_", "-").split("-")[0].lower()
        # Browsers say "no", "no-NO" or "nb-NO" for Norwegian bokmål.
        primary = {"no": "nb"}.get(primary, primary)
        if quality <= 0:  # "en;q=0": not acceptable
            refused.add(primary)
        elif primary in languages:
            return primary
    return "en" if named and "en" in languages and "en" not in refused else default


def set_language_cookie(response, code: str) -> None:
    """Remember the guest's language; Secure when the request came over HTTPS (through the trusted proxy)."""
    response.set_cookie(COOKIE, code, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True,
                        secure=request.is_secure)


def forget_language_cookie(response) -> None:
    response.delete_cookie(COOKIE, httponly=True, samesite="Lax", secure=request.is_secure)


def compile_catalogs(directory: Path = TRANSLATIONS) -> None:
    """Build each .mo from its .po when the .po is newer, so the catalogs in git are the only source."""
    for po_path in directory.glob("*/LC_MESSAGES/*.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        tmp_path = mo_path.with_suffix(f".mo.{os.getpid()}")
        with tmp_path.open("wb") as handle:
            write_mo(handle, catalog)
        os.replace(tmp_path, mo_path)


def init_app(app: Flask) -> None:
    compile_catalogs()
    if not app.config["LANGUAGES"]:
        app.config["LANGUAGES"] = available_languages(app.config["BABEL_DEFAULT_LOCALE"])
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.globals.update(language_name=language_name, get_locale=current_locale)
    # Flask-Babel's get_translations keeps the request's catalog on the request context. (A second
    # cache of it on g measured 0.5 % of a check-in's CPU, benchmarks/speedups.py, and was removed.)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: get_translations().ugettext(s),
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n),
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n),
        newstyle=True)
    # `_()` and `gettext()` are most of a page's calls: Jinja's newstyle wrappers reach the
    # function through two context calls and a name look-up each; this does the same work
    # (translate, mark safe under autoescape, always %-format) in one call.
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext)


@pass_context
def _template_gettext(context: Context, string: str, **variables: object) -> str:
    """Jinja's newstyle gettext: the translation, escaped-format with the keyword arguments."""
    translated = get_translations().ugettext(string)
    if context.eval_ctx.autoescape:
        # Trusted: the msgid is template source and its translation comes from our own catalog
        # (Jinja's gettext does the same); the keyword arguments are escaped by the % below.
        translated = Markup(translated)  # nosec B704
    return translated % variables


def current_locale() -> str:
    """The language of this response, e.g. "nb", for <html lang>."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
