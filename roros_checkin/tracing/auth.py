"""Staff login, logout and server-side sessions for the tracing blueprint."""
from __future__ import annotations

import hashlib
import secrets
import sqlite3

from flask import Response, current_app, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField

from .. import queries, times
from ..db import get_db, write_transaction
from . import PUBLIC_ENDPOINTS, bp

COOKIE = "roros_staff"
# OWASP's floor for scrypt (Werkzeug's default is N=2^15).
PASSWORD_METHOD = "scrypt:131072:8:1"
# Compared against when the username is unknown, so both cases cost the same.
_DUMMY_HASH: str | None = None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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


@bp.before_request
def require_staff() -> Response | None:
    """Every /tracing/ route but the login needs a live staff session."""
    g.staff = current_session(get_db(), request.cookies.get(COOKIE), times.now())
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if g.staff is None or not g.staff["verified"]:
        return redirect(url_for("tracing.login", next=request.path), 303)
    return None


@bp.after_request
def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


class LoginForm(FlaskForm):
    username = StringField("Brukernavn")
    password = PasswordField("Passord")


def _safe_next(target: str | None) -> str:
    """Only a path inside /tracing/; anything else goes to the tracing start page."""
    if target and target.startswith("/tracing/") and "\\" not in target and "//" not in target:
        return target
    return url_for("tracing.index")


def _check_credentials(conn: sqlite3.Connection, username: str, password: str) -> sqlite3.Row | None:
    global _DUMMY_HASH
    staff = queries.staff_by_username(conn, username) if 0 < len(username) <= 64 else None
    if staff is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
        check_password_hash(_DUMMY_HASH, password[:128])
        return None
    if not check_password_hash(staff["password_hash"], password[:128]) or not staff["active"]:
        return None
    return staff


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        conn = get_db()
        staff = _check_credentials(conn, (form.username.data or "").strip(), form.password.data or "")
        if staff is not None:
            if g.staff is not None:
                end_session(conn, request.cookies[COOKIE])
            token = start_session(conn, staff["id"], times.now())
            response = redirect(_safe_next(request.args.get("next")), 303)
            response.set_cookie(COOKIE, token, httponly=True, samesite="Lax", secure=request.is_secure,
                                path="/")
            return response
        failed = True
    return render_template("tracing/login.html", form=form, failed=failed), 401 if failed else 200


@bp.post("/logout")
def logout() -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        end_session(get_db(), token)
    response = redirect(url_for("tracing.login"), 303)
    response.delete_cookie(COOKIE, path="/")
    return response
