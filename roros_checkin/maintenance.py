"""The whole purge: the register first, then the backups in BACKUP_DIR; `flask purge` and the server's hourly run.

retention.py deletes what is past its time in one database; backup.py writes and rotates backups
(and purges each copy with retention.py). This module is above both, so neither imports the other
back: the purge of the backups is a step of the whole purge, not of the register's.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from . import backup, db, retention

log = logging.getLogger(__name__)


def purge(conn: sqlite3.Connection, config: Mapping[str, Any], now: int, dry_run: bool = False,
          batch_size: int = retention.BATCH_SIZE, pause: float = retention.BATCH_PAUSE_SECONDS
          ) -> retention.PurgeResult:
    """Delete everything past its retention, in the register and (with BACKUP_DIR set) in its backups.

    A dry run only counts the register's rows. Safe to run twice and while guests check in.
    Records the run in maintenance_runs, with the backups' count.
    """
    if dry_run:
        return retention.count_expired(conn, config, now)
    result = retention.delete_expired(conn, config, now, batch_size, pause)
    if config.get("BACKUP_DIR"):
        result.backup_visits = backup.purge_backups(Path(config["BACKUP_DIR"]), config, now)
    return retention.finish_purge(conn, now, result)


class BackgroundPurge:
    """The server's own hourly purge, so the retention holds even where nobody set up a timer."""

    def __init__(self, config: Mapping[str, Any], clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, name="purge", daemon=True)

    def start(self) -> "BackgroundPurge":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)

    def run(self) -> None:
        conn = db.connect(self.config["DATABASE"])
        try:
            while not self.stopped.is_set():
                self.stopped.wait(self.run_once(conn))
        finally:
            conn.close()

    def run_once(self, conn: sqlite3.Connection) -> float:
        """Purge once; return the seconds until the next run."""
        interval = self.config["PURGE_INTERVAL_MINUTES"] * 60
        try:
            result = purge(conn, self.config, int(self.clock()))
        except sqlite3.Error:
            # The next round tries again; the error (never row content) goes to the log.
            log.exception("purge failed")
            return interval
        busy = f"; WAL not truncated (busy readers), next try in {retention.CHECKPOINT_RETRY_SECONDS} s"
        log.info("purge: %s%s", result.summary(), busy if result.checkpoint_busy else "")
        return min(interval, retention.CHECKPOINT_RETRY_SECONDS) if result.checkpoint_busy else interval
