"""`flask purge` and the server's own purge: nothing outlives its retention, not even in the WAL."""
from __future__ import annotations

import random
import secrets
import sqlite3
import string
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import FRIDAY_EVENING, post_checkin
from server import ROOT, Server, clean_environ

from roros_checkin import create_app, db, maintenance, queries, retention
from roros_checkin.db import write_transaction
from roros_checkin import login_throttle as throttle

DAY = 86400
RETENTION = 14 * DAY


def insert_visits(conn, venue_id: int, arrived_at: int, count: int = 1, name: str = "Ola Nordmann",
                  phone: str = "+4791234567") -> None:
    with write_transaction(conn):
        for _ in range(count):
            queries.insert_visit(conn, queries.NewVisit(
                venue_id=venue_id, name=name, phone=phone, party_size=1, area=None, arrived_at=arrived_at,
                registered_at=arrived_at, source="qr", idempotency_key=secrets.token_hex(16),
                receipt_hash=None, consent_version="test"))


def count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def venue_id(conn, slug: str = "kaffestuggu") -> int:
    return queries.venue_by_slug(conn, slug)["id"]


def test_visit_one_second_before_retention_is_kept_and_shown(runner, client, clock, venue, conn):
    receipt = post_checkin(client).headers["Location"]
    clock.advance(RETENTION - 1)
    assert client.get(receipt).status_code == 200
    result = runner.invoke(args=["purge"])
    assert "deleted 0 visits" in result.output
    assert count(conn, "visits") == 1


def test_visit_at_retention_is_hidden_before_the_purge_and_then_deleted(runner, client, clock, venue, conn):
    receipt = post_checkin(client).headers["Location"]
    clock.advance(RETENTION)
    assert client.get(receipt).status_code == 404
    assert count(conn, "visits") == 1
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0 and "deleted 1 visits" in result.output
    assert count(conn, "visits") == 0


def test_visit_one_second_past_retention_is_deleted(runner, client, clock, venue, conn):
    post_checkin(client)
    clock.advance(RETENTION + 1)
    assert "deleted 1 visits" in runner.invoke(args=["purge"]).output
    assert count(conn, "visits") == 0


def test_dry_run_counts_and_deletes_nothing(runner, client, clock, venue, conn):
    post_checkin(client)
    clock.advance(RETENTION + 1)
    result = runner.invoke(args=["purge", "--dry-run"])
    assert "Dry run: would delete 1 visits" in result.output
    assert count(conn, "visits") == 1
    assert queries.last_maintenance_run(conn, "purge") is None


def test_purge_twice_is_safe_and_prints_counts_only(runner, client, clock, venue, conn):
    post_checkin(client, name="Kari Nordmann")
    clock.advance(RETENTION + 1)
    first = runner.invoke(args=["purge"])
    second = runner.invoke(args=["purge"])
    assert first.exit_code == second.exit_code == 0
    assert "deleted 1 visits" in first.output and "deleted 0 visits" in second.output
    for output in (first.output, second.output):
        assert "Kari" not in output and "912" not in output and "4791234567" not in output
    run = queries.last_maintenance_run(conn, "purge")
    assert run["ran_at"] == int(clock.now) and "deleted 0 visits" in run["detail"]


