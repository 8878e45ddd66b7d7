"""Every SQL statement of the application, as named functions.

Parameterised SQL only. Functions that write expect the caller to hold a write
transaction (db.write_transaction) unless their docstring says they open one.
"""
from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from dataclasses import dataclass

log = logging.getLogger(__name__)


# --- venues -----------------------------------------------------------------

def venue_by_slug(conn: sqlite3.Connection, slug: str) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT id, slug, name, address, active, created_at FROM venues WHERE slug = ?", (slug,)
    ).fetchone()


def list_venues(conn: sqlite3.Connection, active_only: bool = False) -> list[sqlite3.Row]:
    sql = "SELECT id, slug, name, address, active, created_at FROM venues"
    if active_only:
        sql += " WHERE active = 1"
    return conn.execute(sql + " ORDER BY name COLLATE NOCASE, slug").fetchall()


def insert_venue(conn: sqlite3.Connection, slug: str, name: str, address: str, now: int) -> int:
    cur = conn.execute(
        "INSERT INTO venues (slug, name, address, active, created_at) VALUES (?, ?, ?, 1, ?)",
        (slug, name, address, now),
    )
    return cur.lastrowid


def set_venue_active(conn: sqlite3.Connection, slug: str | None, active: bool) -> int:
    """Open or close one venue (slug) or all venues (slug None); return how many changed."""
    if slug is None:
        cur = conn.execute("UPDATE venues SET active = ? WHERE active != ?", (int(active), int(active)))
    else:
        cur = conn.execute("UPDATE venues SET active = ? WHERE slug = ?", (int(active), slug))
    return cur.rowcount


# --- visits -----------------------------------------------------------------

@dataclass(frozen=True)
class NewVisit:
    venue_id: int
    name: str
    phone: str
    party_size: int
    area: str | None
    arrived_at: int
    registered_at: int
    source: str
    idempotency_key: str
    receipt_hash: str | None
    consent_version: str | None


def insert_visit(conn: sqlite3.Connection, visit: NewVisit) -> bool:
    """Store a visit; False when its idempotency key is already stored (a re-sent form)."""
    cur = conn.execute(
        "INSERT INTO visits (venue_id, name, phone, party_size, area, arrived_at, registered_at,"
        " source, idempotency_key, receipt_hash, consent_version, name_key)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (idempotency_key) DO NOTHING",
        (visit.venue_id, visit.name, visit.phone, visit.party_size, visit.area, visit.arrived_at,
         visit.registered_at, visit.source, visit.idempotency_key, visit.receipt_hash,
         visit.consent_version, name_key(visit.name)),
    )
    return cur.rowcount == 1


def visit_venue_by_idempotency_key(conn: sqlite3.Connection, key: str) -> int | None:
    row = conn.execute("SELECT venue_id FROM visits WHERE idempotency_key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def receipt(conn: sqlite3.Connection, receipt_hash: str, not_before: int) -> sqlite3.Row | None:
    """What a guest's receipt shows: venue, times, party size. Never name or phone."""
    return conn.execute(
        "SELECT visits.id, visits.arrived_at, visits.left_at, visits.party_size, visits.area,"
        " visits.source, venues.name AS venue_name, venues.slug AS venue_slug"
        " FROM visits JOIN venues ON venues.id = visits.venue_id"
        " WHERE visits.receipt_hash = ? AND visits.arrived_at > ?",
        (receipt_hash, not_before),
    ).fetchone()


def record_check_out(conn: sqlite3.Connection, visit_id: int, now: int) -> bool:
    """Set left_at once; a second check-out changes nothing."""
    cur = conn.execute(
        "UPDATE visits SET left_at = max(?, arrived_at) WHERE id = ? AND left_at IS NULL",
        (now, visit_id),
    )
    return cur.rowcount == 1


# --- staff ------------------------------------------------------------------

def insert_staff(conn: sqlite3.Connection, username: str, password_hash: str, role: str,
                 totp_secret: str | None, now: int) -> int:
    cur = conn.execute(
        "INSERT INTO staff (username, password_hash, role, active, totp_secret, created_at)"
        " VALUES (?, ?, ?, 1, ?, ?)",
        (username, password_hash, role, totp_secret, now),
    )
    return cur.lastrowid


def staff_by_username(conn: sqlite3.Connection, username: str) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT id, username, password_hash, role, active, totp_secret, totp_last_step, created_at"
        " FROM staff WHERE username = ?",
        (username,),
    ).fetchone()


