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
    """The guest's choice (cookie), else the browser's best match, else bokmål."""
    languages = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(COOKIE)
    if chosen in languages:
        return chosen
    for tag, _quality in request.accept_languages:  # best first
        primary = tag.replace("_", "-").split("-")[0].lower()
        # Browsers say "no", "no-NO" or "nb-NO" for Norwegian bokmål.
        primary = {"no": "nb"}.get(primary, primary)
        if primary in languages:
            return primary
    return current_app.config["BABEL_DEFAULT_LOCALE"]


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
    babel.init_app(app, locale_selector=select_locale,
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
