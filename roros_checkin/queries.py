"""Every SQL statement of the application, as named functions, grouped by table.

One module (DESIGN.md: all SQL in one place), so every caller says `queries.name` and a
reviewer reads every statement in one file. The groups, in order: venues; visits (the guest's
check-in, the tracing searches, activity and anomalies, a person's own data); staff and
staff_sessions; login_attempts; audit_log; cases (contacts, their states), the SMS outbox and their retention;
maintenance (purge, maintenance_runs, the WAL, health).

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


# --- venues -------------------------------------------------------------------------------------
# The places guests check in at: venues.py, cli/venues.py, the guest start page.


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


def update_venue(conn: sqlite3.Connection, slug: str, name: str, address: str) -> int:
    """Set a venue's name and address; return how many rows changed (0: no such slug)."""
    cur = conn.execute("UPDATE venues SET name = ?, address = ? WHERE slug = ?", (name, address, slug))
    return cur.rowcount


# --- visits: the guest's check-in ---------------------------------------------------------------
# Storing a visit once per idempotency key, its receipt and check-out (visits.py).


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
    # The language of the form the guest used (an SMS to them is written in it).
    language: str | None = None


def insert_visit(conn: sqlite3.Connection, visit: NewVisit) -> bool:
    """Store a visit; False when its idempotency key is already stored (a re-sent form)."""
    cur = conn.execute(
        "INSERT INTO visits (venue_id, name, phone, party_size, area, arrived_at, registered_at,"
        " source, idempotency_key, receipt_hash, consent_version, language, name_key)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (idempotency_key) DO NOTHING",
        (visit.venue_id, visit.name, visit.phone, visit.party_size, visit.area, visit.arrived_at,
         visit.registered_at, visit.source, visit.idempotency_key, visit.receipt_hash,
         visit.consent_version, visit.language, name_key(visit.name)),
    )
    return cur.rowcount == 1


def visit_venue_by_idempotency_key(conn: sqlite3.Connection, key: str) -> int | None:
    row = conn.execute("SELECT venue_id FROM visits WHERE idempotency_key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def recent_venues_of_phone(conn: sqlite3.Connection, phone: str, other_than_venue: int, since: int,
                           not_before: int) -> dict[int, int]:
    """{venue_id: latest registered_at} of guests' own check-ins with this phone registered after since.

    Paper lists (entered by staff) do not count; `not_before` (the retention boundary on
    arrived_at) lets visits_phone_arrived find the phone's few rows.
    """
    rows = conn.execute(
        "SELECT venue_id, max(registered_at) FROM visits WHERE phone = ? AND arrived_at > ?"
        " AND registered_at > ? AND venue_id != ? AND source != 'paper' GROUP BY venue_id",
        (phone, not_before, since, other_than_venue)).fetchall()
    return {row[0]: row[1] for row in rows}


RECEIPT_COLUMNS = (
    "SELECT visits.id, visits.arrived_at, visits.left_at, visits.party_size, visits.area,"
    " visits.source, venues.name AS venue_name, venues.slug AS venue_slug, venues.address AS venue_address"
    " FROM visits JOIN venues ON venues.id = visits.venue_id")


def receipt_by_key(conn: sqlite3.Connection, idempotency_key: str, not_before: int) -> sqlite3.Row | None:
    """What a guest's receipt shows: venue, times, party size. Never name or phone.

    Only a guest's own check-in has a receipt: a paper list's rows (typed in by staff) have none.
    """
    return conn.execute(
        f"{RECEIPT_COLUMNS} WHERE visits.idempotency_key = ? AND visits.arrived_at > ? AND visits.source != 'paper'",
        (idempotency_key, not_before),
    ).fetchone()


def receipt_by_hash(conn: sqlite3.Connection, receipt_hash: str, not_before: int) -> sqlite3.Row | None:
    """A receipt of a visit stored with a receipt hash (before receipt tokens carried the key)."""
    return conn.execute(f"{RECEIPT_COLUMNS} WHERE visits.receipt_hash = ? AND visits.arrived_at > ?",
                        (receipt_hash, not_before)).fetchone()


def record_check_out(conn: sqlite3.Connection, visit_id: int, now: int, max_stay_seconds: int) -> bool:
    """Set left_at once, to now but at most max_stay_seconds after arrival; a second check-out
    changes nothing, and a visit registered afterwards ("retro") has no check-out."""
    cur = conn.execute(
        "UPDATE visits SET left_at = min(max(?, arrived_at), arrived_at + ?)"
        " WHERE id = ? AND left_at IS NULL AND source != 'retro'",
        (now, max_stay_seconds, visit_id),
    )
    return cur.rowcount == 1


