"""The tracing team's accounts: username rule, password hashing, enrolment, login checks, sessions.

Shared by `flask staff` (cli/staff.py) and the login of the tracing blueprint (tracing/auth.py).
What a new password must be is passwords.py's; the one-time codes are two_factor.py's.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import threading
from collections.abc import Mapping
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from . import passwords, queries, two_factor
from .db import write_transaction

USERNAME_MAX = 64
USERNAME = re.compile(r"[A-Za-z0-9._-]{2,64}")
ROLES = ("tracer", "admin")
# OWASP's floor for scrypt (Werkzeug's default is N=2^15): about 128 MiB and 0.4 s per hash.
PASSWORD_METHOD = "scrypt:131072:8:1"
# Each scrypt check takes about 128 MiB; at most two at once, whatever the number of threads.
_HASHING = threading.BoundedSemaphore(2)
# Checked when the username is unknown, so both cases cost one scrypt at the same parameters.
# The hash of a random string nobody kept: it matches no password.
DUMMY_HASH = ("scrypt:131072:8:1$2xg0P075hNzhjkuc$ac5882563779ff48d444cec53590c310717c35b0ba002bb7a7c20c673"
              "f4f71277b64412f0bd0119b0c9eb02c07c074ff8519d41cebbd63e586be15accb1836f6")


class StaffRefused(Exception):
    """An account change that breaks a rule; the message says which, in a line."""


def hash_password(password: str) -> str:
    """The stored form of a password (scrypt at PASSWORD_METHOD)."""
    return generate_password_hash(password, method=PASSWORD_METHOD)


def check_username(username: str) -> None:
    """StaffRefused unless the username is 2-64 letters a-z, digits, . _ or -."""
    if not USERNAME.fullmatch(username):
        raise StaffRefused("the username must be 2-64 letters a-z, digits, . _ or -")


def add_staff(conn: sqlite3.Connection, username: str, password: str, role: str, now: int) -> str:
    """Add an account with a fresh two-factor seed and return the seed, to be shown once."""
    check_username(username)
    secret = two_factor.new_secret()
    try:
        with write_transaction(conn):
            queries.insert_staff(conn, username, hash_password(password), role, secret, now)
    except sqlite3.IntegrityError:
        raise StaffRefused(f"an account named {username!r} already exists") from None
    return secret


def existing_account(conn: sqlite3.Connection, username: str) -> sqlite3.Row:
    """The account of this username; StaffRefused when there is none."""
    staff = queries.staff_by_username(conn, username)
    if staff is None:
        raise StaffRefused(f"no account named {username!r}")
    return staff


def disable(conn: sqlite3.Connection, username: str) -> int:
    """Disable an account and end its sessions at once; return how many ended."""
    with write_transaction(conn):
        queries.set_staff_active(conn, username, False)
        return queries.delete_sessions_of(conn, username)


def enable(conn: sqlite3.Connection, username: str) -> None:
    """Let a disabled account log in again."""
    with write_transaction(conn):
        queries.set_staff_active(conn, username, True)


def set_password(conn: sqlite3.Connection, username: str, password: str) -> int:
    """Store a new password and end the account's sessions; return how many ended."""
    with write_transaction(conn):
        queries.set_staff_password(conn, username, hash_password(password))
        return queries.delete_sessions_of(conn, username)


def reset_two_factor(conn: sqlite3.Connection, username: str) -> str:
    """Give the account a new two-factor seed (the old codes stop working) and end its sessions."""
    secret = two_factor.new_secret()
    with write_transaction(conn):
        queries.set_staff_totp_secret(conn, username, secret)
        queries.delete_sessions_of(conn, username)
    return secret


# --- login -----------------------------------------------------------------------------------

def check_password(conn: sqlite3.Connection, username: str, password: str) -> sqlite3.Row | None:
    """The active account with this password, or None; always one scrypt check, whatever the case."""
    staff = queries.staff_by_username(conn, username) if 0 < len(username) <= USERNAME_MAX else None
    with _HASHING:
        if staff is None or len(password) > passwords.PASSWORD_MAX:
            check_password_hash(DUMMY_HASH, password[:passwords.PASSWORD_MAX])
            return None
        matches = check_password_hash(staff["password_hash"], password)
    return staff if matches and staff["active"] else None


def check_code(conn: sqlite3.Connection, staff: sqlite3.Row, code: str, now: int) -> bool:
    """A current code from the account's authenticator, not used before (the step is then spent)."""
    if not staff["totp_secret"]:
        return False  # no authenticator enrolled: `flask staff reset-2fa` enrols one
    step = two_factor.matching_step(staff["totp_secret"], code, staff["totp_last_step"], now)
    if step is None:
        return False
    with write_transaction(conn):
        return queries.accept_totp_step(conn, staff["id"], step)


# --- sessions (server-side; the cookie holds a token, the table its hash) ----------------------

def token_hash(token: str) -> str:
    """What the table keeps of a session token: its SHA-256, so a copy of the database opens no session."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(conn: sqlite3.Connection, staff_id: int, now: int, verified: bool = True) -> str:
    """Create a server-side session and return the token for the cookie."""
    token = secrets.token_urlsafe(32)
    with write_transaction(conn):
        queries.insert_staff_session(conn, token_hash(token), staff_id, now, verified)
    return token


def end_session(conn: sqlite3.Connection, token: str) -> None:
    """Forget the session behind a cookie token (log out)."""
    with write_transaction(conn):
        queries.delete_staff_session(conn, token_hash(token))


def current_session(conn: sqlite3.Connection, token: str | None, now: int,
                    config: Mapping[str, Any]) -> sqlite3.Row | None:
    """The live session behind a cookie token, or None (unknown, expired, or account disabled)."""
    if not token or len(token) > 100:
        return None
    session = queries.staff_session(conn, token_hash(token))
    if session is None:
        return None
    idle = now - session["last_seen_at"] > config["SESSION_IDLE_MINUTES"] * 60
    too_old = now - session["created_at"] > config["SESSION_ABSOLUTE_HOURS"] * 3600
    if idle or too_old or not session["active"]:
        with write_transaction(conn):
            queries.delete_staff_session(conn, session["token_hash"])
        return None
    with write_transaction(conn):
        queries.touch_staff_session(conn, session["token_hash"], now)
    return session
