"""IT's account commands: enrolment with a QR code, password rules, disable, passwd, reset-2fa."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from conftest import TEST_PASSWORD

from roros_checkin import passwords

NEW_PASSWORD = "blåbærsyltetøy på lefse hver lørdag"


def add(runner, username: str = "kari", password: str = TEST_PASSWORD):
    return runner.invoke(args=["staff", "add", username, "--password-stdin"], input=password + "\n")


@pytest.fixture(scope="module")
def added_output(tmp_path_factory):
    """One `staff add` for the read-only checks below (each add costs a full scrypt)."""
    from roros_checkin import create_app, db

    folder = tmp_path_factory.mktemp("enrol")
    app = create_app({"TESTING": True, "INSTANCE_PATH": folder, "DATABASE": str(folder / "db.sqlite3"),
                      "SECRET_KEY": "x" * 40, "PUBLIC_URL": "https://checkin.example.test"})
    result = add(app.test_cli_runner())
    with app.app_context():
        row = db.get_db().execute("SELECT password_hash, totp_secret FROM staff").fetchone()
    return result, row


def test_staff_add_prints_otpauth_uri_with_the_stored_secret(added_output):
    result, row = added_output
    assert result.exit_code == 0, result.output
    uri = re.search(r"otpauth://\S+", result.output).group(0)
    parts = urlsplit(uri)
    assert parts.netloc == "totp" and "kari" in parts.path
    assert parse_qs(parts.query)["secret"] == [row["totp_secret"]]
    assert len(row["totp_secret"]) == 32
    assert pyotp.parse_uri(uri).secret == row["totp_secret"]


def test_staff_add_draws_a_qr_code_in_the_terminal(added_output):
    result, _row = added_output
    blocks = [line for line in result.output.splitlines() if "█" in line or "▀" in line or "▄" in line]
    assert len(blocks) >= 20


def test_staff_add_stores_scrypt_at_owasp_cost_and_no_plaintext(added_output):
    result, row = added_output
    assert row["password_hash"].startswith("scrypt:131072:8:1$")
    assert TEST_PASSWORD not in result.output


@pytest.mark.parametrize("password", ["password1234", "Password1234", "qwertyuiop123", "Sommer2026!!!",
                                      "passord123456", "monkeymonkeymonkey", "aaaaaaaaaaaaaa",
                                      "short", "x" * 129])
def test_weak_passwords_are_refused(runner, password, conn):
    result = add(runner, password=password)
    assert result.exit_code != 0
    assert "common passwords" in result.output or "12 to 128" in result.output
    assert conn.execute("SELECT count(*) FROM staff").fetchone()[0] == 0


@pytest.mark.parametrize("password", ["123456789012", "111111111112", "zaq12wsxcde3", "1qaz2wsx3edc4rfv",
                                      "RorosCheckin12", "Smittesporing2026!", "abcdefghijkl1",
                                      "asdfghjkløæ12", "qwertzuiopasdf"])
@pytest.mark.parametrize("command", ["add", "passwd"])
def test_guessable_passwords_are_refused_by_the_strength_estimate(runner, conn, password, command):
    if command == "passwd":
        assert add(runner, username="ola").exit_code == 0
        before = conn.execute("SELECT password_hash FROM staff").fetchone()[0]
        result = runner.invoke(args=["staff", "passwd", "ola", "--password-stdin"], input=password + "\n")
        assert conn.execute("SELECT password_hash FROM staff").fetchone()[0] == before
    else:
        result = add(runner, username="ola", password=password)
        assert conn.execute("SELECT count(*) FROM staff").fetchone()[0] == 0
    assert result.exit_code != 0
    assert "too easy to guess" in result.output or "common passwords" in result.output
    # The rule is said in the error, not only that the password was refused.
    assert "zxcvbn" in result.output or "common passwords" in result.output


def test_the_municipality_and_the_username_count_as_known_words():
    # Without the context these pass; with it they are a name and a year.
    assert passwords.strength("Ølbergvegen-Roros-Kari", []) == 4
    assert passwords.password_problem("Vestby kommune 2026", "ola", "Vestby kommune") is not None
    assert passwords.password_problem("Vestby kommune 2026", "ola", "Røros kommune") is None
    assert passwords.password_problem("olanordmann-2026!", "ola.nordmann") is not None


def test_the_strength_rule_keeps_long_phrases_and_the_tests_password():
    for phrase in (TEST_PASSWORD, NEW_PASSWORD, "demo password for screenshots",
                   "fjellvind over bergstaden i januar " * 3):
        assert passwords.password_problem(phrase[:128], "kari", "Røros kommune") is None, phrase


def test_password_containing_the_username_is_refused(runner):
    result = add(runner, username="kari.nordmann", password="kari.nordmann-sin-kode")
    assert result.exit_code != 0 and "username" in result.output


def test_common_list_is_shipped_and_large():
    assert len(passwords.common_passwords()) > 10_000
    assert "password1234" in passwords.common_passwords() and "passord" in passwords.common_passwords()


def test_long_own_phrase_is_accepted():
    assert passwords.password_problem(TEST_PASSWORD, "kari") is None
    assert passwords.password_problem(NEW_PASSWORD, "kari") is None
    assert passwords.password_problem("x" * 7 + "Ølberg-42-" + "y" * 111, "kari") is None  # 128


def test_fresh_install_has_no_accounts(runner, conn):
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert conn.execute("SELECT count(*) FROM staff").fetchone()[0] == 0
    assert runner.invoke(args=["staff", "list"]).output == ""


def test_passwd_changes_the_password_and_ends_sessions(staff_client, runner, conn):
    result = runner.invoke(args=["staff", "passwd", "kari", "--password-stdin"], input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0 and "1 session(s) ended" in result.output
    from werkzeug.security import check_password_hash
    stored = conn.execute("SELECT password_hash FROM staff").fetchone()[0]
    assert stored.startswith("scrypt:131072:8:1$") and check_password_hash(stored, NEW_PASSWORD)
    assert staff_client.get("/tracing/").status_code == 303


def test_passwd_refuses_a_common_password(staff_client, runner):
    result = runner.invoke(args=["staff", "passwd", "kari", "--password-stdin"], input="password1234\n")
    assert result.exit_code != 0
    assert staff_client.get("/tracing/").status_code == 200


def test_commands_name_an_unknown_account(runner):
    for command in (["disable", "nobody"], ["enable", "nobody"], ["reset-2fa", "nobody"]):
        result = runner.invoke(args=["staff", *command])
        assert result.exit_code != 0 and "no account named 'nobody'" in result.output


def test_disable_and_enable(staff_client, runner):
    assert "disabled" in runner.invoke(args=["staff", "disable", "kari"]).output.lower()
    assert "kari\ttracer\tdisabled" in runner.invoke(args=["staff", "list"]).output
    assert runner.invoke(args=["staff", "enable", "kari"]).exit_code == 0
    assert "kari\ttracer\tactive" in runner.invoke(args=["staff", "list"]).output


def test_reset_2fa_gives_a_new_secret_and_ends_sessions(staff_client, runner, conn):
    result = runner.invoke(args=["staff", "reset-2fa", "kari"])
    assert result.exit_code == 0 and "otpauth://" in result.output
    secret = conn.execute("SELECT totp_secret FROM staff").fetchone()[0]
    assert secret and secret in result.output
    assert staff_client.get("/tracing/").status_code == 303


def test_terminal_qr_code_scans_to_the_uri():
    """Read the printed blocks back as a picture of a dark terminal and decode it with zbar."""
    from PIL import Image, ImageOps
    from pyzbar.pyzbar import decode

    from roros_checkin import two_factor

    uri = two_factor.provisioning_uri("kari", two_factor.new_secret(), "Røros kommune")
    lines = [line for line in two_factor.terminal_qr(uri).splitlines() if line]
    upper = {"█": 1, "▀": 1, "▄": 0, "\xa0": 0, " ": 0}
    lower = {"█": 1, "▀": 0, "▄": 1, "\xa0": 0, " ": 0}
    rows = [[half[char] for char in line] for line in lines for half in (upper, lower)]
    picture = Image.new("L", (len(rows[0]), len(rows)), 0)  # dark background
    for y, row in enumerate(rows):
        for x, drawn in enumerate(row):
            if drawn:
                picture.putpixel((x, y), 255)  # block characters show light
    picture = ImageOps.expand(picture, 4, fill=0)
    picture = picture.resize((picture.width * 8, picture.height * 8), Image.NEAREST)
    assert [found.data.decode() for found in decode(picture)] == [uri]


@pytest.mark.slow
def test_enrol_with_the_command_and_log_in_on_the_real_server(tmp_path):
    """IT adds an account with `flask staff add`; the person logs in with password and code."""
    import subprocess
    import sys

    from server import ROOT, Browser, Server

    server = Server(tmp_path)
    added = subprocess.run([sys.executable, "-m", "flask", "staff", "add", "kari", "--password-stdin"],
                           cwd=ROOT, env=server.environ, input=NEW_PASSWORD + "\n", capture_output=True,
                           text=True, timeout=60, check=False)
    assert added.returncode == 0, added.stderr
    totp = pyotp.parse_uri(re.search(r"otpauth://\S+", added.stdout).group(0))
    server.start()
    try:
        browser = Browser(server.base)
        tokens = browser.form_tokens("/tracing/login")
        data = {"csrf_token": tokens["csrf_token"], "username": "kari", "password": NEW_PASSWORD,
                "code": totp.now()}
        status, headers, _ = browser.request("/tracing/login", data)
        assert status == 303 and headers["Location"] == "/tracing/"
        status, _, html = browser.request("/tracing/")
        assert status == 200 and "Logg ut" in html
    finally:
        output = server.stop()
    assert NEW_PASSWORD not in output and totp.secret not in output
