"""The tracing team's audit log: who searched, exported or typed in what, and when.

Entries name the staff member, the action, the case reference, the venue and the window,
and how many results there were. Never a guest's name or full phone number: a search by
phone keeps at most the last two digits, a search by name keeps only that it was by name.
The table is append-only (a trigger refuses UPDATE) and the app has no route that changes it.
"""
from __future__ import annotations

import sqlite3

from . import queries
from .db import write_transaction

ACTIONS = {
    "case_search": "søk på smittet",
    "case_export": "eksport (smittet)",
    "case_print": "ringeliste (smittet)",
    "venue_search": "søk på sted",
    "venue_export": "eksport (sted)",
    "paper_entry": "papirliste",
    "case_state": "status på kontakt (sak)",
    "case_sms": "SMS til kontakter (sak)",
}


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