def test_purge_deletes_ended_sessions_old_login_attempts_and_old_audit_entries(app, runner, clock, conn):
    now = int(clock.now)
    config = app.config
    with write_transaction(conn):
        conn.execute("INSERT INTO staff (username, password_hash, role, created_at) VALUES ('kari', 'x', 'tracer', ?)",
                     (now,))
        sessions = [("idle", now - config["SESSION_IDLE_MINUTES"] * 60, now - 60),
                    ("too-old", now - 60, now - config["SESSION_ABSOLUTE_HOURS"] * 3600),
                    ("live", now - 60, now - 3600)]
        for token, last_seen, created in sessions:
            conn.execute("INSERT INTO staff_sessions (token_hash, staff_id, created_at, last_seen_at)"
                         " VALUES (?, 1, ?, ?)", (token, created, last_seen))
        keep_attempts = config["LOGIN_ATTEMPT_RETENTION_HOURS"] * 3600
        for at in (now - keep_attempts, now - keep_attempts + 1):
            conn.execute("INSERT INTO login_attempts (username, client, at, success) VALUES ('kari', 'c', ?, 0)",
                         (at,))
        for at in (now - 365 * DAY, now - 365 * DAY + 1):
            conn.execute("INSERT INTO audit_log (at, staff, action) VALUES (?, 'kari', 'search')", (at,))
    result = runner.invoke(args=["purge"])
    assert "1 staff sessions" not in result.output
    assert "2 staff sessions, 1 login attempts, 1 audit entries" in result.output
    assert [row[0] for row in conn.execute("SELECT token_hash FROM staff_sessions")] == ["live"]
    assert conn.execute("SELECT at FROM login_attempts").fetchall()[0][0] == now - keep_attempts + 1
    assert conn.execute("SELECT at FROM audit_log").fetchall()[0][0] == now - 365 * DAY + 1


def test_purged_name_and_phone_are_in_no_byte_of_the_database_files(runner, client, clock, venue, conn):
    marker = "Markør" + "".join(random.choice(string.ascii_lowercase) for _ in range(20))
    phone = "+4741" + "".join(random.choice(string.digits) for _ in range(6))
    assert post_checkin(client, name=marker, phone=phone).status_code == 303
    database = Path(conn.execute("PRAGMA database_list").fetchone()["file"])
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]

    def everything() -> bytes:
        return b"".join(path.read_bytes() for path in files if path.exists())

    needles = (marker.encode(), phone.encode())
    assert all(needle in everything() for needle in needles)  # the search can find them
    clock.advance(RETENTION + 1)
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0 and "deleted 1 visits" in result.output
    assert Path(f"{database}-wal").stat().st_size == 0
    data = everything()
    for needle in needles:
        assert needle not in data


def test_purge_in_batches_while_guests_check_in(app, clock, venue, conn):
    old = int(clock.now) - RETENTION - DAY
    insert_visits(conn, venue_id(conn), old, count=3000)
    answered: list[tuple[int, float]] = []  # (status, when)
    errors: list[BaseException] = []
    purge_done = threading.Event()

    def guest() -> None:
        client = app.test_client()
        try:
            while not purge_done.is_set():
                status = post_checkin(client).status_code
                answered.append((status, time.monotonic()))
        except BaseException as error:  # reported below, with the failing test
            errors.append(error)

    guests = [threading.Thread(target=guest) for _ in range(4)]
    for thread in guests:
        thread.start()
    purger = db.connect(app.config["DATABASE"])
    try:
        began = time.monotonic()
        result = retention.purge_expired(purger, app.config, int(clock.now), batch_size=100, pause=0.01)
        ended = time.monotonic()
    finally:
        purge_done.set()
        purger.close()
    for thread in guests:
        thread.join()
    assert not errors
    assert result.visits == 3000
    assert {status for status, _ in answered} == {303}
    assert any(began < when < ended for _, when in answered)  # check-ins went on during the purge
    assert count(conn, "visits") == len(answered)
    assert conn.execute("SELECT min(arrived_at) FROM visits").fetchone()[0] > old
    assert queries.integrity_check(conn) == ["ok"]


