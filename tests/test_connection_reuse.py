"""Each serving thread keeps one connection; every app context still gets it clean."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from roros_checkin import db, queries


def test_app_contexts_on_one_thread_share_its_connection(app):
    with app.app_context():
        first = db.get_db()
    with app.app_context():
        assert db.get_db() is first


def test_another_thread_gets_its_own_connection(app):
    with app.app_context():
        mine = db.get_db()
    theirs = []

    def serve():
        with app.app_context():
            theirs.append(db.get_db())

    thread = threading.Thread(target=serve)
    thread.start()
    thread.join()
    assert theirs[0] is not mine


def test_a_transaction_left_open_is_rolled_back_when_the_context_ends(app, conn):
    with app.app_context():
        left_open = db.get_db()
        left_open.execute("BEGIN IMMEDIATE")
        queries.insert_venue(left_open, "halvferdig", "Halvferdig", "", 0)
    assert not left_open.in_transaction
    assert conn.execute("SELECT count(*) FROM venues").fetchone()[0] == 0


def test_a_database_error_drops_the_connection_and_the_next_context_reopens(app):
    with pytest.raises(sqlite3.OperationalError):
        with app.app_context():
            broken = db.get_db()
            broken.execute("SELECT * FROM no_such_table")
    with pytest.raises(sqlite3.ProgrammingError):
        broken.execute("SELECT 1")  # closed
    with app.app_context():
        assert db.get_db() is not broken
        assert db.get_db().execute("SELECT 1").fetchone()[0] == 1


def test_a_writer_waits_for_another_process_holding_the_writer_lock(app):
    import fcntl
    import os

    path = app.config["DATABASE"] + db.WRITER_LOCK_SUFFIX
    other_process = os.open(path, os.O_RDONLY | os.O_CREAT, 0o600)  # its own open file: a separate lock
    fcntl.flock(other_process, fcntl.LOCK_EX)
    written = threading.Event()

    def write():
        with app.app_context():
            conn = db.get_db()
            with db.write_transaction(conn):
                queries.insert_venue(conn, "ventet", "Ventet", "", 0)
        written.set()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        assert not written.wait(0.3)
    finally:
        fcntl.flock(other_process, fcntl.LOCK_UN)
        os.close(other_process)
    assert written.wait(5)
    thread.join()


def test_the_writer_lock_file_is_private(app, venue):
    import os
    import stat

    mode = os.stat(app.config["DATABASE"] + db.WRITER_LOCK_SUFFIX).st_mode
    assert stat.S_IMODE(mode) == 0o600
