"""Venue rules shared by `flask venues add`, `edit` and `import`, and the CSV import itself."""
from __future__ import annotations

import csv
import io
import re
import sqlite3
from dataclasses import dataclass, field

from . import queries
from .db import write_transaction

# The longest slug; migrations/0001_initial.sql has the same limit in its CHECK (an applied
# migration is never edited, so a new limit would need a new migration too).
SLUG_MAX_LENGTH = 64
SLUG = re.compile(rf"[a-z0-9](?:[a-z0-9-]{{0,{SLUG_MAX_LENGTH - 2}}}[a-z0-9])?")
NAME_MAX = 120
ADDRESS_MAX = 200


class VenueRefused(ValueError):
    """A venue that cannot be added or changed; the message says why, for the operator."""


class VenueExists(VenueRefused):
    """The slug is taken already: for an import, a row that is already there, not an error."""


def clean_venue(slug: str, name: str, address: str) -> tuple[str, str, str]:
    """The venue's slug, name and address as stored, or VenueRefused with the reason."""
    if not SLUG.fullmatch(slug):
        raise VenueRefused(
            f"slug {slug!r} refused: use 1-{SLUG_MAX_LENGTH} lower-case letters a-z, digits and inner hyphens")
    name = " ".join(name.split())
    if not 1 <= len(name) <= NAME_MAX:
        raise VenueRefused(f"the venue name must be 1 to {NAME_MAX} characters")
    address = " ".join(address.split())
    if len(address) > ADDRESS_MAX:
        raise VenueRefused(f"the address must be at most {ADDRESS_MAX} characters")
    return slug, name, address


def add_venue(conn: sqlite3.Connection, slug: str, name: str, address: str, now: int) -> None:
    """Add one venue; VenueRefused explains a refused slug, name, address or duplicate."""
    slug, name, address = clean_venue(slug, name, address)
    try:
        with write_transaction(conn):
            queries.insert_venue(conn, slug, name, address, now)
    except sqlite3.IntegrityError:
        raise VenueExists(f"a venue with slug {slug!r} already exists") from None


def edit_venue(conn: sqlite3.Connection, slug: str, name: str | None, address: str | None) -> sqlite3.Row:
    """Rename a venue or change its address (None keeps that part); return the venue as stored.

    The new values follow the rules of a new venue; VenueRefused says why they do not.
    """
    with write_transaction(conn):
        venue = queries.venue_by_slug(conn, slug)
        if venue is None:
            raise VenueRefused(f"no venue with slug {slug!r}")
        _slug, name, address = clean_venue(slug, venue["name"] if name is None else name,
                                           venue["address"] if address is None else address)
        queries.update_venue(conn, slug, name, address)
    return queries.venue_by_slug(conn, slug)


@dataclass
class ImportResult:
    added: list[str] = field(default_factory=list)
    # (line number in the file, slug): a slug already in the register, left as it is
    already_there: list[tuple[int, str]] = field(default_factory=list)
    # (line number in the file, reason)
    refused: list[tuple[int, str]] = field(default_factory=list)


def read_venue_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """The rows of a venue CSV (UTF-8 with or without BOM, ; or , separated, header row).

    Each row comes with its line number; a ValueError says why the file as a whole is unusable.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text; save it as CSV UTF-8") from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [column.strip().lower() for column in next(reader, [])]
    if "slug" not in header or "name" not in header:
        raise ValueError("the first row must name the columns: slug, name, address")
    rows = []
    for values in reader:
        if not any(value.strip() for value in values):
            continue
        if len(values) > len(header):
            rows.append((reader.line_num, {"_error": f"{len(values)} columns, the header has {len(header)}"}))
            continue
        row = dict(zip(header, (value.strip() for value in values)))
        rows.append((reader.line_num, row))
    return rows


def import_venues(conn: sqlite3.Connection, data: bytes, now: int) -> ImportResult:
    """Add every acceptable row of a venue CSV; slugs already there and refused rows are reported."""
    result = ImportResult()
    for line, row in read_venue_rows(data):
        if "_error" in row:
            result.refused.append((line, row["_error"]))
            continue
        slug = row.get("slug", "")
        try:
            add_venue(conn, slug, row.get("name", ""), row.get("address") or "", now)
        except VenueExists:
            result.already_there.append((line, slug))
        except VenueRefused as refused:
            result.refused.append((line, str(refused)))
        else:
            result.added.append(slug)
    return result
