"""The database PRAGMAs, migrations and write transactions; configuration layers and the secret key."""
from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from roros_checkin import create_app, db
from roros_checkin.visits import record_visit


def test_app_connection_has_every_pragma(app):
    with app.app_context():
        conn = db.get_db()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
        assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
        assert conn.isolation_level is None


def test_migrations_build_the_schema_from_an_empty_file(tmp_path):
    conn = db.connect(str(tmp_path / "empty.sqlite3"))
    assert db.schema_version(conn) == 0
    applied = db.upgrade(conn)
    assert applied == list(range(1, db.latest_version() + 1))
    assert db.schema_version(conn) == db.latest_version()
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"venues", "visits", "staff", "audit_log"} <= tables
    assert db.upgrade(conn) == []
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_database_file_is_private(app):
    mode = stat.S_IMODE(os.stat(app.config["DATABASE"]).st_mode)
    assert mode == 0o600


def test_schema_refuses_what_the_rules_refuse(app, conn, venue):
    bad_rows = [
        ("", "+4791234567", 1, "qr", "k" * 20),
        ("Kari", "91234567", 1, "qr", "k" * 21),
        ("Kari", "+4791234567", 21, "qr", "k" * 22),
        ("Kari", "+4791234567", 1, "web", "k" * 23),
    ]
    for name, phone, party, source, key in bad_rows:
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO visits (venue_id, name, phone, party_size, arrived_at, registered_at,"
                         " source, idempotency_key) VALUES (1, ?, ?, ?, 0, 0, ?, ?)",
                         (name, phone, party, source, key))
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO visits (venue_id, name, phone, party_size, arrived_at, registered_at,"
                     " source, idempotency_key) VALUES (99, 'Kari', '+4791234567', 1, 0, 0, 'qr', ?)",
                     ("k" * 24,))


def test_audit_log_cannot_be_edited(conn):
    conn.execute("INSERT INTO audit_log (at, staff, action) VALUES (1, 'kari', 'search')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE audit_log SET staff = 'ola'")


def test_writes_begin_immediate(app, venue):
    statements = []
    with app.test_request_context():
        conn = db.get_db()
        conn.set_trace_callback(statements.append)
        venue_row = conn.execute("SELECT * FROM venues").fetchone()
        statements.clear()
        cleaned = {"name": "Kari", "phone": "+4791234567", "party_size": 1, "area": None}
        record_visit(conn, venue_row, cleaned, "k" * 24, "qr", 1_795_194_000)
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes
    assert statements[0] == "BEGIN IMMEDIATE" and statements[-1] == "COMMIT"


def test_secret_key_is_generated_once_with_mode_0600(tmp_path):
    config = {"INSTANCE_PATH": tmp_path, "DATABASE": str(tmp_path / "db.sqlite3")}
    first = create_app(config).config["SECRET_KEY"]
    second = create_app(config).config["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_instance_config_then_environment(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text('PUBLIC_URL = "https://from-instance.example/"\nRETENTION_DAYS = 10\n')
    app = create_app({"INSTANCE_PATH": tmp_path})
    assert app.config["PUBLIC_URL"] == "https://from-instance.example"
    assert app.config["RETENTION_DAYS"] == 10
    assert app.config["DATABASE"] == str(tmp_path / "checkin.sqlite3")
    monkeypatch.setenv("ROROS_RETENTION_DAYS", "7")
    monkeypatch.setenv("ROROS_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("ROROS_DATABASE", str(tmp_path / "other.sqlite3"))
    app = create_app({"INSTANCE_PATH": tmp_path})
    assert app.config["RETENTION_DAYS"] == 7
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["DATABASE"] == str(tmp_path / "other.sqlite3")


def test_bad_boolean_in_environment_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ROROS_RATELIMIT_ENABLED", "maybe")
    with pytest.raises(ValueError):
        create_app({"INSTANCE_PATH": tmp_path})


def test_defaults(tmp_path):
    app = create_app({"INSTANCE_PATH": tmp_path})
    assert app.config["RETENTION_DAYS"] == 14
    assert app.config["DEFAULT_STAY_MINUTES"] == 180
    assert app.config["MIN_OVERLAP_MINUTES"] == 15
    assert app.config["RATELIMIT_ENABLED"] is True
    assert app.debug is False


def test_a_failed_commit_is_rolled_back_and_leaves_the_database_writable(app, conn):
    """A COMMIT that fails (here a deferred foreign key) must not leave the write lock held."""
    with app.app_context():
        writer = db.get_db()
        with pytest.raises(sqlite3.IntegrityError):
            with db.write_transaction(writer):
                writer.execute("PRAGMA defer_foreign_keys = ON")
                writer.execute("INSERT INTO visits (venue_id, name, phone, party_size, arrived_at, registered_at,"
                               " source, idempotency_key, receipt_hash, consent_version)"
                               " VALUES (999, 'x', '+4791234567', 1, 0, 0, 'qr', 'k-0123456789abcdef', 'h', 'v')")
        assert not writer.in_transaction
    with db.write_transaction(conn):
        conn.execute("INSERT INTO venues (slug, name, address, active, created_at) VALUES ('a', 'A', '', 1, 0)")
    assert conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 0


def test_an_error_after_sqlite_rolled_back_by_itself_is_the_error_raised(app):
    """When the body's error already ended the transaction, that error comes out, not ROLLBACK's."""
    with app.app_context():
        writer = db.get_db()
        with pytest.raises(ZeroDivisionError):
            with db.write_transaction(writer):
                writer.execute("ROLLBACK")
                raise ZeroDivisionError
        assert not writer.in_transaction
