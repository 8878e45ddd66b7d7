"""The tracing team's audit log: who searched, exported or typed in what, and when.

Entries name the staff member, the action, the case reference, the venue and the window,
and how many results there were. Never a guest's name or full phone number: a search by
phone keeps at most the last two digits, a search by name keeps only that it was by name.
The table is append-only (a trigger refuses UPDATE) and the app has no route that changes it.

So that abuse can be seen afterwards ("was this person looked up, by whom, for which case?"),
a search also keeps a keyed hash (HMAC-SHA256) of the searched phone in E.164 or of the folded
name. The key is derived from SECRET_KEY, so the hashes cannot be tested against guesses
without the deployment's secret, and an admin who types a name or number gets the entries
back (person_searches). A new SECRET_KEY makes older entries unfindable this way.
"""
from __future__ import annotations

import hashlib
import hmac
import sqlite3
import unicodedata

from . import queries
from .contacts import fold_name
from .db import write_transaction

ACTIONS = {
    "case_search": "søk på smittet",
    "case_export": "eksport (smittet)",
    "case_print": "ringeliste (smittet)",
    "person_access": "innsyn (person)",
    "person_correct": "retting (person)",
    "person_delete": "sletting (person)",
    "venue_search": "søk på sted",
    "venue_export": "eksport (sted)",
    "paper_entry": "papirliste",
    "case_state": "status på kontakt (sak)",
    "case_sms": "SMS til kontakter (sak)",
    "person_lookup": "kontroll: ble personen søkt på",
}
KEY_PURPOSE = b"roros-checkin audit person hash v1"
LOOKUP_LIMIT = 500


def _key(secret_key: str) -> bytes:
    """A key for these hashes alone, so the session cookie's key is never used for them directly."""
    return hmac.new(secret_key.encode("utf-8"), KEY_PURPOSE, hashlib.sha256).digest()


def name_hash(secret_key: str, name: str) -> str:
    """The keyed hash of a name as the case search compares it (NFC, case-folded, single spaces)."""
    folded = fold_name(unicodedata.normalize("NFC", name))
    return hmac.new(_key(secret_key), b"name:" + folded.encode("utf-8"), hashlib.sha256).hexdigest()


def phone_hash(secret_key: str, e164: str) -> str:
    """The keyed hash of a phone number in E.164 (+4791234567)."""
    return hmac.new(_key(secret_key), b"phone:" + e164.encode("utf-8"), hashlib.sha256).hexdigest()


def person_hashes(secret_key: str, phone: str | None = None, name: str | None = None) -> dict[str, str | None]:
    """The hash columns of an audit entry for a search by this phone or name."""
    return {"phone_hash": phone_hash(secret_key, phone) if phone else None,
            "name_hash": name_hash(secret_key, name) if name else None}


def person_searches(conn: sqlite3.Connection, secret_key: str, phone: str | None = None,
                    name: str | None = None) -> list[sqlite3.Row]:
    """Every audit entry (newest first) of a search for this phone or this name."""
    hashes = person_hashes(secret_key, phone, name)
    return queries.audit_entries_for_person(conn, hashes["name_hash"], hashes["phone_hash"], LOOKUP_LIMIT)


def masked_phone(phone: str) -> str:
    """A phone number reduced to its last two digits: enough to tell searches apart, no more."""
    digits = [ch for ch in phone if ch.isdigit()]
    return "…" + "".join(digits[-2:]) if len(digits) >= 2 else "…"


def record(conn: sqlite3.Connection, entry: queries.AuditEntry) -> None:
    """Append one entry, committed before the result is shown."""
    if entry.action not in ACTIONS:
        raise ValueError(f"unknown audit action {entry.action!r}")
    with write_transaction(conn):
        queries.insert_audit(conn, entry)


def record_person_lookup(conn: sqlite3.Connection, secret_key: str, staff: str, reason: str, now: int,
                         found: int, phone: str | None = None, name: str | None = None) -> None:
    """Log a check of who searched for a person: the reason, the count, the person's hashes only."""
    record(conn, queries.AuditEntry(
        at=now, staff=staff, action="person_lookup", case_ref=reason, result_count=found,
        detail="telefon " + masked_phone(phone) if phone is not None else "navn",
        **person_hashes(secret_key, phone, name)))
