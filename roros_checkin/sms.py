"""SMS to contacts: the message text, its length in SMS parts, the providers, and the outbox sender.

A message is written when a tracer asks for it, in the language the guest used at check-in, and
stored in the durable outbox (sms_outbox) before anything is sent. The sender (a thread in the
server, like the purge) claims one due message at a time in a write transaction with a lease, so
two threads or processes never send the same message at once; it sends it, and records the
gateway's answer. An accepted message (any 2xx) is never sent again; a refusal, a time-out or a
server that stopped halfway leaves the message in the outbox for a later attempt, with backoff.

Nothing personal is logged: log lines name the outbox id and the gateway's status, never a number
or a text.
"""
from __future__ import annotations

import json
import logging
import secrets
import socket
import sqlite3
import threading
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.dates import format_date
from babel.support import NullTranslations, Translations

from . import db, i18n, queries
from .db import write_transaction

log = logging.getLogger(__name__)

PROVIDERS = ("", "console", "http")
# GSM 03.38: the basic set (one septet each) and the extension table (two: escape + char).
GSM_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
             "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENSION = "^{}\\[~]|€\f"
# What fits in one SMS, and in each part of a longer one (the rest of a part is its header).
SINGLE = {"gsm": 160, "ucs2": 70}
PART = {"gsm": 153, "ucs2": 67}
MAX_PARTS = 2


def _l(message: str) -> str:
    """Mark a message for the catalogs; it is translated later, in the guest's language."""
    return message


# The text, without the case's name or number (who is ill is not the contact's business).
TEXT = _l("%(municipality)s: You were at %(venue)s on %(day)s around %(time)s, at the same time as a "
          "person who has tested positive for covid-19. Watch for symptoms and get tested if you feel "
          "ill. Questions: call %(phone)s.")


def encoding(text: str) -> str:
    """"gsm" when every character is in the GSM 7-bit alphabet, else "ucs2"."""
    return "gsm" if all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text) else "ucs2"


def units(text: str) -> int:
    """The text's length as the network counts it: septets (GSM) or UTF-16 code units (UCS-2)."""
    if encoding(text) == "gsm":
        return sum(2 if ch in GSM_EXTENSION else 1 for ch in text)
    return len(text.encode("utf-16-le")) // 2


def parts(text: str) -> int:
    """How many SMS the text takes."""
    kind, length = encoding(text), units(text)
    if length <= SINGLE[kind]:
        return 1
    return -(-length // PART[kind])


# Typography that is not in the GSM alphabet, and what stands in for it.
_GSM_STAND_INS = {"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
                  "–": "-", "—": "-", "…": "...", "\u00ad": ""}


def _plain(text: str) -> str:
    """The text in the GSM alphabet: one character outside it (a CLDR narrow space, a curly quote, an
    accent the alphabet lacks) would switch the whole message to UCS-2, 70 characters per SMS."""
    out = []
    for ch in text:
        if ch in GSM_BASIC or ch in GSM_EXTENSION:
            out.append(ch)
        elif ch.isspace():
            out.append(" ")
        elif ch in _GSM_STAND_INS:
            out.append(_GSM_STAND_INS[ch])
        else:
            base = [part for part in unicodedata.normalize("NFKD", ch) if part in GSM_BASIC]
            out.append("".join(base) if base else "?")
    return "".join(out)


def translations_for(language: str) -> NullTranslations:
    return Translations.load(str(i18n.TRANSLATIONS), [language], "messages")


@dataclass(frozen=True)
class Visit:
    """What the message says about the contact's own visit."""

    venue: str
    arrived_at: int
    language: str


def compose(visit: Visit, config: Mapping[str, Any], zone) -> str:
    """The message in the guest's language, at most MAX_PARTS SMS: a long venue name is shortened."""
    language = visit.language if visit.language in config["LANGUAGES"] else config["BABEL_DEFAULT_LOCALE"]
    local = datetime.fromtimestamp(visit.arrived_at, zone)
    values = {"municipality": _plain(config["MUNICIPALITY_NAME"]), "phone": _plain(config["MUNICIPALITY_PHONE"]),
              "day": _plain(format_date(local, format="full", locale=language)),
              "time": local.strftime("%H:%M")}
    template = translations_for(language).gettext(TEXT)
    venue = _plain(visit.venue)
    text = template % {**values, "venue": venue}
    while parts(text) > MAX_PARTS and len(venue) > 8:
        venue = venue[:-4].rstrip() + "..."
        text = template % {**values, "venue": venue}
    return text


# --- providers ---------------------------------------------------------------------------------

class NotAccepted(Exception):
    """The gateway did not accept the message; the reason holds no number and no text."""


def send_console(to: str, text: str, config: Mapping[str, Any], reference: str) -> None:
    log.info("sms: message %s sent (console provider, %d characters)", reference, len(text))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not accepted: following it would carry the token and number elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect())


