"""The operators' commands: database, venues, staff accounts."""
from __future__ import annotations

import pytest
from conftest import TEST_PASSWORD

from roros_checkin import create_app, db
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
    closed = runner.invoke(args=["venues", "deactivate", "--all"])
    assert closed.exit_code == 0 and "Closed all venues (1 changed)." in closed.output
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


# Each command's --help shows its own docstring (click prints "Usage:" for any command, even one
# whose docstring is gone or belongs to another command).
HELP = {
    ("db", "upgrade"): "Apply pending migrations to the database.",
    ("venues", "add"): "SLUG is the short name in its URL",
    ("venues", "edit"): "Rename a venue or change its address",
    ("venues", "list"): "List venues with their check-in URLs.",
    ("venues", "activate"): "Resume registrations at a venue",
    ("venues", "deactivate"): "Stop registrations at a venue",
    ("venues", "qr"): "Write printable A4 QR posters",
    ("venues", "import"): "Add venues from a CSV file with a header row",
    ("staff", "add"): "Add a tracing-team account",
    ("staff", "list"): "List the tracing-team accounts.",
    ("staff", "disable"): "Disable an account and end all its sessions at once.",
    ("staff", "enable"): "Allow a disabled account to log in again.",
    ("staff", "passwd"): "Set a new password for an account",
    ("staff", "searched"): "Who searched for a person, when, and for which case",
    ("staff", "reset-2fa"): "Give an account a new two-factor seed",
    ("purge",): "Delete visits, staff sessions, login attempts and audit entries",
    ("backup",): "Back up the database into DIRECTORY",
    ("check-deploy",): "Check this deployment's settings and files",
}


def test_every_command_has_its_own_help(runner):
    for path, docstring in HELP.items():
        result = runner.invoke(args=[*path, "--help"])
        assert result.exit_code == 0, path
        assert docstring in " ".join(result.output.split()), path


def test_help_names_every_command(app):
    """A new command needs its line in HELP above."""
    listed = set()
    for name in app.cli.list_commands(None):
        if name in ("routes", "run", "shell"):  # Flask's own
            continue
        command = app.cli.get_command(None, name)
        children = getattr(command, "commands", None)
        listed |= {(name, child) for child in children} if children else {(name,)}
    assert listed == set(HELP)


@pytest.fixture
def runner_without_public_url(app_config):
    app = create_app({**app_config, "PUBLIC_URL": ""})
    return app.test_cli_runner()


def test_printed_urls_follow_public_url(app_config):
    app = create_app({**app_config, "PUBLIC_URL": "http://127.0.0.1:5001/"})
    runner = app.test_cli_runner()
    assert "Added kaffestuggu: http://127.0.0.1:5001/v/kaffestuggu" in runner.invoke(
        args=["venues", "add", "kaffestuggu", "Kaffestuggu"]).output
    assert "\thttp://127.0.0.1:5001/v/kaffestuggu" in runner.invoke(args=["venues", "list"]).output


def test_without_public_url_printed_urls_are_paths_and_say_so(runner_without_public_url):
    added = runner_without_public_url.invoke(args=["venues", "add", "kaffestuggu", "Kaffestuggu"])
    assert added.exit_code == 0
    assert "Added kaffestuggu: /v/kaffestuggu\n" in added.stdout
    assert "PUBLIC_URL is not set" in added.stderr
    listed = runner_without_public_url.invoke(args=["venues", "list"])
    assert listed.stdout == "kaffestuggu\topen\tKaffestuggu\t/v/kaffestuggu\n"
    assert "PUBLIC_URL is not set" in listed.stderr
    assert "8080" not in added.output + listed.output


def test_venues_edit_renames_and_moves_a_venue_and_the_guest_page_shows_it(runner, client, conn):
    runner.invoke(args=["venues", "add", "kaffestuggu", "Kaffestuggu", "--address", "Bergmannsgata 18"])
    assert "Kaffestuggu" in client.get("/v/kaffestuggu").get_data(as_text=True)  # rendered and cached
    result = runner.invoke(args=["venues", "edit", "kaffestuggu", "--name", "  Kaffestuggu   Røros ",
                                 "--address", "Kjerkgata 1"])
    assert result.exit_code == 0, result.output
    assert "Changed kaffestuggu: Kaffestuggu Røros, Kjerkgata 1" in result.output
    assert tuple(conn.execute("SELECT name, address FROM venues").fetchone()) == ("Kaffestuggu Røros", "Kjerkgata 1")
    page = client.get("/v/kaffestuggu").get_data(as_text=True)
    assert "Kaffestuggu Røros" in page
    assert "Kaffestuggu Røros" in client.get("/kiosk/kaffestuggu").get_data(as_text=True)
    assert "Kaffestuggu Røros" in client.get("/").get_data(as_text=True)
    # Only the address: the name stays.
    assert runner.invoke(args=["venues", "edit", "kaffestuggu", "--address", ""]).exit_code == 0
    assert tuple(conn.execute("SELECT name, address FROM venues").fetchone()) == ("Kaffestuggu Røros", "")


def test_venues_edit_refuses_what_venues_add_refuses(runner, conn):
    runner.invoke(args=["venues", "add", "kaffestuggu", "Kaffestuggu", "--address", "Bergmannsgata 18"])
    for args, reason in ((["--name", "   "], "the venue name must be 1 to 120 characters"),
                         (["--name", "x" * 121], "the venue name must be 1 to 120 characters"),
                         (["--address", "x" * 201], "the address must be at most 200 characters"),
                         ([], "give --name, --address or both")):
        result = runner.invoke(args=["venues", "edit", "kaffestuggu", *args])
        assert result.exit_code == 1 and reason in result.output, args
    result = runner.invoke(args=["venues", "edit", "nope", "--name", "Nope"])
    assert result.exit_code == 1 and "no venue with slug 'nope'" in result.output
    assert tuple(conn.execute("SELECT name, address FROM venues").fetchone()) == ("Kaffestuggu", "Bergmannsgata 18")