def list_staff(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT id, username, role, active, created_at FROM staff ORDER BY username"
    ).fetchall()


def insert_staff_session(conn: sqlite3.Connection, token_hash: str, staff_id: int, now: int,
                         verified: bool) -> None:
    conn.execute(
        "INSERT INTO staff_sessions (token_hash, staff_id, created_at, last_seen_at, verified)"
        " VALUES (?, ?, ?, ?, ?)",
        (token_hash, staff_id, now, now, int(verified)),
    )


def staff_session(conn: sqlite3.Connection, token_hash: str) -> sqlite3.Row | None:
    """The session with its staff member, whatever its age; the caller checks the timeouts."""
    return conn.execute(
        "SELECT staff_sessions.token_hash, staff_sessions.created_at, staff_sessions.last_seen_at,"
        " staff_sessions.verified, staff.id AS staff_id, staff.username, staff.role, staff.active"
        " FROM staff_sessions JOIN staff ON staff.id = staff_sessions.staff_id"
        " WHERE staff_sessions.token_hash = ?",
        (token_hash,),
    ).fetchone()


def touch_staff_session(conn: sqlite3.Connection, token_hash: str, now: int) -> None:
    conn.execute("UPDATE staff_sessions SET last_seen_at = ? WHERE token_hash = ?", (now, token_hash))


def delete_staff_session(conn: sqlite3.Connection, token_hash: str) -> None:
    conn.execute("DELETE FROM staff_sessions WHERE token_hash = ?", (token_hash,))


# --- health -----------------------------------------------------------------