def set_visit_entered_by(conn: sqlite3.Connection, idempotency_key: str, staff_id: int) -> None:
    """Record which staff account typed a visit in (a paper-list row)."""
    conn.execute("UPDATE visits SET entered_by = ? WHERE idempotency_key = ?", (staff_id, idempotency_key))


# --- visits: the tracing team's searches --------------------------------------------------------
# The case and venue searches (contacts.py); only visits inside the retention.


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


# --- visits: activity and anomalies -------------------------------------------------------------
# Counts and arrival times only, for the venue activity page (activity.py, anomalies.py).


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


def arrivals_of_all_venues(conn: sqlite3.Connection, start: int, end: int) -> list[tuple[int, int]]:
    """(venue_id, arrived_at) of guests' own check-ins in [start, end), by venue and time."""
    return [tuple(row) for row in conn.execute(
        "SELECT venue_id, arrived_at FROM visits WHERE arrived_at >= ? AND arrived_at < ?"
        " AND source != 'paper' ORDER BY venue_id, arrived_at", (start, end))]


# --- visits: a person's own data ----------------------------------------------------------------
# Access, correction and erasure (subject_rights.py, tracing/person.py).


def visits_of_phone(conn: sqlite3.Connection, phone: str, not_before: int) -> list[sqlite3.Row]:
    """Every visit stored under one E.164 number inside the retention, oldest first, with who typed it."""
    return _fetch_all_lenient(
        conn,
        "SELECT visits.id, visits.name, visits.phone, visits.party_size, visits.area, visits.arrived_at,"
        " visits.left_at, visits.registered_at, visits.source, visits.consent_version,"
        " venues.slug AS venue_slug, venues.name AS venue_name, staff.username AS entered_by"
        " FROM visits JOIN venues ON venues.id = visits.venue_id"
        " LEFT JOIN staff ON staff.id = visits.entered_by"
        " WHERE visits.phone = ? AND visits.arrived_at > ? ORDER BY visits.arrived_at, visits.id",
        (phone, not_before),
    )


def erasable_visits(conn: sqlite3.Connection, visit_ids: list[int], phone: str) -> list[sqlite3.Row]:
    """Of visit_ids, those still stored under phone: (id, idempotency_key), for erasure."""
    return conn.execute(
        "SELECT visits.id, visits.idempotency_key FROM visits, json_each(?) AS wanted"
        " WHERE visits.id = wanted.value AND visits.phone = ?",
        (json.dumps(visit_ids), phone),
    ).fetchall()


def delete_visits(conn: sqlite3.Connection, visit_ids: list[int]) -> int:
    """Delete visits by id (their derived rows go with them by foreign key); return how many went."""
    before = conn.total_changes
    conn.executemany("DELETE FROM visits WHERE id = ?", ((visit_id,) for visit_id in visit_ids))
    return conn.total_changes - before


def delete_visits_by_key(conn: sqlite3.Connection, idempotency_keys: list[str]) -> int:
    """Delete visits by idempotency key (the same visit in a backup copy); return how many went."""
    before = conn.total_changes
    conn.executemany("DELETE FROM visits WHERE idempotency_key = ?", ((key,) for key in idempotency_keys))
    return conn.total_changes - before


def correct_visit(conn: sqlite3.Connection, visit_id: int, phone: str, new_name: str, new_phone: str) -> bool:
    """Correct the name and number of one visit still stored under phone; False when it is not."""
    cur = conn.execute("UPDATE visits SET name = ?, phone = ? WHERE id = ? AND phone = ?",
                       (new_name, new_phone, visit_id, phone))
    return cur.rowcount == 1


def receipt_visit_key(conn: sqlite3.Connection, visit_id: int) -> str | None:
    """The idempotency key of a visit (to find it again inside the backups)."""
    row = conn.execute("SELECT idempotency_key FROM visits WHERE id = ?", (visit_id,)).fetchone()
    return None if row is None else row[0]


# --- staff, staff_sessions ----------------------------------------------------------------------
# Accounts and their server-side sessions (staff.py).


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


def set_staff_active(conn: sqlite3.Connection, username: str, active: bool) -> int:
    return conn.execute("UPDATE staff SET active = ? WHERE username = ?", (int(active), username)).rowcount


def set_staff_password(conn: sqlite3.Connection, username: str, password_hash: str) -> int:
    return conn.execute("UPDATE staff SET password_hash = ? WHERE username = ?",
                        (password_hash, username)).rowcount


