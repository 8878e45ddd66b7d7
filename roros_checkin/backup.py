"""Backups: a consistent copy by SQLite's online backup API, checked, private, and rotated.

Never a file copy: `cp` of a live WAL database can miss committed transactions or copy a torn
state. A backup holds the same personal data as the database, so it is written with mode 0600
into a 0700 folder, carries nothing past the retention (every purge also purges the backups in BACKUP_DIR), and is
deleted after BACKUP_RETENTION_DAYS.
"""
from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import queries, retention
from .db import BUSY_TIMEOUT_MS, write_transaction

NAME_FORMAT = "checkin-%Y%m%dT%H%M%SZ.sqlite3"
NAME = re.compile(r"checkin-(\d{8}T\d{6}Z)\.sqlite3")


class BackupError(Exception):
    """The backup was not made; the message says why and what to do."""


@dataclass
class BackupResult:
    path: Path
    size: int
    removed: list[Path] = field(default_factory=list)


def backup_name(now: int) -> str:
    return datetime.fromtimestamp(now, tz=timezone.utc).strftime(NAME_FORMAT)


def backup_time(path: Path) -> int | None:
    """When a backup was made, from its name; None for files that are not our backups."""
    match = NAME.fullmatch(path.name)
    if match is None:
        return None
    made = datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    return int(made.timestamp())


def private_directory(directory: Path) -> Path:
    """The backup folder, created 0700; an existing one others can read is refused."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = directory.stat().st_mode & 0o777
    if mode & 0o077:
        raise BackupError(f"{directory} is readable by others (mode {mode:o}); "
                          f"backups hold personal data: run chmod 700 {directory}")
    return directory


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy(source: sqlite3.Connection, target: Path, config: Mapping[str, Any], now: int) -> None:
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    copy = sqlite3.connect(target, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        copy.execute("PRAGMA secure_delete = ON")
        source.backup(copy)
        # The live purge runs hourly; anything that expired since is not carried into the backup.
        retention.purge_expired(copy, config, now)
        problems = queries.integrity_check(copy)
        if problems != ["ok"]:
            raise BackupError("integrity_check failed on the copy: " + "; ".join(problems[:5]))
        # One self-contained file: no -wal beside it when it is opened or restored.
        copy.execute("PRAGMA journal_mode = DELETE")
    finally:
        copy.close()


def make_backup(source: sqlite3.Connection, directory: Path, config: Mapping[str, Any],
                now: int) -> BackupResult:
    """Copy the live database into directory, check it, rotate old backups, record the run."""
    directory = private_directory(Path(directory))
    # A backup killed half-way leaves a .partial file: personal data that no rotation would find.
    # One younger than an hour may be another backup still running.
    for stale in directory.glob("checkin-*.sqlite3.partial*"):
        if time.time() - stale.stat().st_mtime > 3600:
            stale.unlink()
    final = directory / backup_name(now)
    if final.exists():
        raise BackupError(f"{final} already exists; wait a second and run the backup again")
    partial = directory / (final.name + ".partial")
    try:
        _copy(source, partial, config, now)
        _fsync(partial)
        os.replace(partial, final)
        _fsync(directory)
    except BaseException:
        for leftover in (partial, Path(f"{partial}-journal"), Path(f"{partial}-wal")):
            leftover.unlink(missing_ok=True)
        raise
    result = BackupResult(final, final.stat().st_size)
    result.removed = remove_old_backups(directory, now, config["BACKUP_RETENTION_DAYS"])
    with write_transaction(source):
        queries.record_maintenance_run(source, "backup", now, f"{final.name}, {result.size} bytes")
    return result


def in_each_backup(directory: Path, work: Callable[[sqlite3.Connection], int]) -> int:
    """Run work on every backup in directory (each opened with secure_delete on); sum what it returns."""
    total = 0
    directory = Path(directory)
    if not directory.is_dir():
        return 0
    for path in sorted(directory.iterdir()):
        if backup_time(path) is None or not path.is_file():
            continue
        copy = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            copy.execute("PRAGMA secure_delete = ON")
            total += work(copy)
        finally:
            copy.close()
    return total


def purge_backups(directory: Path, config: Mapping[str, Any], now: int) -> int:
    """Delete expired visits inside every backup in directory; return how many went.

    The live database forgets a visit RETENTION_DAYS after it; without this, a nightly
    backup would keep it for up to BACKUP_RETENTION_DAYS more.
    """
    return in_each_backup(directory, lambda copy: retention.purge_expired(copy, config, now).visits)


def remove_old_backups(directory: Path, now: int, keep_days: int) -> list[Path]:
    """Delete our backups in directory made keep_days or more ago; other files are left alone."""
    cutoff = retention.not_before(now, keep_days)
    removed = []
    for path in sorted(directory.iterdir()):
        made = backup_time(path)
        if made is not None and made <= cutoff and path.is_file():
            path.unlink()
            removed.append(path)
    return removed
