"""The guest's rights: access to, correction of and erasure of their visits, and withdrawal of consent.

Erasure deletes chosen visits the way the purge deletes expired ones: a DELETE on a connection
with secure_delete on (the freed pages are overwritten), everything derived from the visits goes
with them by foreign key, and the WAL is checkpointed with TRUNCATE so the names are gone from
the WAL as well. The same visits are deleted inside the backups in BACKUP_DIR, found there by
their idempotency key. Nothing personal is returned for the log: counts only.
"""
from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import backup, queries
from .db import write_transaction
from .retention import CHECKPOINT_WAIT_MS

log = logging.getLogger(__name__)


def person_visits(conn: sqlite3.Connection, phone: str, now: int, retention_days: int) -> list[sqlite3.Row]:
    """Everything stored under one phone number (E.164), oldest first: the answer to an access request."""
    return queries.visits_of_phone(conn, phone, now - retention_days * 86400)


def erase_visits(conn: sqlite3.Connection, config: Mapping[str, Any], visits: list[sqlite3.Row]) -> int:
    """Delete these visits (rows with id and idempotency_key) for good; return how many went."""
    if not visits:
        return 0
    with write_transaction(conn):
        deleted = queries.delete_visits(conn, [visit["id"] for visit in visits])
    busy, _frames, _done = queries.checkpoint_truncate(conn, CHECKPOINT_WAIT_MS)
    if busy:
        # Readers kept the WAL busy; the purge's own checkpoint (at least hourly) truncates it.
        log.info("erasure: WAL not truncated (busy readers); the next purge truncates it")
    if config.get("BACKUP_DIR"):
        erase_from_backups(Path(config["BACKUP_DIR"]), [visit["idempotency_key"] for visit in visits])
    return deleted


def erase_from_backups(directory: Path, idempotency_keys: list[str]) -> int:
    """Delete the visits with these keys inside every backup in directory; return how many went."""
    def erase(copy: sqlite3.Connection) -> int:
        with write_transaction(copy):
            return queries.delete_visits_by_key(copy, idempotency_keys)

    return backup.in_each_backup(directory, erase)


def erase_receipt_visit(conn: sqlite3.Connection, config: Mapping[str, Any], visit_id: int) -> int:
    """A guest's own erasure from the receipt: the visit behind it, at once and for good."""
    key = queries.receipt_visit_key(conn, visit_id)
    if key is None:
        return 0
    return erase_visits(conn, config, [{"id": visit_id, "idempotency_key": key}])


def erase_person_visits(conn: sqlite3.Connection, config: Mapping[str, Any], phone: str,
                        visit_ids: list[int]) -> int:
    """Erase those of visit_ids that are stored under phone (a staff member's erasure)."""
    return erase_visits(conn, config, queries.erasable_visits(conn, visit_ids, phone))


def correct_visit(conn: sqlite3.Connection, visit_id: int, phone: str, name: str, new_phone: str) -> bool:
    """Correct one visit's name and number; False when the visit is no longer stored under phone."""
    with write_transaction(conn):
        return queries.correct_visit(conn, visit_id, phone, name, new_phone)