def set_staff_totp_secret(conn: sqlite3.Connection, username: str, secret: str) -> int:
    return conn.execute("UPDATE staff SET totp_secret = ?, totp_last_step = NULL WHERE username = ?",
                        (secret, username)).rowcount


def accept_totp_step(conn: sqlite3.Connection, staff_id: int, step: int) -> bool:
    """Record a used one-time-code step; False if this or a later step was already used (replay)."""
    cur = conn.execute(
        "UPDATE staff SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)",
        (step, staff_id, step))
    return cur.rowcount == 1


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


def delete_sessions_of(conn: sqlite3.Connection, username: str) -> int:
    """End every session of one account."""
    return conn.execute(
        "DELETE FROM staff_sessions WHERE staff_id IN (SELECT id FROM staff WHERE username = ?)",
        (username,)).rowcount


# --- login_attempts -----------------------------------------------------------------------------
# The authentication log the login throttle counts (login_throttle.py).


def insert_login_attempt(conn: sqlite3.Connection, username: str, client: str, now: int,
                         success: bool) -> int:
    """Record a login attempt; its id."""
    return conn.execute("INSERT INTO login_attempts (username, client, at, success) VALUES (?, ?, ?, ?)",
                        (username, client, now, int(success))).lastrowid


def mark_login_attempt_success(conn: sqlite3.Connection, attempt: int) -> None:
    conn.execute("UPDATE login_attempts SET success = 1 WHERE id = ?", (attempt,))


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


# --- audit_log ----------------------------------------------------------------------------------
# Append-only: who searched what, when, for which case (audit.py).


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
    # Keyed hashes of the searched person (audit.person_hashes); never the name or number itself.
    name_hash: str | None = None
    phone_hash: str | None = None


def insert_audit(conn: sqlite3.Connection, entry: AuditEntry) -> None:
    conn.execute(
        "INSERT INTO audit_log (at, staff, action, case_ref, venue_slug, window_from, window_to,"
        " result_count, detail, name_hash, phone_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (entry.at, entry.staff, entry.action, entry.case_ref, entry.venue_slug, entry.window_from,
         entry.window_to, entry.result_count, entry.detail, entry.name_hash, entry.phone_hash),
    )


def audit_entries_for_person(conn: sqlite3.Connection, name_hash: str | None, phone_hash: str | None,
                             limit: int) -> list[sqlite3.Row]:
    """Audit entries whose searched person had this name hash or this phone hash, newest first."""
    return conn.execute(
        "SELECT id, at, staff, action, case_ref, venue_slug, window_from, window_to, result_count, detail"
        " FROM audit_log WHERE (name_hash IS NOT NULL AND name_hash = ?)"
        " OR (phone_hash IS NOT NULL AND phone_hash = ?) ORDER BY id DESC LIMIT ?",
        (name_hash, phone_hash, limit),
    ).fetchall()


def audit_entries(conn: sqlite3.Connection, before_id: int | None, limit: int) -> list[sqlite3.Row]:
    """The newest audit entries first, older than `before_id` when paging."""
    return conn.execute(
        "SELECT id, at, staff, action, case_ref, venue_slug, window_from, window_to, result_count, detail"
        " FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?",
        (before_id if before_id is not None else 2**62, limit),
    ).fetchall()


# --- cases, case_contacts, case_contact_visits --------------------------------------------------
# A case's contacts as work: who to call, each one's state (cases.py).


def case_by_ref(conn: sqlite3.Connection, case_ref: str) -> sqlite3.Row | None:
    return conn.execute("SELECT id, case_ref, created_by, created_at, updated_at FROM cases WHERE case_ref = ?",
                        (case_ref,)).fetchone()


def case_by_id(conn: sqlite3.Connection, case_id: int) -> sqlite3.Row | None:
    return conn.execute("SELECT id, case_ref, created_by, created_at, updated_at FROM cases WHERE id = ?",
                        (case_id,)).fetchone()


def upsert_case(conn: sqlite3.Connection, case_ref: str, staff: str, now: int) -> int:
    """The case's id, created on its first search; a later search moves updated_at on."""
    conn.execute(
        "INSERT INTO cases (case_ref, created_by, created_at, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (case_ref) DO UPDATE SET updated_at = max(updated_at, excluded.updated_at)",
        (case_ref, staff, now, now))
    return conn.execute("SELECT id FROM cases WHERE case_ref = ?", (case_ref,)).fetchone()[0]


