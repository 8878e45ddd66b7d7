"""Recording a guest's visit, its receipt and its check-out."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from flask import current_app

from . import queries, ratelimit, retention
from .db import grouped_write, write_transaction
from .forms import IDEMPOTENCY_KEY

# A check-out ends a stay at most this long after arrival: a receipt left open for days (or one
# checked out long after the guest went home) must not make a stay that overlaps everyone.
CHECK_OUT_MAX_HOURS = 24


class PhoneAtTooManyVenues(Exception):
    """The phone number was stored at ratelimit.PHONE_VENUES other venues within PHONE_WINDOW."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class KeyUsedElsewhere(Exception):
    """The idempotency key is stored with a visit at another venue: it is never reused."""


@dataclass(frozen=True)
class Recorded:
    """The receipt token of a visit, and whether this call stored it (False: a re-sent form)."""

    token: str
    stored: bool


# A receipt token is "<idempotency key>.<MAC>": the visit is found by its key, which is stored and
# indexed anyway, so a visit stores no receipt hash (with one: 361 bytes a visit, without: 236;
# benchmarks/README.md, goal 6). The key is no secret from the guest (it is in the form, and the form
# sent again leads to this receipt), the MAC is: a token cannot be made without SECRET_KEY.
RECEIPT_MAC_BYTES = 12
# The key as forms.py accepts it, a dot, and 12 bytes of MAC in URL-safe base64 (16 characters).
TOKEN = re.compile(rf"({IDEMPOTENCY_KEY.pattern})\.([A-Za-z0-9_-]{{16}})")
# Visits stored before (until they expire, RETENTION_DAYS after the change) have a token without the
# key, found by its hash in receipt_hash: 24 characters of URL-safe base64.
LEGACY_TOKEN = re.compile(r"[A-Za-z0-9_-]{24}")


def _mac(idempotency_key: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, b"receipt:" + idempotency_key.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:RECEIPT_MAC_BYTES]).decode()


def receipt_token(idempotency_key: str) -> str:
    """The receipt URL's token: unguessable, and the same for a re-sent form."""
    return f"{idempotency_key}.{_mac(idempotency_key)}"


def receipt_key(token: str) -> str | None:
    """The idempotency key a token was made for, or None when its MAC is not ours."""
    match = TOKEN.fullmatch(token)
    if match is None or not hmac.compare_digest(match.group(2), _mac(match.group(1))):
        return None
    return match.group(1)


def legacy_receipt_hash(token: str) -> str:
    """How a token of a visit stored before the key-carrying tokens was found."""
    return hashlib.sha256(token.encode()).hexdigest()


def record_visit(conn: sqlite3.Connection, venue: sqlite3.Row, cleaned: dict[str, Any],
                 idempotency_key: str, source: str, now: int, language: str | None = None) -> Recorded:
    """Store the visit of an idempotency key, or find the one stored with it; say which.

    The rule for a re-sent form lives here alone: a key already stored at this venue stores
    nothing and gives the first visit's receipt token (Recorded.stored is False); a key stored
    at another venue raises KeyUsedElsewhere. The look-up and the insert share one write
    transaction, so two copies of a form sent at once store one row. The visit is committed
    before this returns (with the other threads' check-ins of that moment: db.grouped_write).

    A visit with a time given afterwards is stored with source "retro" and that time.
    With the limits on, a phone already stored at PHONE_VENUES other venues within PHONE_WINDOW
    raises PhoneAtTooManyVenues and nothing is stored: the count is read in the same write
    transaction as the insert, so parallel requests and other processes cannot slip past it.
    `language` is the form's language, kept so that an SMS to the guest is written in it.
    """
    arrived_at = now
    if cleaned.get("visited_at") is not None:
        arrived_at = min(cleaned["visited_at"], now)
        source = "retro"
    token = receipt_token(idempotency_key)
    visit = queries.NewVisit(
        venue_id=venue["id"],
        name=cleaned["name"],
        phone=cleaned["phone"],
        party_size=cleaned["party_size"],
        area=cleaned["area"],
        arrived_at=arrived_at,
        registered_at=now,
        source=source,
        idempotency_key=idempotency_key,
        receipt_hash=None,
        consent_version=current_app.config["CONSENT_VERSION"],
        language=language,
    )
    # What the work below needs from the app, read here: it may run in another serving thread (db.grouped_write).
    phone_rule = None
    if current_app.config["RATELIMIT_ENABLED"]:
        phone_rule = (now - ratelimit.PHONE_WINDOW, retention.visits_not_before(current_app.config, now))

    def store(conn: sqlite3.Connection) -> Recorded:
        stored_venue_id = queries.visit_venue_by_idempotency_key(conn, idempotency_key)
        if stored_venue_id is not None:
            if stored_venue_id != venue["id"]:
                raise KeyUsedElsewhere()
            return Recorded(token, stored=False)
        if phone_rule is not None:
            _check_phone_venues(conn, visit, now, *phone_rule)
        queries.insert_visit(conn, visit)
        return Recorded(token, stored=True)

    return grouped_write(conn, store)


def _check_phone_venues(conn: sqlite3.Connection, visit: queries.NewVisit, now: int, since: int,
                        not_before: int) -> None:
    latest = queries.recent_venues_of_phone(conn, visit.phone, visit.venue_id, since, not_before)
    if len(latest) >= ratelimit.PHONE_VENUES:
        # One more venue is allowed once the longest-ago of them leaves the window.
        raise PhoneAtTooManyVenues(max(1, min(latest.values()) + ratelimit.PHONE_WINDOW - now))


def find_receipt(conn: sqlite3.Connection, token: str, now: int) -> sqlite3.Row | None:
    """The visit behind a receipt token, unless it is past the retention; None for anything that is
    not a token of ours (wrong shape or MAC), before the database is asked."""
    not_before = retention.visits_not_before(current_app.config, now)
    if LEGACY_TOKEN.fullmatch(token):
        return queries.receipt_by_hash(conn, legacy_receipt_hash(token), not_before)
    key = receipt_key(token)
    return None if key is None else queries.receipt_by_key(conn, key, not_before)


def can_check_out(visit: sqlite3.Row) -> bool:
    """Only a visit still open, and not one registered afterwards (it is over already), is checked out."""
    return visit["left_at"] is None and visit["source"] != "retro"


def check_out(conn: sqlite3.Connection, visit_id: int, now: int) -> bool:
    """End a stay now, or CHECK_OUT_MAX_HOURS after arrival if that is earlier."""
    with write_transaction(conn):
        return queries.record_check_out(conn, visit_id, now, CHECK_OUT_MAX_HOURS * 3600)
