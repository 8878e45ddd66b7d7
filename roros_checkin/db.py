"""The SQLite connection (one per app context), its PRAGMAs, and the numbered migrations."""
from __future__ import annotations

import fcntl
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app, g

MIGRATIONS = Path(__file__).parent / "migrations"
EXTENSION = "roros_checkin.db"
BUSY_TIMEOUT_MS = 5000

# Set on every connection: these defaults differ between SQLite builds.
PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    # An acknowledged check-in must survive power loss, not only a process crash.
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    # Purged rows are overwritten with zeros, not left in free pages.
    "PRAGMA secure_delete = ON",
    # Keep the WAL from staying gigabytes large after a big purge.
    "PRAGMA journal_size_limit = 67108864",
)


class Connection(sqlite3.Connection):
    """A connection that knows the lock file its writers queue on (see write_transaction)."""

    writer_lock_path: str | None = None


def connect(path: str) -> sqlite3.Connection:
    """Open a connection with the project's PRAGMAs; the file is created 0600 if new."""
    database = Path(path)
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not database.exists():
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
    # isolation_level=None: no implicit DEFERRED transactions; writes say BEGIN IMMEDIATE.
    conn = sqlite3.connect(database, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                           check_same_thread=False, factory=Connection)
    conn.writer_lock_path = f"{database}{WRITER_LOCK_SUFFIX}"
    conn.row_factory = sqlite3.Row
    for pragma in PRAGMAS:
        conn.execute(pragma)
    return conn


def get_db() -> sqlite3.Connection:
    """The connection of the current app context: the serving thread's own long-lived connection.

    Opening a connection per request (file open, WAL index mapping, PRAGMAs, and a checkpoint when the
    last one closes) cost more than the whole check-in's SQL, so each thread keeps one; an app context
    still has it to itself, and its teardown leaves no transaction open.
    """
    if "db" not in g:
        g.db = _thread_connection(current_app)
    return g.db


def _thread_connection(app: Flask) -> sqlite3.Connection:
    local = app.extensions[EXTENSION]
    path = app.config["DATABASE"]
    conn = getattr(local, "conn", None)
    if conn is None or local.path != path:
        local.conn = None
        if conn is not None:
            conn.close()
        conn = local.conn = connect(path)
        local.path = path
    return conn


def discard_connection() -> None:
    """Close the current context's connection for good, e.g. after a disk error; the next request reopens."""
    conn = g.pop("db", None)
    local = current_app.extensions[EXTENSION]
    if getattr(local, "conn", None) is conn:
        local.conn = None
    if conn is not None:
        try:
            conn.close()
        except sqlite3.Error:
            pass  # a connection broken by the disk error may fail to close cleanly; it is dropped anyway


def close_db(exc: BaseException | None = None) -> None:
    """End of an app context: roll back whatever a failed request left open; keep the connection."""
    conn = g.get("db")
    if conn is None:
        return
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        discard_connection()
        return
    if isinstance(exc, sqlite3.Error):
        discard_connection()
        return
    g.pop("db", None)


# Writers queue before asking SQLite for its write lock. SQLite's busy handler has no queue: a waiting
# writer sleeps 1, 2, 5 … 100 ms and retries, so under load the commit that holds the lock through its
# fsync (synchronous=FULL) leaves the others asleep long after it finished, and a writer can starve
# until busy_timeout says "database is locked". So: threads of this process take a Lock (handed over
# in order), then the process takes an flock on "<database>-writer", which every process (a second
# server, `flask purge`) shares; a waiting process looks again within 2 ms instead of 100.
WRITER_LOCK_SUFFIX = "-writer"
_process_writer = threading.Lock()
# path -> open fd (read-only: flock needs no more, and it never holds a disk busy for writing);
# only touched under _process_writer.
_writer_lock_files: dict[str, int] = {}


def _busy(reason: str) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(f"database is locked ({reason})")
    error.sqlite_errorcode = sqlite3.SQLITE_BUSY
    error.sqlite_errorname = "SQLITE_BUSY"
    return error


def _writer_lock_file(path: str | None) -> int | None:
    """The open lock file for this database, or None where it cannot be made (e.g. read-only disk):
    then SQLite's own locking still keeps writes correct, only without the queue."""
    if path is None:
        return None
    if path not in _writer_lock_files:
        if len(_writer_lock_files) >= 32:  # a process serves one database; tests make many
            os.close(_writer_lock_files.pop(next(iter(_writer_lock_files))))
        try:
            _writer_lock_files[path] = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            return None  # not remembered: tried again on the next write
    return _writer_lock_files[path]


def _lock_until(fd: int, deadline: float) -> bool:
    delay = 0.0002
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.002)


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT: take the write lock up front, so a busy database waits, not fails."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    if not _process_writer.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
        raise _busy("another thread of this process kept writing")
    try:
        fd = _writer_lock_file(getattr(conn, "writer_lock_path", None))
        if fd is not None and not _lock_until(fd, deadline):
            raise _busy("another process kept writing")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                # Also after a failed COMMIT (disk full, I/O error), which can leave the transaction
                # open; but SQLite may have rolled back already (e.g. SQLITE_FULL), and a ROLLBACK
                # with none open would raise over the error that matters.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        _process_writer.release()


def migration_files() -> list[tuple[int, Path]]:
    """The numbered migrations, in order; numbers must run 1, 2, 3 … without gaps."""
    found = []
    for path in MIGRATIONS.glob("*.sql"):
        match = re.fullmatch(r"(\d{4})_[a-z0-9_]+\.sql", path.name)
        if not match:
            raise RuntimeError(f"migration file name not understood: {path.name}")
        found.append((int(match.group(1)), path))
    found.sort()
    if [number for number, _ in found] != list(range(1, len(found) + 1)):
        raise RuntimeError("migrations must be numbered 0001, 0002, … without gaps")
    return found


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def upgrade(conn: sqlite3.Connection) -> list[int]:
    """Apply the pending migrations in order, each in its own transaction; return their numbers."""
    applied = []
    for number, path in migration_files():
        if number <= schema_version(conn):
            continue
        script = path.read_text(encoding="utf-8")
        try:
            conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        applied.append(number)
    return applied


def latest_version() -> int:
    files = migration_files()
    return files[-1][0] if files else 0


def init_app(app: Flask) -> None:
    # Per thread and per app, so test apps on other files never share a connection.
    app.extensions[EXTENSION] = threading.local()
    app.teardown_appcontext(close_db)
