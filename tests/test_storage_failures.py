"""A full disk or a read-only database: the guest is told to try again (503), nothing half-written is
stored, and check-ins work again once the disk has room or can be written.

These run on a real, tiny tmpfs mounted for the test (the test suite runs as root; a chmod would not
stop root from writing, a read-only mount does).
"""
from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from conftest import GOOD_GUEST, hidden_fields
from roros_checkin import create_app, db, queries
from roros_checkin.db import write_transaction

NOT_SAVED = "Registreringen ble ikke lagret"


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs, unmounted afterwards."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mountpoint)], check=True)
    yield mountpoint
    subprocess.run(["umount", "-l", str(mountpoint)], check=True)


@pytest.fixture
def disk_app(small_disk, app_config):
    config = {**app_config, "DATABASE": str(small_disk / "checkin.sqlite3")}
    app = create_app(config)
    with app.app_context():
        conn = db.get_db()
        db.upgrade(conn)
        with write_transaction(conn):
            queries.insert_venue(conn, "kaffestuggu", "Kaffestuggu", "", 0)
    return app


def fill(directory: Path) -> Path:
    """Write a file until the file system has no byte left."""
    filler = directory / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def filled_form(client) -> dict:
    page = client.get("/v/kaffestuggu")
    assert page.status_code == 200
    return {**hidden_fields(page.get_data(as_text=True)), **GOOD_GUEST}


def stored_keys(path: str) -> list[str]:
    conn = db.connect(path)
    try:
        return [row[0] for row in conn.execute("SELECT idempotency_key FROM visits")]
    finally:
        conn.close()


def close_connections(app) -> None:
    """Close this thread's connection, as the server does after a storage error."""
    with app.app_context():
        db.get_db()
        db.discard_connection()


def test_full_disk_asks_the_guest_to_try_again_and_stores_nothing(disk_app, small_disk):
    client = disk_app.test_client()
    form = filled_form(client)
    filler = fill(small_disk)
    response = client.post("/v/kaffestuggu", data=form)
    assert response.status_code == 503
    assert NOT_SAVED in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "30"
    filler.unlink()
    assert stored_keys(disk_app.config["DATABASE"]) == []


def test_check_in_works_again_when_the_disk_has_room(disk_app, small_disk):
    client = disk_app.test_client()
    form = filled_form(client)
    filler = fill(small_disk)
    assert client.post("/v/kaffestuggu", data=form).status_code == 503
    filler.unlink()
    # The guest sends the same form again: stored once.
    response = client.post("/v/kaffestuggu", data=form)
    assert response.status_code == 303
    assert client.get(response.headers["Location"]).status_code == 200
    assert stored_keys(disk_app.config["DATABASE"]) == [form["idempotency_key"]]


def test_read_only_database_asks_the_guest_to_try_again(disk_app, small_disk):
    client = disk_app.test_client()
    form = filled_form(client)
    close_connections(disk_app)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    assert not os.access(small_disk, os.W_OK) or _cannot_write(small_disk)
    response = client.post("/v/kaffestuggu", data=form)
    assert response.status_code == 503
    assert NOT_SAVED in response.get_data(as_text=True)
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert stored_keys(disk_app.config["DATABASE"]) == []


def test_check_in_works_again_when_the_database_is_writable(disk_app, small_disk):
    client = disk_app.test_client()
    form = filled_form(client)
    close_connections(disk_app)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    assert client.post("/v/kaffestuggu", data=form).status_code == 503
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert client.post("/v/kaffestuggu", data=form).status_code == 303
    assert stored_keys(disk_app.config["DATABASE"]) == [form["idempotency_key"]]


def test_other_database_errors_stay_a_500(app, client, venue, monkeypatch):
    import sqlite3

    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production instead of raising into the test

    def broken(*_args, **_kwargs):
        raise sqlite3.OperationalError("no such table: visits")

    monkeypatch.setattr(queries, "visit_venue_by_idempotency_key", broken)
    form = filled_form(client)
    response = client.post("/v/kaffestuggu", data=form)
    assert response.status_code == 500


def _cannot_write(directory: Path) -> bool:
    try:
        (directory / "probe").write_bytes(b"")
    except OSError as error:
        return error.errno == errno.EROFS
    return False


def test_a_write_lock_held_past_the_busy_timeout_asks_the_guest_to_try_again(app, client, venue, conn,
                                                                            monkeypatch):
    import fcntl

    form = filled_form(client)
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    other_process = os.open(app.config["DATABASE"] + db.WRITER_LOCK_SUFFIX, os.O_RDONLY | os.O_CREAT, 0o600)
    fcntl.flock(other_process, fcntl.LOCK_EX)  # another process writing, and writing, and writing
    try:
        response = client.post("/v/kaffestuggu", data=form)
    finally:
        fcntl.flock(other_process, fcntl.LOCK_UN)
        os.close(other_process)
    assert response.status_code == 503
    assert NOT_SAVED in response.get_data(as_text=True)
    assert conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 0
    assert client.post("/v/kaffestuggu", data=form).status_code == 303


def test_healthz_is_503_on_a_read_only_database(disk_app, small_disk):
    client = disk_app.test_client()
    assert client.get("/healthz").status_code == 200
    close_connections(disk_app)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        response = client.get("/healthz")
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert response.status_code == 503
    close_connections(disk_app)
    assert client.get("/healthz").status_code == 200


def test_healthz_is_503_while_another_process_holds_the_write_lock(app, client, conn):
    assert client.get("/healthz").status_code == 200
    other = db.connect(app.config["DATABASE"])
    other.execute("BEGIN IMMEDIATE")
    try:
        response = client.get("/healthz")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert client.get("/healthz").status_code == 200