def ping(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT count(*) FROM venues").fetchone() is not None


# --- tracing: case search, venue search, exports, paper lists, audit, activity -----------

# Every tracing read is bounded by the retention (arrived_at > now - RETENTION_DAYS): a visit
# past the retention is never shown, even when the purge has not run yet.

def _fetch_all_lenient(conn: sqlite3.Connection, sql: str, params: tuple) -> list[sqlite3.Row]:
    """Rows of a tracing read; a legacy value that is not valid UTF-8 reads as U+FFFD.

    One bad row must never fail a whole search or export. The strict, fast read is tried
    first; only when it fails to decode is the statement read again leniently.
    """
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as error:
        if "decode" not in str(error):
            raise
    # Say that it happened, never what the value was.
    log.warning("a tracing search read text that is not UTF-8; it is shown with U+FFFD")
    previous = conn.text_factory
    conn.text_factory = lambda raw: raw.decode("utf-8", "replace")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.text_factory = previous




def case_visits_by_phone(conn: sqlite3.Connection, phone: str, arrived_after: int, window_from: int,
                         window_to: int, default_stay: int) -> list[sqlite3.Row]:
    """The case's visits (by E.164 phone) whose stay overlaps the window; uses visits_phone_arrived.

    `arrived_after` is the later of the retention boundary and the window start minus the
    longest stay looked at.
    """
    return _fetch_all_lenient(
        conn,
        "SELECT visits.id, visits.venue_id, visits.name, visits.phone, visits.party_size, visits.area,"
        " visits.arrived_at, visits.left_at, visits.source, venues.slug AS venue_slug, venues.name AS venue_name"
        " FROM visits JOIN venues ON venues.id = visits.venue_id"
        " WHERE visits.phone = ? AND visits.arrived_at > ? AND visits.arrived_at < ?"
        " AND coalesce(visits.left_at, visits.arrived_at + ?) > ?"
        " ORDER BY visits.arrived_at",
        (phone, arrived_after, window_to, default_stay, window_from),
    )


def _fold(text: object) -> object:
    return " ".join(text.casefold().split()) if isinstance(text, str) else text


def name_key(name: str) -> int:
    """The indexed key of a name for the case search (migration *_name_search_key.sql): 8 bytes of the folded name's hash.

    Stored with every visit and never recomputed, so it must not change: the fold is contacts.fold_name's.
    """
    folded = _fold(name)
    digest = hashlib.blake2b(folded.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def case_visits_by_name(conn: sqlite3.Connection, folded_name: str, arrived_after: int, window_from: int,
                        window_to: int, default_stay: int) -> list[sqlite3.Row]:
    """The case's visits by name (case-folded, any script), inside the window.

    Through the name key's index (visits_name_key_arrived); visits stored before the key existed
    (name_key NULL) are read and folded one by one, through the same index.
    """
    conn.create_function("tracing_fold", 1, _fold, deterministic=True)
    match = (" FROM visits JOIN venues ON venues.id = visits.venue_id"
             " WHERE visits.name_key {} AND visits.arrived_at > ? AND visits.arrived_at < ?"
             " AND tracing_fold(visits.name) = ? AND coalesce(visits.left_at, visits.arrived_at + ?) > ?")
    columns = ("SELECT visits.id, visits.venue_id, visits.name, visits.phone, visits.party_size, visits.area,"
               " visits.arrived_at, visits.left_at, visits.source, venues.slug AS venue_slug,"
               " venues.name AS venue_name")
    window = (arrived_after, window_to, folded_name, default_stay, window_from)
    return _fetch_all_lenient(
        conn,
        f"{columns}{match.format('= ?')} UNION ALL {columns}{match.format('IS NULL')}"  # nosec B608: constants
        " ORDER BY arrived_at",
        (name_key(folded_name), *window, *window),
    )


def visits_at_venue(conn: sqlite3.Connection, venue_id: int, arrived_after: int, arrived_before: int,
                    ends_after: int, default_stay: int) -> list[sqlite3.Row]:
    """Visits at a venue that arrived in (arrived_after, arrived_before) and last beyond ends_after.

    Uses visits_venue_arrived for the range; the end (check-out, or arrival + default_stay)
    is filtered in SQLite so only possible contacts reach Python.
    """
    return _fetch_all_lenient(
        conn,
        "SELECT visits.id, visits.venue_id, visits.name, visits.phone, visits.party_size, visits.area,"
        " visits.arrived_at, visits.left_at, visits.source, venues.slug AS venue_slug, venues.name AS venue_name"
        " FROM visits JOIN venues ON venues.id = visits.venue_id"
        " WHERE visits.venue_id = ? AND visits.arrived_at > ? AND visits.arrived_at < ?"
        " AND coalesce(visits.left_at, visits.arrived_at + ?) > ?",
        (venue_id, arrived_after, arrived_before, default_stay, ends_after),
    )


@dataclass(frozen=True)
class AuditEntry:
    at: int
    staff: str
    action: str
    case_ref: str | None = None
    venue_slug: str | None = None
    window_from: int | None = None
    window_to: int | None = None
    result_count: int | None = None
    detail: str | None = None


def insert_audit(conn: sqlite3.Connection, entry: AuditEntry) -> None:
    conn.execute(
        "INSERT INTO audit_log (at, staff, action, case_ref, venue_slug, window_from, window_to,"
        " result_count, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (entry.at, entry.staff, entry.action, entry.case_ref, entry.venue_slug, entry.window_from,
         entry.window_to, entry.result_count, entry.detail),
    )


def audit_entries(conn: sqlite3.Connection, before_id: int | None, limit: int) -> list[sqlite3.Row]:
    """The newest audit entries first, older than `before_id` when paging."""
    return conn.execute(
        "SELECT id, at, staff, action, case_ref, venue_slug, window_from, window_to, result_count, detail"
        " FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?",
        (before_id if before_id is not None else 2**62, limit),
    ).fetchall()


def checkins_per_venue_and_day(conn: sqlite3.Connection,
                               days: list[tuple[int, int]]) -> list[sqlite3.Row]:
    """(day index, venue_id, visits) for every venue and each [start, end) day given.

    One small count per venue and day on visits_venue_arrived (a covering index): about a
    second at 10 million visits, where a join on the days read every row of the table.
    """
    return conn.execute(
        "WITH days (day, day_start, day_end) AS ("
        "  SELECT key, json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))"
        " SELECT days.day AS day, venues.id AS venue_id,"
        "  (SELECT count(*) FROM visits WHERE visits.venue_id = venues.id"
        "   AND visits.arrived_at >= days.day_start AND visits.arrived_at < days.day_end) AS visits"
        " FROM venues CROSS JOIN days",
        (json.dumps(days),),
    ).fetchall()


def last_checkin_per_venue(conn: sqlite3.Connection, not_before: int) -> dict[int, int]:
    """The newest arrival inside the retention per venue id (venues without one are absent)."""
    rows = conn.execute(
        "SELECT venues.id, (SELECT max(arrived_at) FROM visits WHERE visits.venue_id = venues.id) FROM venues"
    ).fetchall()
    return {row[0]: row[1] for row in rows if row[1] is not None and row[1] > not_before}


# --- operations: purge, backups, maintenance runs ----------------------------------------

# The purge reads ids without the write lock, then deletes them in short write transactions;
# the age test is repeated in the DELETE, so an id re-used in between is never deleted wrongly.
EXPIRED_ID_QUERIES = {
    "visits": "SELECT id FROM visits WHERE arrived_at <= ? ORDER BY id LIMIT ?",
    "login_attempts": "SELECT id FROM login_attempts WHERE at <= ? ORDER BY id LIMIT ?",
    "audit_log": "SELECT id FROM audit_log WHERE at <= ? ORDER BY id LIMIT ?",
}
DELETE_EXPIRED_BY_ID = {
    "visits": "DELETE FROM visits WHERE id = ? AND arrived_at <= ?",
    "login_attempts": "DELETE FROM login_attempts WHERE id = ? AND at <= ?",
    "audit_log": "DELETE FROM audit_log WHERE id = ? AND at <= ?",
}
COUNT_EXPIRED = {
    "visits": "SELECT count(*) FROM visits WHERE arrived_at <= ?",
    "login_attempts": "SELECT count(*) FROM login_attempts WHERE at <= ?",
    "audit_log": "SELECT count(*) FROM audit_log WHERE at <= ?",
}


def expired_ids(conn: sqlite3.Connection, table: str, cutoff: int, limit: int) -> list[int]:
    """Up to limit ids of rows in table (visits, login_attempts, audit_log) at or before cutoff."""
    return [row[0] for row in conn.execute(EXPIRED_ID_QUERIES[table], (cutoff, limit))]


def delete_expired_ids(conn: sqlite3.Connection, table: str, ids: list[int], cutoff: int) -> int:
    """Delete those of ids that are still at or before cutoff; return how many went."""
    before = conn.total_changes
    conn.executemany(DELETE_EXPIRED_BY_ID[table], ((row_id, cutoff) for row_id in ids))
    return conn.total_changes - before


def count_expired(conn: sqlite3.Connection, table: str, cutoff: int) -> int:
    return conn.execute(COUNT_EXPIRED[table], (cutoff,)).fetchone()[0]


def count_ended_staff_sessions(conn: sqlite3.Connection, idle_before: int, created_before: int) -> int:
    return conn.execute(
        "SELECT count(*) FROM staff_sessions WHERE last_seen_at <= ? OR created_at <= ?",
        (idle_before, created_before),
    ).fetchone()[0]


def delete_ended_staff_sessions(conn: sqlite3.Connection, idle_before: int, created_before: int) -> int:
    """Staff sessions past their idle or absolute timeout; a handful of rows, deleted at once."""
    return conn.execute(
        "DELETE FROM staff_sessions WHERE last_seen_at <= ? OR created_at <= ?",
        (idle_before, created_before),
    ).rowcount


def record_maintenance_run(conn: sqlite3.Connection, task: str, now: int, detail: str) -> None:
    conn.execute(
        "INSERT INTO maintenance_runs (task, ran_at, detail) VALUES (?, ?, ?)"
        " ON CONFLICT (task) DO UPDATE SET ran_at = excluded.ran_at, detail = excluded.detail",
        (task, now, detail),
    )


def last_maintenance_run(conn: sqlite3.Connection, task: str) -> sqlite3.Row | None:
    return conn.execute("SELECT task, ran_at, detail FROM maintenance_runs WHERE task = ?",
                        (task,)).fetchone()


def checkpoint_truncate(conn: sqlite3.Connection, wait_ms: int) -> tuple[int, int, int]:
    """PRAGMA wal_checkpoint(TRUNCATE), waiting at most wait_ms for readers: (busy, WAL frames, checkpointed).

    The checkpoint holds the write lock while it waits, so the wait is kept short; the connection's
    own busy timeout is put back afterwards.
    """
    own_timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
    try:
        return tuple(conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone())
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(own_timeout)}")


