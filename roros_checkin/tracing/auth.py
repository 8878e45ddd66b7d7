"""Staff login (password and one-time code), logout and server-side sessions for the tracing blueprint.

The login is one page: username, password and, with two-factor on (the default), the six-digit
code in `code`. One page means there is no half-logged-in state to protect, and a failure never
says which of the three was wrong. Unknown users, wrong passwords, wrong or replayed codes and
disabled accounts all get the same page, status and (through a dummy hash) time.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import sqlite3
import threading

from flask import Response, current_app, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField

from .. import passwords, queries, times
from ..db import get_db, write_transaction
from . import PUBLIC_ENDPOINTS, bp, throttle, two_factor

log = logging.getLogger(__name__)

COOKIE = "roros_staff"
# Over HTTPS the cookie is Secure and __Host- prefixed: no subdomain or plain-http page can set it.
SECURE_COOKIE = "__Host-roros_staff"
USERNAME_MAX = 64
# Each scrypt check takes about 128 MiB; at most two at once, whatever the number of threads.
_HASHING = threading.BoundedSemaphore(2)
# Checked when the username is unknown, so both cases cost one scrypt at the same parameters.
# The hash of a random string nobody kept: it matches no password.
DUMMY_HASH = ("scrypt:131072:8:1$2xg0P075hNzhjkuc$ac5882563779ff48d444cec53590c310717c35b0ba002bb7a7c20c673"
              "f4f71277b64412f0bd0119b0c9eb02c07c074ff8519d41cebbd63e586be15accb1836f6")


def hash_password(password: str) -> str:
    return passwords.hash_password(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cookie_name() -> str:
    return SECURE_COOKIE if request.is_secure else COOKIE


def start_session(conn: sqlite3.Connection, staff_id: int, now: int, verified: bool = True) -> str:
    """Create a server-side session and return the token for the cookie."""
    token = secrets.token_urlsafe(32)
    with write_transaction(conn):
        queries.insert_staff_session(conn, token_hash(token), staff_id, now, verified)
    return token


def end_session(conn: sqlite3.Connection, token: str) -> None:
    with write_transaction(conn):
        queries.delete_staff_session(conn, token_hash(token))


def current_session(conn: sqlite3.Connection, token: str | None, now: int) -> sqlite3.Row | None:
    """The live session behind a cookie token, or None (unknown, expired, or account disabled)."""
    if not token or len(token) > 100:
        return None
    session = queries.staff_session(conn, token_hash(token))
    if session is None:
        return None
    config = current_app.config
    idle = now - session["last_seen_at"] > config["SESSION_IDLE_MINUTES"] * 60
    too_old = now - session["created_at"] > config["SESSION_ABSOLUTE_HOURS"] * 3600
    if idle or too_old or not session["active"]:
        with write_transaction(conn):
            queries.delete_staff_session(conn, session["token_hash"])
        return None
    with write_transaction(conn):
        queries.touch_staff_session(conn, session["token_hash"], now)
    return session


@bp.before_app_request
def require_staff() -> Response | None:
    """Every /tracing/ URL but the login needs a live, fully verified staff session.

    An app-wide check on the path, not the blueprint's own before_request: a /tracing/ URL
    that matches no route (404) or not this method (405) must also send a visitor without a
    session to the login, so no one can map the routes.
    """
    if request.blueprint != bp.name and not request.path.startswith(bp.url_prefix + "/"):
        return None
    g.staff = current_session(get_db(), request.cookies.get(cookie_name()), times.now())
    if g.staff is not None and not g.staff["verified"]:
        g.staff = None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if g.staff is None:
        return redirect(url_for("tracing.login", next=request.path), 303)
    return None


@bp.after_request
def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


class LoginForm(FlaskForm):
    username = StringField("Brukernavn")
    password = PasswordField("Passord")
    code = StringField("Engangskode fra appen")


def _safe_next(target: str | None) -> str:
    """Only a plain path inside /tracing/; anything else goes to the tracing start page."""
    if (target and target.startswith("/tracing/") and target.isascii() and target.isprintable()
            and " " not in target and "\\" not in target and "//" not in target):
        return target
    return url_for("tracing.index")


def _check_password(conn: sqlite3.Connection, username: str, password: str) -> sqlite3.Row | None:
    """The active account with this password, or None; always one scrypt check, whatever the case."""
    staff = queries.staff_by_username(conn, username) if 0 < len(username) <= USERNAME_MAX else None
    with _HASHING:
        if staff is None or len(password) > passwords.PASSWORD_MAX:
            check_password_hash(DUMMY_HASH, password[:passwords.PASSWORD_MAX])
            return None
        matches = check_password_hash(staff["password_hash"], password)
    return staff if matches and staff["active"] else None


def _check_code(conn: sqlite3.Connection, staff: sqlite3.Row, code: str, now: int) -> bool:
    """A current code from the account's authenticator, not used before (the step is then spent)."""
    if not staff["totp_secret"]:
        return False  # no authenticator enrolled: `flask staff reset-2fa` enrols one
    step = two_factor.matching_step(staff["totp_secret"], code, staff["totp_last_step"], now)
    if step is None:
        return False
    with write_transaction(conn):
        return queries.accept_totp_step(conn, staff["id"], step)


def _login_page(form: LoginForm, status: int, failed: bool = False, wait_minutes: int = 0):
    # The form macro echoes field values; a password or code must never come back in the page.
    form.password.data = ""
    form.code.data = ""
    html = render_template("tracing/login.html", form=form, failed=failed, wait_minutes=wait_minutes,
                           two_factor=current_app.config["TWO_FACTOR_ENABLED"])
    return html, status


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    two_factor_on = current_app.config["TWO_FACTOR_ENABLED"]
    if not form.validate_on_submit():
        return _login_page(form, 200)
    conn = get_db()
    now = times.now()
    # REMOTE_ADDR as waitress sets it: the real client, or what the configured proxy forwarded.
    client = request.remote_addr or "unknown"
    username = (form.username.data or "").strip().lower()[:USERNAME_MAX]
    # Reserved before the hash, so parallel guesses cannot all pass the check at once.
    attempt, wait = throttle.reserve_attempt(conn, username, client, now)
    if attempt is None:
        log.warning("login refused for user %r from %s: throttled for %d s", username, client, wait)
        body, status = _login_page(form, 429, wait_minutes=max(1, -(-wait // 60)))
        return body, status, {"Retry-After": str(wait)}
    staff = _check_password(conn, username, form.password.data or "")
    ok = staff is not None and (not two_factor_on or _check_code(conn, staff, form.code.data or "", now))
    if not ok:
        log.warning("login failed for user %r from %s", username, client)
        return _login_page(form, 401, failed=True)
    throttle.record_success(conn, attempt)
    log.info("login for user %r from %s", username, client)
    old = request.cookies.get(cookie_name())
    if old:
        end_session(conn, old)
    token = start_session(conn, staff["id"], now)
    response = redirect(_safe_next(request.args.get("next")), 303)
    response.set_cookie(cookie_name(), token, httponly=True, samesite="Lax", secure=request.is_secure,
                        path="/")
    return response


@bp.post("/logout")
def logout() -> Response:
    token = request.cookies.get(cookie_name())
    if token:
        end_session(get_db(), token)
    response = redirect(url_for("tracing.login"), 303)
    response.delete_cookie(cookie_name(), path="/", secure=request.is_secure, httponly=True, samesite="Lax")
    return response
