"""The SQLite connection (one per app context), its PRAGMAs, and the numbered migrations."""
from __future__ import annotations

import fcntl
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from flask import Flask, current_app, g

MIGRATIONS = Path(__file__).parent / "migrations"
EXTENSION = "roros_checkin.db"
BUSY_TIMEOUT_MS = 5000
T = TypeVar("T")

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


def _begin_immediate(conn: sqlite3.Connection, deadline: float) -> None:
    """BEGIN IMMEDIATE, waiting for SQLite's lock only as long as the writer's deadline has left.

    A writer that queued behind another thread or process has spent part of its busy timeout
    already; with SQLite's full 5 s on top, a request waited up to 10 s before its 503. The
    timeout is only touched after such a wait (above 50 ms), so an unqueued write costs nothing more.
    """
    remaining_ms = int((deadline - time.monotonic()) * 1000)
    if remaining_ms >= BUSY_TIMEOUT_MS - 50:
        conn.execute("BEGIN IMMEDIATE")
        return
    conn.execute(f"PRAGMA busy_timeout = {max(remaining_ms, 0)}")
    try:
        conn.execute("BEGIN IMMEDIATE")
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


@contextmanager
def write_transaction(conn: sqlite3.Connection, deadline: float | None = None) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT: take the write lock up front, so a busy database waits, not fails.

    It waits for the locks until `deadline` (time.monotonic()), by default the busy timeout from now;
    a caller that queued already (grouped_write) passes its own, so nobody waits twice.
    """
    if deadline is None:
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    if not _process_writer.acquire(timeout=max(0.0, deadline - time.monotonic())):
        raise _busy("another thread of this process kept writing")
    try:
        fd = _writer_lock_file(getattr(conn, "writer_lock_path", None))
        if fd is not None and not _lock_until(fd, deadline):
            raise _busy("another process kept writing")
        try:
            _begin_immediate(conn, deadline)
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


# --- Group commit: the check-ins of all threads waiting at one moment share one COMMIT (one fsync).
#
# A check-in's commit holds the write lock through its fsync; meanwhile the other serving threads
# (and processes) wait for it, each to commit alone. Instead, a check-in queues its work here. When
# no thread is leading for that database, the thread becomes the leader: it takes every work queued
# so far, takes the writer locks as write_transaction does, and runs them in one transaction, each in
# its own SAVEPOINT (one that raises is rolled back alone and its caller gets the exception), then
# COMMITs once and wakes them all; works queued meanwhile go to the next leader. Nobody's answer is
# given before that COMMIT returned: durability is that of synchronous=FULL, one fsync per group.
# What it bought is in benchmarks/README.md (goal 3).


class _Job:
    __slots__ = ("work", "result", "error", "taken", "done")

    def __init__(self, work: Callable[[sqlite3.Connection], T]) -> None:
        self.work = work
        self.result = None
        self.error: BaseException | None = None
        self.taken = False  # a leader has it
        self.done = False


# Under _queue_lock: per writer lock path, the works waiting and whether a leader is running.
# A follower waits on the condition, never on the writer lock: a work that is done must not wait
# behind the next group's transaction and fsync to hear so.
_queue_lock = threading.Condition()
_queues: dict[str, list[_Job]] = {}
_leading: set[str] = set()


def grouped_write(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run work(connection) in a write transaction, maybe together with other threads' works; it is
    committed when this returns, and what work raised is raised here (its changes rolled back).

    work may run in another serving thread, on that thread's connection: it must use only the
    connection it is given and its own arguments, never Flask's request or app globals.
    """
    path = getattr(conn, "writer_lock_path", None)
    if path is None:
        with write_transaction(conn):
            return work(conn)
    job = _Job(work)
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    with _queue_lock:
        _queues.setdefault(path, []).append(job)
        while path in _leading and not job.done:
            if job.taken:  # the running leader has it: it ends within its own deadline
                _queue_lock.wait()
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _queues[path].remove(job)
                raise _busy("another thread of this process kept writing")
            _queue_lock.wait(timeout=remaining)
        if not job.done:  # no leader now: this thread leads the works queued so far
            _leading.add(path)
            batch = _queues.pop(path)
            for queued in batch:
                queued.taken = True
    if not job.done:
        try:
            with write_transaction(conn, deadline):
                for queued in batch:
                    _run_job(conn, queued)
        except BaseException as error:
            # Not committed (the locks, BEGIN, a broken transaction or COMMIT failed): nothing of the
            # group is stored, and each caller hears so, with this error unless it raised its own.
            for queued in batch:
                if queued.error is None:
                    queued.error = error
            if not isinstance(error, Exception):
                raise
        finally:
            with _queue_lock:
                for queued in batch:
                    queued.done = True
                _leading.discard(path)
                _queue_lock.notify_all()
    if job.error is not None:
        raise job.error
    return job.result


def _run_job(conn: sqlite3.Connection, job: _Job) -> None:
    """Run one job in the open transaction, in its own SAVEPOINT. Its exception is kept on the job and
    its changes undone; one that broke the transaction itself (SQLite rolled it back, e.g. on
    SQLITE_FULL) is raised, and then nothing of the group is stored."""
    conn.execute("SAVEPOINT job")
    try:
        job.result = job.work(conn)
    except Exception as error:
        if not conn.in_transaction:
            raise
        job.error = error
        conn.execute("ROLLBACK TO job")
    conn.execute("RELEASE job")


def cannot_write(conn: sqlite3.Connection, wait_seconds: float) -> str | None:
    """Why nothing could be stored right now ("read-only", "locked"), or None; writes nothing.

    Read-only: the database file, its WAL or its folder cannot be written (access(2) reports a
    read-only mount even to root). Locked: another writer (this process, another process, or an
    sqlite3 shell) keeps the write lock longer than wait_seconds.
    """
    database = conn.execute("PRAGMA database_list").fetchone()["file"]
    for path in (database, f"{database}-wal", os.path.dirname(database)):
        if os.path.exists(path) and not os.access(path, os.W_OK):
            return "read-only"
    if not _process_writer.acquire(timeout=wait_seconds):
        return "locked"
    own_timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    try:
        fd = _writer_lock_file(getattr(conn, "writer_lock_path", None))
        if fd is not None and not _lock_until(fd, time.monotonic() + wait_seconds):
            return "locked"
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(wait_seconds * 1000)}")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        except sqlite3.OperationalError as error:
            if (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF == sqlite3.SQLITE_READONLY:
                return "read-only"
            if (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF == sqlite3.SQLITE_BUSY:
                return "locked"
            raise
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(own_timeout)}")
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        _process_writer.release()
    return None


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