def integrity_check(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("PRAGMA integrity_check")]



# --- security: login throttling, staff accounts and sessions -----------------------------

def insert_login_attempt(conn: sqlite3.Connection, username: str, client: str, now: int,
                         success: bool) -> None:
    conn.execute("INSERT INTO login_attempts (username, client, at, success) VALUES (?, ?, ?, ?)",
                 (username, client, now, int(success)))


def delete_login_attempts_before(conn: sqlite3.Connection, before: int) -> int:
    return conn.execute("DELETE FROM login_attempts WHERE at < ?", (before,)).rowcount


# Failed attempts of one scope after `since` and after that scope's last success.
_FAILURES_SQL = {
    "pair": "SELECT count(*), max(at) FROM login_attempts"
            " WHERE username = ? AND client = ? AND success = 0 AND at > ? AND at > coalesce(("
            "SELECT max(at) FROM login_attempts WHERE username = ? AND client = ? AND success = 1), 0)",
    "account": "SELECT count(*), max(at) FROM login_attempts"
               " WHERE username = ? AND success = 0 AND at > ? AND at > coalesce(("
               "SELECT max(at) FROM login_attempts WHERE username = ? AND success = 1), 0)",
    "client": "SELECT count(*), max(at) FROM login_attempts"
              " WHERE client = ? AND success = 0 AND at > ? AND at > coalesce(("
              "SELECT max(at) FROM login_attempts WHERE client = ? AND success = 1), 0)",
}