def test_purge_batches_shrink_to_about_fifty_milliseconds_when_rows_are_slow_to_delete(app, clock, venue, conn,
                                                                                      monkeypatch):
    insert_visits(conn, venue_id(conn), int(clock.now) - RETENTION - DAY, count=4000)
    sizes: list[int] = []
    delete = queries.delete_expired_ids

    def slow_delete(connection, table, ids, cutoff):
        if table == "visits":
            sizes.append(len(ids))
            time.sleep(len(ids) * 0.0001)  # 0.1 ms a row, as in a table of millions: 2,500 rows take 250 ms
        return delete(connection, table, ids, cutoff)

    monkeypatch.setattr(queries, "delete_expired_ids", slow_delete)
    purger = db.connect(app.config["DATABASE"])
    try:
        result = retention.purge_expired(purger, app.config, int(clock.now))
    finally:
        purger.close()
    assert result.visits == 4000 and sum(sizes) == 4000 and len(sizes) >= 4
    assert sizes[0] == retention.BATCH_SIZE
    assert all(300 <= size <= 600 for size in sizes[1:-1])  # about 500 rows: 50 ms each
    assert count(conn, "visits") == 0


def test_batch_size_grows_when_deleting_is_quick_and_stays_within_its_limits():
    assert retention.next_batch_size(2500, 0.025) == 5000
    assert retention.next_batch_size(2500, 0.0) == retention.BATCH_LIMITS[1]
    assert retention.next_batch_size(2500, 10.0) == retention.BATCH_LIMITS[0]


def test_checkpoint_behind_a_long_reader_gives_up_quickly_and_lets_check_ins_through(app, venue, conn,
                                                                                    monkeypatch):
    """A truncating checkpoint holds the write lock while it waits for readers: it must not wait long."""
    monkeypatch.setattr(retention, "CHECKPOINT_TRIES", 3)
    database = app.config["DATABASE"]
    reader = db.connect(database)  # a tracer's long export, mid-read
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM visits").fetchone()
    writer = db.connect(database)
    waits: list[float] = []
    stop = threading.Event()

    def check_ins() -> None:
        while not stop.is_set():
            started = time.monotonic()
            with write_transaction(writer):
                writer.execute("UPDATE venues SET name = name")
            waits.append(time.monotonic() - started)
            time.sleep(0.01)

    thread = threading.Thread(target=check_ins)
    thread.start()
    purger = db.connect(database)
    try:
        truncated = retention.checkpoint(purger)
    finally:
        stop.set()
        thread.join()
        reader.rollback()
        reader.close()
        writer.close()
    assert truncated is False  # the reader kept the WAL in use; the next purge tries again
    assert waits and max(waits) < 1.0  # never the 5 s busy timeout
    assert retention.checkpoint(purger) is True  # the reader is gone: the WAL is emptied
    assert purger.execute("PRAGMA busy_timeout").fetchone()[0] == db.BUSY_TIMEOUT_MS  # put back
    purger.close()
    assert Path(f"{database}-wal").stat().st_size == 0


def test_purge_keeps_the_login_attempts_the_throttle_looks_back_on(app):
    assert app.config["LOGIN_ATTEMPT_RETENTION_HOURS"] * 3600 >= throttle.GOOD_ADDRESS_DAYS * 86400
    assert app.config["LOGIN_ATTEMPT_RETENTION_HOURS"] * 3600 >= throttle.WINDOW


def test_create_app_starts_no_purge_thread(app):
    create_app({"TESTING": True, "DATABASE": app.config["DATABASE"], "SECRET_KEY": "x" * 40,
                "INSTANCE_PATH": Path(app.instance_path)})
    assert "purge" not in [thread.name for thread in threading.enumerate()]


@pytest.mark.slow
def test_running_server_purges_by_itself(tmp_path):
    server = Server(tmp_path)
    app = create_app({"DATABASE": str(server.database), "SECRET_KEY": "x" * 40, "INSTANCE_PATH": tmp_path})
    with app.app_context():
        conn = db.get_db()
        db.upgrade(conn)
        with write_transaction(conn):
            queries.insert_venue(conn, "kaffestuggu", "Kaffestuggu", "", int(time.time()))
        insert_visits(conn, venue_id(conn), int(time.time()) - RETENTION - 60, count=3)
        insert_visits(conn, venue_id(conn), int(time.time()) - RETENTION + 3600, count=2)
    server.start()
    try:
        deadline = time.monotonic() + 10
        with sqlite3.connect(server.database) as check:
            while check.execute("SELECT count(*) FROM visits").fetchone()[0] != 2:
                assert time.monotonic() < deadline, "the server did not purge"
                time.sleep(0.1)
            assert check.execute("SELECT task FROM maintenance_runs").fetchone()[0] == "purge"
    finally:
        output = server.stop()
    assert "purge: deleted 3 visits" in output
    assert "Ola" not in output