def upsert_case_contact(conn: sqlite3.Connection, case_id: int, phone: str) -> int:
    """The contact line of (case, phone), created in state not_called; an existing one is kept as it is."""
    conn.execute("INSERT INTO case_contacts (case_id, phone) VALUES (?, ?) ON CONFLICT (case_id, phone) DO NOTHING",
                 (case_id, phone))
    return conn.execute("SELECT id FROM case_contacts WHERE case_id = ? AND phone = ?",
                        (case_id, phone)).fetchone()[0]


def upsert_case_contact_visit(conn: sqlite3.Connection, contact_id: int, visit_id: int, case_visit_id: int | None,
                              overlap_seconds: int, short: bool) -> None:
    """Link a contact's visit; a longer overlap found by a later search replaces a shorter one."""
    conn.execute(
        "INSERT INTO case_contact_visits (case_contact_id, visit_id, case_visit_id, overlap_seconds, short)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (case_contact_id, visit_id) DO UPDATE SET"
        " case_visit_id = excluded.case_visit_id, overlap_seconds = excluded.overlap_seconds,"
        " short = excluded.short WHERE excluded.overlap_seconds > case_contact_visits.overlap_seconds",
        (contact_id, visit_id, case_visit_id, overlap_seconds, int(short)))


def list_cases(conn: sqlite3.Connection, limit: int = 200) -> list[sqlite3.Row]:
    """Cases, most recently worked on first, with how many contact lines are done."""
    return conn.execute(
        "SELECT cases.id, cases.case_ref, cases.created_by, cases.created_at, cases.updated_at,"
        " count(case_contacts.id) AS contacts,"
        " sum(case_contacts.state IN ('reached', 'sms')) AS notified"
        " FROM cases LEFT JOIN case_contacts ON case_contacts.case_id = cases.id"
        " GROUP BY cases.id ORDER BY max(cases.updated_at, coalesce(max(case_contacts.updated_at), 0)) DESC"
        " LIMIT ?", (limit,)).fetchall()


def case_contact_lines(conn: sqlite3.Connection, case_id: int, not_before: int) -> list[sqlite3.Row]:
    """Every linked visit of a case's contacts, with the contact's state and its SMS; inside the retention."""
    return _fetch_all_lenient(
        conn,
        "SELECT case_contacts.id AS contact_id, case_contacts.phone, case_contacts.state, case_contacts.tries,"
        " case_contacts.tried_at, case_contacts.version, case_contacts.updated_by, case_contacts.updated_at,"
        " links.overlap_seconds, links.short, links.case_visit_id,"
        " visits.id AS visit_id, visits.name, visits.party_size, visits.area, visits.arrived_at, visits.left_at,"
        " visits.source, visits.language, venues.name AS venue_name,"
        " sms_outbox.id AS sms_id, sms_outbox.attempts AS sms_attempts, sms_outbox.accepted_at AS sms_accepted_at,"
        " sms_outbox.created_at AS sms_created_at, sms_outbox.last_error AS sms_last_error"
        " FROM case_contacts"
        " JOIN case_contact_visits AS links ON links.case_contact_id = case_contacts.id"
        " JOIN visits ON visits.id = links.visit_id JOIN venues ON venues.id = visits.venue_id"
        " LEFT JOIN sms_outbox ON sms_outbox.case_contact_id = case_contacts.id"
        " WHERE case_contacts.case_id = ? AND visits.arrived_at > ?"
        " ORDER BY case_contacts.id, links.overlap_seconds DESC, visits.arrived_at",
        (case_id, not_before))


def set_case_contact_state(conn: sqlite3.Connection, case_id: int, contact_id: int, version: int, state: str,
                           staff: str, now: int) -> bool:
    """Set a contact's state if it is still at `version`; False when someone changed it first.

    "not_reached" counts the call and remembers when it was made.
    """
    cur = conn.execute(
        "UPDATE case_contacts SET state = ?, version = version + 1, updated_by = ?, updated_at = ?,"
        " tries = tries + (? = 'not_reached'), tried_at = CASE WHEN ? = 'not_reached' THEN ? ELSE tried_at END"
        " WHERE id = ? AND case_id = ? AND version = ?",
        (state, staff, now, state, state, now, contact_id, case_id, version))
    return cur.rowcount == 1


# --- sms_outbox ---------------------------------------------------------------------------------
# The durable outbox of messages to contacts; an accepted message never goes twice (sms.py).


def insert_sms(conn: sqlite3.Connection, contact_id: int, phone: str, language: str, text: str, staff: str,
               now: int) -> bool:
    """Queue one message for a contact line; False when that line already has one (never twice)."""
    cur = conn.execute(
        "INSERT INTO sms_outbox (case_contact_id, phone, language, text, created_by, created_at, next_attempt_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_contact_id) DO NOTHING",
        (contact_id, phone, language, text, staff, now, now))
    return cur.rowcount == 1


