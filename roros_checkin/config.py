"""Configuration: defaults in code, then instance/config.py, then ROROS_* environment variables.

A test's own configuration replaces the last two, as in Flask's tutorial: a test sees the
defaults and what it passes, whatever the shell or instance/ hold.
"""
from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

ENV_PREFIX = "ROROS_"


class Defaults:
    """Every setting the application reads, with its default."""

    # Where the deployment's database lives; relative paths are inside instance/.
    DATABASE = "checkin.sqlite3"
    # Base of every printed URL (QR posters, `venues list`). Never taken from a request.
    # Unset by default: a poster with a guessed address would send guests nowhere, so
    # `flask venues qr` refuses without it; `python app.py` uses its own address meanwhile.
    PUBLIC_URL = ""
    SECRET_KEY: str | None = None
    # Who keeps the data: named on every page, poster, message and consent text, and in the
    # two-factor entry of the staff's authenticator app. Another municipality sets its own in
    # instance/config.py (or ROROS_MUNICIPALITY_NAME, ...); the guest texts take them as placeholders.
    MUNICIPALITY_NAME = "Røros kommune"
    MUNICIPALITY_ADDRESS = "Bergmannsgata 23, 7374 Røros"
    # With the country code: the SMS to contacts reach tourists' phones too.
    MUNICIPALITY_PHONE = "+47 72 41 94 00"
    # Whom guests ask for about their data (a title, a name or an e-mail address).
    PRIVACY_CONTACT = "personvernombud"
    TIMEZONE = "Europe/Oslo"
    RETENTION_DAYS = 14
    AUDIT_RETENTION_DAYS = 365
    # Login attempts are kept this long, then purged (by every purge and by each login attempt):
    # the throttle's good-address rule looks back 30 days (tracing/throttle.py GOOD_ADDRESS_DAYS),
    # so not shorter than that.
    LOGIN_ATTEMPT_RETENTION_HOURS = 30 * 24
    # How often the running server purges by itself (app.py starts the purge thread).
    PURGE_INTERVAL_MINUTES = 60
    # With several server processes on one database, the one holding its background lock purges;
    # the others look this often whether it is still there (roros_checkin/background.py).
    BACKGROUND_RETRY_SECONDS = 60
    # Backups hold personal data too: `flask backup` deletes those older than this.
    BACKUP_RETENTION_DAYS = 14
    # The folder `flask backup` writes to. When set, every purge (hourly in the server, and
    # `flask purge`) also deletes expired visits inside each backup there, so no backup keeps
    # a visit past RETENTION_DAYS either.
    BACKUP_DIR = ""
    # check-deploy flags a purge or backup older than this (a nightly timer plus slack).
    MAINTENANCE_MAX_AGE_HOURS = 26
    # DejaVu (Debian: fonts-dejavu-core) has æ, ø and å; the posters are drawn with it.
    POSTER_FONT_DIR = "/usr/share/fonts/truetype/dejavu"
    DEFAULT_STAY_MINUTES = 180
    MIN_OVERLAP_MINUTES = 15
    # Case search: the default window starts this long before symptom onset or the test date.
    CASE_HOURS_BEFORE_ONSET = 48
    # Venue search: the longest window. A day covers any opening day or evening a case
    # remembers; more would make a venue search a bulk download of the register.
    VENUE_WINDOW_MAX_HOURS = 24
    # The case reference (saksnummer) every search needs, as a regular expression the whole
    # reference must match (after spaces are collapsed), and the message that says the rule.
    # Default: at least four characters with a digit ("2026/1234", "SAK-2026-001"; not "1").
    # Whatever the pattern, a reference is at most 40 letters, digits and / . _ - or spaces.
    CASE_REF_PATTERN = r"(?=.*[0-9]).{4,}"
    CASE_REF_MESSAGE = ("Skriv saksnummeret: minst 4 tegn med minst ett tall, for eksempel 2026/1234 "
                        "eller SAK-2026-001.")
    # How far in the future a visit time may lie, for a phone whose clock runs fast.
    CLOCK_SKEW_MINUTES = 5
    # Consent text version stored with each visit; raise it when the consent wording changes.
    CONSENT_VERSION = "2026-11-1"
    # Rate limits on check-in POSTs (see ratelimit.py); benchmarks switch them off.
    RATELIMIT_ENABLED = True
    # Host names served (others get 400). Empty: PUBLIC_URL's host name plus localhost names.
    TRUSTED_HOSTS: list[str] = []
    TWO_FACTOR_ENABLED = True
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 10
    # Address of the reverse proxy whose X-Forwarded-* headers are trusted (waitress trusted_proxy).
    TRUSTED_PROXY = ""
    # The venue's tablet: this long without a touch or a key on a kiosk page holding anything typed,
    # and it goes back to an empty form in the tablet's own language (static/kiosk.js). A guest
    # who walks away leaves their name and number on screen for at most this long. A warning comes
    # 20 s before (WCAG 2.2.1 asks for 20 s to extend a time limit, so keep this at 40 or more);
    # a tablet without JavaScript empties the form every 2 × this instead (templates/checkin/kiosk.html).
    KIOSK_IDLE_SECONDS = 60
    # Languages offered to guests, in the switch's order. Empty: bokmål, every catalog in
    # roros_checkin/translations/ (nn, de, sv, ...) and English, so a new catalog is all a
    # translator adds. Set it (e.g. ["nb", "nn", "en", "de", "sv"]) to offer fewer.
    LANGUAGES: list[str] = []
    BABEL_DEFAULT_LOCALE = "nb"
    BABEL_DEFAULT_TIMEZONE = "Europe/Oslo"
    # A check-in form is a few hundred bytes; anything near this limit is not a guest.
    MAX_CONTENT_LENGTH = 64 * 1024
    MAX_FORM_PARTS = 50
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Flask-WTF: a form left open this long gets a fresh token (what was typed is kept).
    WTF_CSRF_TIME_LIMIT = 3600
    # WTForms' own messages are never shown (every rule has its message in forms.py, in our catalogs);
    # left on, Flask-WTF reads and parses WTForms' .mo file again for every form it builds.
    WTF_I18N_ENABLED = False
    TEMPLATES_AUTO_RELOAD = False
    # SMS to contacts (sms.py): "" (off), "console" (development: logs that a message went, never
    # its text or number) or "http" (POST SMS_HTTP_URL, Authorization: Bearer SMS_HTTP_TOKEN).
    SMS_PROVIDER = ""
    SMS_HTTP_URL = ""
    SMS_HTTP_TOKEN = ""
    # The sender name shown on the phone (alphanumeric, at most 11 characters at most gateways).
    SMS_SENDER = "RorosKommun"
    # One attempt waits this long for the gateway; a message is claimed for longer than that.
    SMS_HTTP_TIMEOUT_SECONDS = 10
    # After a refusal or no answer the next attempt waits this long, doubled each time up to the maximum.
    SMS_RETRY_SECONDS = 30
    SMS_RETRY_MAX_SECONDS = 1800
    # How often the server's sender looks for due messages.
    SMS_POLL_SECONDS = 2
    # The one speed-up that carries its weight: the check-in form and the receipt rendered once per
    # shape and filled in per request (pages.py). Without it a check-in costs 54 % more CPU
    # (benchmarks/speedups.py, 2026-12-03, mean of three series). Off: every page rendered plainly.
    # (The session serializer made once, the request's translations cached on g and the one-pass
    # security headers measured 2.1 %, 0.5 % and 2.5 % and were removed.)
    PAGE_CACHE_ENABLED = True


