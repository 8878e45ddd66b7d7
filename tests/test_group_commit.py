"""db.grouped_write: check-ins waiting at the same moment share one COMMIT, and each keeps its own outcome."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from roros_checkin import db


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "group.sqlite3"
    conn = db.connect(str(path))
    conn.execute("CREATE TABLE rows (name TEXT NOT NULL UNIQUE)")
    conn.close()
    return str(path)


def stored(database: str) -> list[str]:
    """What another connection (as after a restart) finds committed."""
    conn = sqlite3.connect(database)
    try:
        return sorted(row[0] for row in conn.execute("SELECT name FROM rows"))
    finally:
        conn.close()


def insert(name: str, ran_in: dict | None = None, then_raise: Exception | None = None):
    def work(conn):
        conn.execute("INSERT INTO rows (name) VALUES (?)", (name,))
        if ran_in is not None:
            ran_in[name] = threading.get_ident()
        if then_raise is not None:
            raise then_raise
        return name.upper()
    return work


class Writers:
    """Threads that each call grouped_write on their own connection, started while a first write holds
    the transaction open, so that they queue behind it and are run together by one of them."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.results: dict[str, object] = {}
        self.ran_in: dict[str, int] = {}
        self.holding = threading.Event()
        self.release = threading.Event()

    def first(self) -> threading.Thread:
        def work(conn):
            conn.execute("INSERT INTO rows (name) VALUES ('first')")
            self.holding.set()
            assert self.release.wait(5)
            return "FIRST"
        return self._thread("first", work)

    def _thread(self, name: str, work) -> threading.Thread:
        def run():
            conn = db.connect(self.database)
            try:
                self.results[name] = db.grouped_write(conn, work)
            except Exception as error:  # the caller's outcome, kept for the test to see
                self.results[name] = error
            finally:
                conn.close()
        thread = threading.Thread(target=run)
        thread.start()
        return thread

    def queue(self, works: dict[str, object]) -> list[threading.Thread]:
        threads = [self._thread(name, work) for name, work in works.items()]
        # Every queued job is in the database's queue before the first write lets go.
        path = f"{self.database}{db.WRITER_LOCK_SUFFIX}"
        for _ in range(500):
            with db._queue_lock:
                if len(db._queues.get(path, [])) == len(works):
                    break
            threading.Event().wait(0.01)
        else:
            raise AssertionError("the writers did not queue")
        return threads


def run_group(database: str, works: dict[str, object]) -> Writers:
    writers = Writers(database)
    first = writers.first()
    assert writers.holding.wait(5)
    threads = writers.queue(works)
    writers.release.set()
    for thread in (first, *threads):
        thread.join(10)
    return writers


def test_writes_waiting_together_are_committed_together(database):
    writers = Writers(database)
    works = {f"guest{number}": insert(f"guest{number}", writers.ran_in) for number in range(5)}
    first = writers.first()
    assert writers.holding.wait(5)
    threads = writers.queue(works)
    assert stored(database) == []  # nothing is committed while the first write is still open
    writers.release.set()
    for thread in (first, *threads):
        thread.join(10)
    assert writers.results == {"first": "FIRST", **{name: name.upper() for name in works}}
    assert stored(database) == sorted(["first", *works])
    # The five queued writes ran in one thread: one transaction, one COMMIT.
    assert len(set(writers.ran_in.values())) == 1


def test_a_write_that_raises_is_undone_alone(database):
    writers = run_group(database, {"ok1": insert("ok1"), "bad": insert("bad", then_raise=ValueError("no")),
                                   "ok2": insert("ok2")})
    assert isinstance(writers.results["bad"], ValueError)
    assert writers.results["ok1"] == "OK1" and writers.results["ok2"] == "OK2"
    assert stored(database) == ["first", "ok1", "ok2"]


def test_a_constraint_error_is_that_write_s_own(database):
    writers = run_group(database, {"dup1": insert("same"), "dup2": insert("same"), "other": insert("other")})
    outcomes = sorted(type(writers.results[name]).__name__ for name in ("dup1", "dup2"))
    assert outcomes == ["IntegrityError", "str"]
    assert stored(database) == ["first", "other", "same"]


def test_a_broken_transaction_stores_nothing_of_the_group_and_says_so_to_each(database):
    def breaks(conn):
        conn.execute("INSERT INTO rows (name) VALUES ('breaker')")
        conn.execute("ROLLBACK")  # as SQLite does itself on SQLITE_FULL
        raise sqlite3.OperationalError("database or disk is full")

    writers = run_group(database, {"a": insert("a"), "breaker": breaks, "b": insert("b")})
    assert all(isinstance(writers.results[name], sqlite3.OperationalError) for name in ("a", "breaker", "b"))
    assert stored(database) == ["first"]
    conn = db.connect(database)  # and the database takes the next write
    assert db.grouped_write(conn, insert("after")) == "AFTER"
    conn.close()
    assert stored(database) == ["after", "first"]


def test_a_lone_write_that_raises_commits_nothing(database):
    conn = db.connect(database)
    with pytest.raises(ValueError):
        db.grouped_write(conn, insert("lone", then_raise=ValueError("no")))
    assert not conn.in_transaction
    conn.close()
    assert stored(database) == []


def test_a_write_kept_waiting_past_the_busy_timeout_is_refused_and_leaves_the_queue(database, monkeypatch):
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 300)
    writers = Writers(database)
    first = writers.first()
    assert writers.holding.wait(5)
    conn = db.connect(database)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        db.grouped_write(conn, insert("late"))
    with db._queue_lock:
        assert db._queues.get(f"{database}{db.WRITER_LOCK_SUFFIX}", []) == []
    writers.release.set()
    first.join(10)
    conn.close()
    assert stored(database) == ["first"]
