"""Retention: delete what is past its time (visits after RETENTION_DAYS), by `flask purge` and hourly in the server.

The purge runs while guests check in. It reads the ids of expired rows without holding the write
lock, then deletes them in batches, each its own short BEGIN IMMEDIATE transaction, so a check-in
waits at most one batch. Every deleted row also leaves five indexes, so a row costs more as the
table grows, and each batch is sized to hold the lock about 50 ms, followed by a pause as long
(benchmarks/README.md, Contention: a million expired visits purged while large exports run, check-in
p99 82 ms). Afterwards the WAL is checkpointed with TRUNCATE: with secure_delete on every
connection, the deleted names are then gone from the database file and the WAL alike.

This module knows one database; maintenance.py runs it on the register and then on the backups.
"""
from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from . import queries
from .db import write_transaction

log = logging.getLogger(__name__)

# The first batch's size; each next one is sized to take about BATCH_TARGET_SECONDS, since a
# row costs more to delete as the table and its indexes grow (2,500 rows took 20-30 ms among
# 1.2 million visits, 440 ms among 10 million).
BATCH_SIZE = 2_500
BATCH_TARGET_SECONDS = 0.05
BATCH_LIMITS = (100, 10_000)
# A breath between batches, at least as long as the batch took, so check-ins waiting for the
# write lock get it: the purge holds it at most half of the time.
BATCH_PAUSE_SECONDS = 0.05
CHECKPOINT_TRIES = 10
# A truncating checkpoint holds the write lock while it waits for readers to finish. Waiting the
# full busy timeout behind a long export stalled every check-in for seconds (p99 1.3-3.3 s in
# benchmarks/contention.py), so it waits briefly and tries again after a pause instead.
CHECKPOINT_WAIT_MS = 100
# Deleted rows can linger in the WAL until it is truncated: when readers kept it busy, the server's
# purge comes back this soon instead of after its hourly interval.
CHECKPOINT_RETRY_SECONDS = 300
BATCHED_TABLES = ("visits", "login_attempts", "audit_log")
DAY = 86400


def not_before(now: float, days: int) -> int:
    """The instant at or before which something kept `days` days is past its retention."""
    return int(now - days * DAY)


def visits_not_before(config: Mapping[str, Any], now: float) -> int:
    """Visits that arrived at or before this instant are past RETENTION_DAYS.

    The one rule every page, search, export, form and purge uses: a visit is deleted
    RETENTION_DAYS after arrived_at, and nothing shows it or accepts it from then on.
    """
    return not_before(now, config["RETENTION_DAYS"])


def visit_expires_at(config: Mapping[str, Any], arrived_at: int) -> int:
    """When a visit is past RETENTION_DAYS: the same rule as visits_not_before, seen from the visit."""
    return int(arrived_at + config["RETENTION_DAYS"] * DAY)


def delete_by(today: date, retention_days: int) -> date:
    """The day by which what is exported or printed today must be gone (the live data is by then)."""
    return today + timedelta(days=retention_days)


def login_attempts_not_before(config: Mapping[str, Any], now: float) -> int:
    """Login attempts made at or before this instant are past LOGIN_ATTEMPT_RETENTION_HOURS."""
    return int(now - config["LOGIN_ATTEMPT_RETENTION_HOURS"] * 3600)


@dataclass(frozen=True)
class Cutoffs:
    """Rows at or before these instants are past their retention."""

    visits: int
    login_attempts: int
    audit_log: int
    session_idle: int
    session_created: int

    @classmethod
    def at(cls, config: Mapping[str, Any], now: int) -> "Cutoffs":
        return cls(
            # A visit is deleted RETENTION_DAYS after arrived_at: the same rule the pages use.
            visits=visits_not_before(config, now),
            login_attempts=login_attempts_not_before(config, now),
            audit_log=not_before(now, config["AUDIT_RETENTION_DAYS"]),
            session_idle=now - config["SESSION_IDLE_MINUTES"] * 60,
            session_created=now - config["SESSION_ABSOLUTE_HOURS"] * 3600,
        )


@dataclass
class PurgeResult:
    """How many rows went (or would go, in a dry run). Counts only: never personal data."""

    visits: int = 0
    staff_sessions: int = 0
    login_attempts: int = 0
    audit_log: int = 0
    # Cases past the visits' retention (their contact lines, states and SMS go with them).
    cases: int = 0
    dry_run: bool = False
    # Visits deleted inside the backups in BACKUP_DIR.
    backup_visits: int = 0
    # True when readers kept the WAL from being truncated; the next purge tries again.
    checkpoint_busy: bool = False

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (f"{verb} {self.visits} visits, {self.staff_sessions} staff sessions, "
                f"{self.login_attempts} login attempts, {self.audit_log} audit entries, {self.cases} cases"
                + ("" if self.dry_run else f", {self.backup_visits} visits inside backups"))