def send_http(to: str, text: str, config: Mapping[str, Any], reference: str) -> None:
    """POST the JSON message to SMS_HTTP_URL; return when the gateway answered 2xx."""
    body = json.dumps({"to": to, "from": config["SMS_SENDER"], "text": text}).encode()
    request = urllib.request.Request(
        config["SMS_HTTP_URL"], data=body, method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {config['SMS_HTTP_TOKEN']}",
                 # The same for every attempt of one message: a gateway (or proxy) that keeps it
                 # can drop a second copy after a lost answer.
                 "Idempotency-Key": reference})
    if urllib.parse.urlsplit(config["SMS_HTTP_URL"]).scheme not in ("https", "http"):
        raise NotAccepted("SMS_HTTP_URL is not an http(s) address")
    try:
        # The scheme is checked above (no file: or custom schemes); redirects are not followed.
        with _OPENER.open(request, timeout=config["SMS_HTTP_TIMEOUT_SECONDS"]) as response:  # nosec B310
            status = response.status
    except urllib.error.HTTPError as error:
        error.close()
        raise NotAccepted(f"HTTP {error.code}") from None
    except (TimeoutError, socket.timeout):
        raise NotAccepted("timeout") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise NotAccepted("timeout" if isinstance(reason, (TimeoutError, socket.timeout))
                          else "no connection") from None
    if not 200 <= status < 300:
        raise NotAccepted(f"HTTP {status}")


SENDERS: dict[str, Callable[[str, str, Mapping[str, Any], str], None]] = {
    "console": send_console, "http": send_http}


def enabled(config: Mapping[str, Any]) -> bool:
    return config.get("SMS_PROVIDER") in SENDERS


# --- the outbox sender -------------------------------------------------------------------------

def backoff(attempts: int, config: Mapping[str, Any]) -> int:
    """Seconds before the next attempt after `attempts` failed ones: doubling, up to the maximum."""
    return min(config["SMS_RETRY_MAX_SECONDS"], config["SMS_RETRY_SECONDS"] * 2 ** max(0, attempts - 1))


def lease_seconds(config: Mapping[str, Any]) -> int:
    """A claimed message is left alone this long: longer than one attempt can take (connect and answer).

    A sender that stopped halfway (a restart, a crash) holds its message no longer than this.
    """
    return 2 * config["SMS_HTTP_TIMEOUT_SECONDS"] + 5


def send_one(conn: sqlite3.Connection, config: Mapping[str, Any], now: Callable[[], float]) -> bool:
    """Claim the next due message, try it once, record the answer; False when none was due."""
    sender = SENDERS.get(config.get("SMS_PROVIDER", ""))
    if sender is None:
        return False
    token = secrets.token_hex(16)
    started = int(now())
    with write_transaction(conn):
        message = queries.claim_due_sms(conn, started, started + lease_seconds(config), token)
    if message is None:
        return False
    reference = f"roros-sms-{message['id']}"
    try:
        sender(message["phone"], message["text"], config, reference)
    except NotAccepted as refusal:
        wait = backoff(message["attempts"], config)
        with write_transaction(conn):
            queries.mark_sms_failed(conn, message["id"], token, int(now()) + wait, str(refusal))
        log.warning("sms: message %s not accepted (%s, attempt %d); next try in %d s",
                    reference, refusal, message["attempts"], wait)
        return True
    with write_transaction(conn):
        recorded = queries.mark_sms_accepted(conn, message["id"], token, int(now()))
    if recorded:
        log.info("sms: message %s accepted by the gateway", reference)
    return True


class BackgroundSender:
    """The server's SMS sender: sends due messages one at a time, and looks again every few seconds."""

    def __init__(self, config: Mapping[str, Any], clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock
        self.stopped = threading.Event()
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self.run, name="sms", daemon=True)

    def start(self) -> "BackgroundSender":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.wake.set()
        self.thread.join(timeout=30)

    def run(self) -> None:
        conn = db.connect(self.config["DATABASE"])
        try:
            while not self.stopped.is_set():
                try:
                    busy = send_one(conn, self.config, self.clock)
                except sqlite3.Error:
                    # The message stays in the outbox; the error (never its content) goes to the log.
                    log.exception("sms: the outbox could not be read or written")
                    busy = False
                if not busy:
                    self.wake.wait(self.config["SMS_POLL_SECONDS"])
                    self.wake.clear()
        finally:
            conn.close()
