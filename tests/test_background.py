"""Several server processes on one database: the background tasks (the purge) run in exactly one."""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from roros_checkin import background, create_app, db, queries
from roros_checkin.db import write_transaction
from tests.server import Server

RETENTION = 14 * 86400


def test_only_one_leader_holds_the_lock_and_another_takes_over_when_it_stops(tmp_path):
    database = str(tmp_path / "checkin.sqlite3")
    started = []
    first = background.Leader(database, lambda: started.append("first"), retry_seconds=0.05).start()
    assert first.leading.wait(5)
    second = background.Leader(database, lambda: started.append("second"), retry_seconds=0.05).start()
    time.sleep(0.3)
    assert started == ["first"] and not second.leading.is_set()
    first.stop()  # as when its process exits: the kernel lets go of the lock
    assert second.leading.wait(5)
    assert started == ["first", "second"]
    second.stop()
    assert "background-leader" not in [thread.name for thread in threading.enumerate()]


def expired_database(tmp_path) -> Server:
    """A server (not started) whose database holds three expired visits and two current ones."""
    server = Server(tmp_path, env={"ROROS_BACKGROUND_RETRY_SECONDS": "1"})
    app = create_app({"DATABASE": str(server.database), "SECRET_KEY": "x" * 40, "INSTANCE_PATH": tmp_path})
    with app.app_context():
        conn = db.get_db()
        db.upgrade(conn)
        with write_transaction(conn):
            venue = queries.insert_venue(conn, "kaffestuggu", "Kaffestuggu", "", int(time.time()))
            for number, arrived in enumerate([time.time() - RETENTION - 60] * 3 + [time.time() - 3600] * 2):
                conn.execute(
                    "INSERT INTO visits (venue_id, name, phone, party_size, arrived_at, registered_at, source,"
                    " idempotency_key) VALUES (?, 'Kari Nordmann', '+4791234567', 1, ?, ?, 'qr', ?)",
                    (venue, int(arrived), int(arrived), f"background-test-{number:04d}"))
    return server


def visits_left(server: Server) -> int:
    with sqlite3.connect(server.database) as check:
        return check.execute("SELECT count(*) FROM visits").fetchone()[0]


def last_purge(server: Server) -> str | None:
    with sqlite3.connect(server.database) as check:
        row = check.execute("SELECT detail FROM maintenance_runs WHERE task = 'purge'").fetchone()
    return row[0] if row else None


def wait_for(condition, what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.mark.slow
def test_two_server_processes_purge_in_one_and_the_other_takes_over(tmp_path):
    first = expired_database(tmp_path)
    second = Server(tmp_path, env={"ROROS_BACKGROUND_RETRY_SECONDS": "1",
                                   "ROROS_DATABASE": str(first.database)})
    first.start()
    try:
        wait_for(lambda: visits_left(first) == 2, "no process purged")
        second.start()
        time.sleep(2.5)  # two of the second one's tries to take the lock
        assert last_purge(first).startswith("deleted 3 visits")  # the second has not purged
        first_output = first.stop()
        # The first process is gone and its lock with it: the second takes over and purges.
        wait_for(lambda: last_purge(first).startswith("deleted 0 visits"), "the second did not take over")
    finally:
        first_output = first.stop()
        second_output = second.stop()
    assert first_output.count("runs the background tasks") == 1
    assert first_output.count("purge: deleted 3 visits") == 1
    assert second_output.count("runs the background tasks") == 1
    assert second_output.count("purge: deleted 0 visits") == 1


@pytest.mark.slow
def test_no_background_server_never_purges(tmp_path):
    server = expired_database(tmp_path)
    server.args = ("--no-background",)
    server.start()
    try:
        time.sleep(1.5)
        assert visits_left(server) == 5
    finally:
        output = server.stop()
    assert "purge" not in output and "background tasks" not in output