def login_failures(conn: sqlite3.Connection, scope: str, keys: tuple[str, ...],
                   since: int) -> tuple[int, int | None]:
    """(count, latest) of failures for scope pair (username, client), account or client."""
    row = conn.execute(_FAILURES_SQL[scope], (*keys, since, *keys)).fetchone()
    return row[0], row[1]


def has_logged_in_from(conn: sqlite3.Connection, username: str, client: str, since: int) -> bool:
    """Whether this account logged in successfully from this address since `since`."""
    return conn.execute(
        "SELECT 1 FROM login_attempts WHERE username = ? AND client = ? AND success = 1 AND at > ?"
        " LIMIT 1", (username, client, since)).fetchone() is not None


def accept_totp_step(conn: sqlite3.Connection, staff_id: int, step: int) -> bool:
    """Record a used one-time-code step; False if this or a later step was already used (replay)."""
    cur = conn.execute(
        "UPDATE staff SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)",
        (step, staff_id, step))
    return cur.rowcount == 1


def set_staff_totp_secret(conn: sqlite3.Connection, username: str, secret: str) -> int:
    return conn.execute("UPDATE staff SET totp_secret = ?, totp_last_step = NULL WHERE username = ?",
                        (secret, username)).rowcount


def set_staff_password(conn: sqlite3.Connection, username: str, password_hash: str) -> int:
    return conn.execute("UPDATE staff SET password_hash = ? WHERE username = ?",
                        (password_hash, username)).rowcount


def set_staff_active(conn: sqlite3.Connection, username: str, active: bool) -> int:
    return conn.execute("UPDATE staff SET active = ? WHERE username = ?", (int(active), username)).rowcount


def delete_sessions_of(conn: sqlite3.Connection, username: str) -> int:
    """End every session of one account."""
    return conn.execute(
        "DELETE FROM staff_sessions WHERE staff_id IN (SELECT id FROM staff WHERE username = ?)",
        (username,)).rowcount


def arrivals_of_all_venues(conn: sqlite3.Connection, start: int, end: int) -> list[tuple[int, int]]:
    """(venue_id, arrived_at) of guests' own check-ins in [start, end), by venue and time."""
    return [tuple(row) for row in conn.execute(
        "SELECT venue_id, arrived_at FROM visits WHERE arrived_at >= ? AND arrived_at < ?"
        " AND source != 'paper' ORDER BY venue_id, arrived_at", (start, end))]


def venue_arrivals(conn: sqlite3.Connection, venue_id: int, start: int, end: int) -> list[int]:
    """Arrival times (only the times) of guests' own check-ins at one venue in [start, end)."""
    return [row[0] for row in conn.execute(
        "SELECT arrived_at FROM visits WHERE venue_id = ? AND arrived_at >= ? AND arrived_at < ?"
        " AND source != 'paper' ORDER BY arrived_at", (venue_id, start, end))]