def _delete_in_batches(conn: sqlite3.Connection, table: str, cutoff: int, batch_size: int,
                       pause: float) -> int:
    deleted = 0
    while True:
        # Read outside the write lock: readers never block the guests' writes in WAL mode.
        ids = queries.expired_ids(conn, table, cutoff, batch_size)
        if not ids:
            return deleted
        with write_transaction(conn):
            started = time.monotonic()  # the delete and its commit, not the wait for the lock
            deleted += queries.delete_expired_ids(conn, table, ids, cutoff)
        took = time.monotonic() - started
        if len(ids) < batch_size:
            return deleted
        batch_size = next_batch_size(batch_size, took)
        time.sleep(max(pause, took))


def next_batch_size(size: int, took: float) -> int:
    """The size that would have taken about BATCH_TARGET_SECONDS, within BATCH_LIMITS."""
    low, high = BATCH_LIMITS
    return max(low, min(high, int(size * BATCH_TARGET_SECONDS / max(took, 0.001))))


def checkpoint(conn: sqlite3.Connection) -> bool:
    """Checkpoint and truncate the WAL; False when readers kept it busy after a few tries."""
    for attempt in range(CHECKPOINT_TRIES):
        busy, _frames, _done = queries.checkpoint_truncate(conn, CHECKPOINT_WAIT_MS)
        if not busy:
            return True
        time.sleep(0.2 * (attempt + 1))
    return False


def count_expired(conn: sqlite3.Connection, config: Mapping[str, Any], now: int) -> PurgeResult:
    """What a purge would delete now (a dry run): counts only, nothing changes."""
    cutoffs = Cutoffs.at(config, now)
    result = PurgeResult(dry_run=True)
    for table in BATCHED_TABLES:
        setattr(result, table, queries.count_expired(conn, table, getattr(cutoffs, table)))
    result.staff_sessions = queries.count_ended_staff_sessions(conn, cutoffs.session_idle, cutoffs.session_created)
    result.cases = queries.count_expired_cases(conn, cutoffs.visits)
    return result


def delete_expired(conn: sqlite3.Connection, config: Mapping[str, Any], now: int,
                   batch_size: int = BATCH_SIZE, pause: float = BATCH_PAUSE_SECONDS) -> PurgeResult:
    """Delete visits (and the cases, contact states and SMS derived from them), login attempts,
    audit entries and staff sessions past their retention."""
    cutoffs = Cutoffs.at(config, now)
    result = PurgeResult()
    for table in BATCHED_TABLES:
        setattr(result, table, _delete_in_batches(conn, table, getattr(cutoffs, table), batch_size, pause))
    # Everything derived from visits is deleted on the visits' clock (DESIGN.md): a case whose last
    # search is past the retention, and whatever no longer has the visits it came from.
    with write_transaction(conn):
        result.cases = queries.delete_cases(conn, queries.expired_case_ids(conn, cutoffs.visits), cutoffs.visits)
        queries.delete_orphaned_case_rows(conn)
    with write_transaction(conn):
        result.staff_sessions = queries.delete_ended_staff_sessions(
            conn, cutoffs.session_idle, cutoffs.session_created)
    return result


def finish_purge(conn: sqlite3.Connection, now: int, result: PurgeResult) -> PurgeResult:
    """Record the run in maintenance_runs, then truncate the WAL so the deleted rows leave it too."""
    with write_transaction(conn):
        queries.record_maintenance_run(conn, "purge", now, result.summary())
    result.checkpoint_busy = not checkpoint(conn)
    return result


def purge_expired(conn: sqlite3.Connection, config: Mapping[str, Any], now: int, dry_run: bool = False,
                  batch_size: int = BATCH_SIZE, pause: float = BATCH_PAUSE_SECONDS) -> PurgeResult:
    """Delete visits, staff sessions, login attempts and audit entries past their retention.

    This database only (the backups are maintenance.purge's). Safe to run twice and while
    guests check in. Records the run in maintenance_runs.
    """
    if dry_run:
        return count_expired(conn, config, now)
    return finish_purge(conn, now, delete_expired(conn, config, now, batch_size, pause))
