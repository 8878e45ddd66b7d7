"""Made-up visits for the tracing tests, written straight into the database."""
from __future__ import annotations

import itertools
from zoneinfo import ZoneInfo

from roros_checkin import queries
from roros_checkin.db import write_transaction
from roros_checkin.validation import parse_local_time

OSLO = ZoneInfo("Europe/Oslo")
_keys = itertools.count(1)


def at(local: str) -> int:
    """Unix seconds of a local Europe/Oslo time 'YYYY-MM-DDTHH:MM'."""
    return parse_local_time(local, OSLO)


def venue_id(conn, slug: str) -> int:
    return queries.venue_by_slug(conn, slug)["id"]


def add_visit(conn, slug: str, name: str, phone: str, arrived: str | int, left: str | int | None = None,
              party_size: int = 1, source: str = "qr", area: str | None = None) -> int:
    """Store one visit directly (as a legacy row or an operator would), bypassing the form."""
    arrived_at = at(arrived) if isinstance(arrived, str) else arrived
    left_at = at(left) if isinstance(left, str) else left
    with write_transaction(conn):
        conn.execute(
            "INSERT INTO visits (venue_id, name, phone, party_size, area, arrived_at, left_at, registered_at,"
            " source, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (venue_id(conn, slug), name, phone, party_size, area, arrived_at, left_at, arrived_at, source,
             f"test-visit-key-{next(_keys):08d}"),
        )
        return conn.execute("SELECT last_insert_rowid()").fetchone()[0]