def test_background_purge_logs_counts_and_survives_a_database_error(app, clock, venue, conn, caplog):
    insert_visits(conn, venue_id(conn), FRIDAY_EVENING - RETENTION - 1, count=2)
    purge = maintenance.BackgroundPurge(app.config, clock)
    with caplog.at_level("INFO", logger="roros_checkin.maintenance"):
        purge.run_once(db.connect(app.config["DATABASE"]))
        broken = sqlite3.connect(":memory:")  # no tables: the purge fails, the thread goes on
        purge.run_once(broken)
    assert "purge: deleted 2 visits" in caplog.text
    assert "purge failed" in caplog.text
    assert "Ola" not in caplog.text


def test_background_purge_comes_back_soon_when_readers_kept_the_wal(app, clock, venue, conn, caplog,
                                                                   monkeypatch):
    monkeypatch.setattr(retention, "CHECKPOINT_TRIES", 1)
    insert_visits(conn, venue_id(conn), FRIDAY_EVENING - RETENTION - 1, count=2)
    purge = maintenance.BackgroundPurge(app.config, clock)
    purger = db.connect(app.config["DATABASE"])
    reader = db.connect(app.config["DATABASE"])
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM visits").fetchone()
    try:
        with caplog.at_level("INFO", logger="roros_checkin.maintenance"):
            wait_busy = purge.run_once(purger)
    finally:
        reader.rollback()
        reader.close()
    wait_free = purge.run_once(purger)
    purger.close()
    assert wait_busy == retention.CHECKPOINT_RETRY_SECONDS < app.config["PURGE_INTERVAL_MINUTES"] * 60
    assert "WAL not truncated (busy readers), next try in 300 s" in caplog.text
    assert wait_free == app.config["PURGE_INTERVAL_MINUTES"] * 60


@pytest.mark.slow
def test_purge_killed_half_way_leaves_a_sound_database_and_the_next_purge_finishes(tmp_path):
    database = tmp_path / "checkin.sqlite3"
    conn = db.connect(str(database))
    db.upgrade(conn)
    now = int(time.time())
    with write_transaction(conn):
        queries.insert_venue(conn, "kaffestuggu", "Kaffestuggu", "", now)
    # Many batches with a pause between (retention.BATCH_SIZE): time enough to kill it after the first.
    expired = 80_000
    insert_visits(conn, 1, now - RETENTION - 3600, count=expired)
    insert_visits(conn, 1, now - 60, count=50, name="Kari Nordmann")
    env = clean_environ(ROROS_DATABASE=str(database), ROROS_SECRET_KEY="k" * 20 + "0123456789abcdef")
    purge = subprocess.Popen([sys.executable, "-m", "flask", "purge"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while count(conn, "visits") == expired + 50:  # wait for the first batch to commit
            assert purge.poll() is None and time.monotonic() < deadline
            time.sleep(0.005)
    finally:
        purge.kill()
        purge.wait()
    left = count(conn, "visits") - 50
    assert 0 < left < expired  # killed half-way
    assert queries.integrity_check(conn) == ["ok"]
    assert conn.execute("SELECT count(*) FROM visits WHERE name = 'Kari Nordmann'").fetchone()[0] == 50
    again = subprocess.run([sys.executable, "-m", "flask", "purge"], cwd=ROOT, env=env, capture_output=True,
                           text=True, check=True)
    assert f"deleted {left} visits" in again.stdout
    assert count(conn, "visits") == 50
    conn.close()
