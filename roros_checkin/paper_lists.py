"""Paper lists typed in by the tracing team: one guest per line, the same rules as the form."""
from __future__ import annotations

import hashlib
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from . import queries, validation
from .db import write_transaction
from .validation import InvalidInput

SEPARATOR = re.compile(r"\s*[;\t]\s*")
CLOCK_TIME = re.compile(r"(\d{1,2})[:.]?(\d{2})")


@dataclass(frozen=True)
class RefusedLine:
    number: int
    text: str
    code: str


@dataclass(frozen=True)
class PaperResult:
    stored: int
    already_stored: int
    refused: list[RefusedLine]


def row_key(batch: str, venue_slug: str, day: str, line: str, occurrence: int) -> str:
    """The idempotency key of one paper row: the same form sent twice stores each row once."""
    text = "\x1f".join((batch, venue_slug, day, " ".join(line.split()), str(occurrence)))
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:40]


def _clean_line(line: str, day: str, tz: ZoneInfo, now: int, retention_days: int,
                skew_minutes: int) -> tuple[str, str, int, int]:
    parts = SEPARATOR.split(line.strip())
    if len(parts) not in (3, 4):
        raise InvalidInput("paper_columns")
    name = validation.clean_name(parts[0])
    phone = validation.clean_phone(parts[1])
    clock = CLOCK_TIME.fullmatch(parts[2].strip())
    if not clock:
        raise InvalidInput("paper_time")
    arrived_at = validation.parse_local_time(f"{day}T{int(clock.group(1)):02d}:{clock.group(2)}", tz)
    validation.check_visit_time(arrived_at, now, retention_days, skew_minutes)
    size_text = parts[3].strip() if len(parts) == 4 and parts[3].strip() else "1"
    size = int(size_text) if size_text.isdigit() and len(size_text) <= 2 else None
    return name, phone, arrived_at, validation.clean_party_size(size)


def store_paper_list(conn: sqlite3.Connection, venue: sqlite3.Row, day: str, text: str, batch: str,
                     tz: ZoneInfo, now: int, retention_days: int, skew_minutes: int,
                     entered_by: int | None = None) -> PaperResult:
    """Store every good line as a `paper` visit (one transaction); report each refused line.

    `entered_by` is the staff account typing the list: each stored row keeps it (provenance).
    """
    refused, visits = [], []
    occurrences: Counter[str] = Counter()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        normalised = " ".join(line.split())
        occurrences[normalised] += 1
        try:
            name, phone, arrived_at, party_size = _clean_line(line, day, tz, now, retention_days, skew_minutes)
        except InvalidInput as error:
            refused.append(RefusedLine(number, line.strip(), error.code))
            continue
        visits.append(queries.NewVisit(
            venue_id=venue["id"], name=name, phone=phone, party_size=party_size, area=None,
            arrived_at=arrived_at, registered_at=now, source="paper",
            idempotency_key=row_key(batch, venue["slug"], day, line, occurrences[normalised]),
            receipt_hash=None, consent_version=None,
        ))
    stored = 0
    with write_transaction(conn):
        for visit in visits:
            inserted = queries.insert_visit(conn, visit)
            if inserted and entered_by is not None:
                queries.set_visit_entered_by(conn, visit.idempotency_key, entered_by)
            stored += inserted
    return PaperResult(stored, len(visits) - stored, refused)
