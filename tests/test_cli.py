"""The operators' commands: database, venues, staff accounts."""
from __future__ import annotations

from conftest import TEST_PASSWORD

from roros_checkin import db
from werkzeug.security import check_password_hash


def test_db_upgrade_reports_version(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0
    assert f"schema version {db.latest_version()}" in result.output


def test_venues_add_and_list_with_public_url(runner):
    assert runner.invoke(args=["venues", "add", "kaffestuggu", "Kaffestuggu", "--address", "Bergmannsgata 18"]).exit_code == 0
    result = runner.invoke(args=["venues", "list"])
    assert "kaffestuggu\topen\tKaffestuggu\thttps://checkin.example.test/v/kaffestuggu" in result.output


def test_venues_add_refuses_bad_or_duplicate_slug(runner):
    for slug in ("Kaffe", "kaffe stue", "x-", "æøå", "a" * 65, "ab_c"):
        result = runner.invoke(args=["venues", "add", slug, "Kafé"])
        assert result.exit_code != 0 and "refused" in result.output
    runner.invoke(args=["venues", "add", "kaffe", "Kafé"])
    result = runner.invoke(args=["venues", "add", "kaffe", "Kafé 2"])
    assert result.exit_code == 1 and "already exists" in result.output


def test_deactivate_and_activate_one_and_all(runner, client):
    runner.invoke(args=["venues", "add", "a", "A"])
    runner.invoke(args=["venues", "add", "b", "B"])
    assert runner.invoke(args=["venues", "deactivate", "a"]).exit_code == 0
    assert "ikke i bruk her" in client.get("/v/a").get_data(as_text=True)
    assert "Registrer meg" in client.get("/v/b").get_data(as_text=True)
    assert "2 changed" not in runner.invoke(args=["venues", "deactivate", "--all"]).output
    assert "ikke i bruk her" in client.get("/v/b").get_data(as_text=True)
    assert "(2 changed)" in runner.invoke(args=["venues", "activate", "--all"]).output
    assert "Registrer meg" in client.get("/v/a").get_data(as_text=True)


def test_deactivate_needs_slug_or_all(runner):
    assert runner.invoke(args=["venues", "deactivate"]).exit_code != 0
    result = runner.invoke(args=["venues", "deactivate", "nope"])
    assert result.exit_code != 0 and "no venue" in result.output


def test_staff_add_from_stdin_hashes_with_scrypt(runner, conn):
    result = runner.invoke(args=["staff", "add", "kari", "--role", "admin", "--password-stdin"],
                           input=TEST_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert TEST_PASSWORD not in result.output
    row = conn.execute("SELECT username, role, password_hash FROM staff").fetchone()
    assert (row["username"], row["role"]) == ("kari", "admin")
    assert row["password_hash"].startswith("scrypt:131072:8:1$")
    assert check_password_hash(row["password_hash"], TEST_PASSWORD)
    assert "kari\tadmin\tactive" in runner.invoke(args=["staff", "list"]).output


def test_staff_add_refuses_short_password_and_duplicates(runner):
    result = runner.invoke(args=["staff", "add", "kari", "--password-stdin"], input="short\n")
    assert result.exit_code != 0 and "12 to 128" in result.output
    runner.invoke(args=["staff", "add", "kari", "--password-stdin"], input=TEST_PASSWORD + "\n")
    result = runner.invoke(args=["staff", "add", "KARI", "--password-stdin"], input=TEST_PASSWORD + "\n")
    assert result.exit_code != 0 and "already exists" in result.output


def test_every_command_has_help(runner):
    for path in (["db", "upgrade"], ["venues", "add"], ["venues", "list"], ["venues", "activate"],
                 ["venues", "deactivate"], ["staff", "add"], ["staff", "list"]):
        result = runner.invoke(args=[*path, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output