def claim_due_sms(conn: sqlite3.Connection, now: int, lease_until: int, lease_token: str) -> sqlite3.Row | None:
    """Claim the next due, unaccepted, unleased message for one attempt (inside a write transaction)."""
    row = conn.execute(
        "SELECT id FROM sms_outbox WHERE accepted_at IS NULL AND next_attempt_at <= ?"
        " AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at, id LIMIT 1",
        (now, now)).fetchone()
    if row is None:
        return None
    conn.execute("UPDATE sms_outbox SET lease_until = ?, lease_token = ?, attempts = attempts + 1 WHERE id = ?",
                 (lease_until, lease_token, row[0]))
    return conn.execute("SELECT id, case_contact_id, phone, text, attempts FROM sms_outbox WHERE id = ?",
                        (row[0],)).fetchone()


def mark_sms_accepted(conn: sqlite3.Connection, sms_id: int, lease_token: str, now: int) -> bool:
    """Record the gateway's acceptance and tell the contact line; False if the lease was lost."""
    cur = conn.execute(
        "UPDATE sms_outbox SET accepted_at = ?, lease_until = NULL, last_error = NULL"
        " WHERE id = ? AND lease_token = ? AND accepted_at IS NULL", (now, sms_id, lease_token))
    if cur.rowcount != 1:
        return False
    conn.execute(
        "UPDATE case_contacts SET state = 'sms', version = version + 1, updated_by = 'sms', updated_at = ?"
        " WHERE id = (SELECT case_contact_id FROM sms_outbox WHERE id = ?)"
        " AND state IN ('not_called', 'not_reached')", (now, sms_id))
    return True


def mark_sms_failed(conn: sqlite3.Connection, sms_id: int, lease_token: str, next_attempt_at: int,
                    error: str) -> None:
    conn.execute(
        "UPDATE sms_outbox SET lease_until = NULL, next_attempt_at = ?, last_error = ?"
        " WHERE id = ? AND lease_token = ? AND accepted_at IS NULL", (next_attempt_at, error, sms_id, lease_token))


def sms_waiting(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM sms_outbox WHERE accepted_at IS NULL").fetchone()[0]


# --- cases: retention ---------------------------------------------------------------------------
# Cases and what hangs on them go on the visits' clock (retention.py).


def expired_case_ids(conn: sqlite3.Connection, cutoff: int) -> list[int]:
    return [row[0] for row in conn.execute("SELECT id FROM cases WHERE updated_at <= ?", (cutoff,))]


def delete_cases(conn: sqlite3.Connection, ids: list[int], cutoff: int) -> int:
    """Delete cases (their contacts, links and messages go with them) still at or before cutoff."""
    # rowcount counts the cases alone, not the rows that went with them.
    return conn.executemany("DELETE FROM cases WHERE id = ? AND updated_at <= ?",
                            ((case_id, cutoff) for case_id in ids)).rowcount


def delete_orphaned_case_rows(conn: sqlite3.Connection) -> int:
    """Delete case rows whose visits or case are gone; return how many contact lines went.

    With foreign keys on (every connection of the app) the cascades and the trigger already did
    this; a backup opened without them is swept the same way.
    """
    conn.execute("DELETE FROM case_contacts WHERE NOT EXISTS (SELECT 1 FROM cases WHERE cases.id = case_id)")
    conn.execute(
        "DELETE FROM case_contact_visits WHERE NOT EXISTS (SELECT 1 FROM visits WHERE visits.id = visit_id)"
        " OR (case_visit_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM visits WHERE visits.id = case_visit_id))"
        " OR NOT EXISTS (SELECT 1 FROM case_contacts WHERE case_contacts.id = case_contact_id)")
    lines = conn.execute(
        "DELETE FROM case_contacts WHERE NOT EXISTS"
        " (SELECT 1 FROM case_contact_visits WHERE case_contact_id = case_contacts.id)").rowcount
    conn.execute("DELETE FROM sms_outbox WHERE NOT EXISTS"
                 " (SELECT 1 FROM case_contacts WHERE case_contacts.id = case_contact_id)")
    return lines


def count_expired_cases(conn: sqlite3.Connection, cutoff: int) -> int:
    return conn.execute("SELECT count(*) FROM cases WHERE updated_at <= ?", (cutoff,)).fetchone()[0]


# --- maintenance: purge, maintenance_runs, WAL, health ------------------------------------------
# For retention.py, backup.py, deploy_check.py and /healthz.


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


def ping(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT count(*) FROM venues").fetchone() is not None