def _coerce(name: str, raw: str, default: Any) -> Any:
    """Turn an environment string into the type of the setting's default."""
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"{ENV_PREFIX}{name} must be true or false, not {raw!r}")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, list):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill app.config from the defaults, then instance/config.py and the environment, or test_config.

    With a test_config, neither instance/config.py nor ROROS_* variables are read: the test
    config is the whole configuration on top of the defaults.
    """
    app.config.from_object(Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.update(environment_settings(os.environ, app.config))
    else:
        app.config.update(test_config)
    # check-deploy reads ROROS_DEBUG again (flask overrides DEBUG), only where the app reads it too.
    app.config["CONFIG_FROM_ENVIRONMENT"] = test_config is None
    app.config.setdefault("CLOCK", time.time)
    database = Path(app.config["DATABASE"])
    if not database.is_absolute():
        database = Path(app.instance_path) / database
    app.config["DATABASE"] = str(database)
    app.config["PUBLIC_URL"] = app.config["PUBLIC_URL"].rstrip("/")
    try:
        re.compile(app.config["CASE_REF_PATTERN"])
    except re.error as error:
        raise RuntimeError(f"CASE_REF_PATTERN is not a regular expression: {error}") from None
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))


def environment_settings(environ: Mapping[str, str], current: Mapping[str, Any]) -> dict[str, Any]:
    """The ROROS_* variables of environ as settings, each of the type of its current value."""
    settings = {}
    for key, raw in environ.items():
        if key.startswith(ENV_PREFIX):
            name = key[len(ENV_PREFIX):]
            settings[name] = _coerce(name, raw, current.get(name, ""))
    return settings


def instance_secret_key(instance: Path) -> str:
    """Read the deployment's generated secret key, creating it (mode 0600) on first use."""
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if len(key) < 32:
            raise RuntimeError(f"{path} holds no usable secret key; delete it to generate a new one") from None
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key
