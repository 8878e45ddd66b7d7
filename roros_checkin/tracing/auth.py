"""Staff login (password and one-time code) and logout: the tracing blueprint's views of staff.py.

The login is one page: username, password and, with two-factor on (the default), the six-digit
code in `code`. One page means there is no half-logged-in state to protect, and a failure never
says which of the three was wrong. Unknown users, wrong passwords, wrong or replayed codes and
disabled accounts all get the same page, status and (through a dummy hash) time. The checks,
the sessions and the throttle are staff.py's and login_throttle.py's; this module holds the
form, the cookie and the hook that sends a visitor without a session to the login.
"""
from __future__ import annotations

import logging

from flask import Response, current_app, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField

from .. import login_throttle, retention, staff, times
from ..db import get_db

log = logging.getLogger(__name__)

BLUEPRINT = "tracing"
URL_PREFIX = "/tracing"
# Routes a visitor may reach without a staff session. Every other /tracing/ route
# requires one: the check is app-wide on the path, so a new route cannot be left open.
PUBLIC_ENDPOINTS = frozenset({"tracing.login"})

COOKIE = "roros_staff"
# Over HTTPS the cookie is Secure and __Host- prefixed: no subdomain or plain-http page can set it.
SECURE_COOKIE = "__Host-roros_staff"


def cookie_name() -> str:
    return SECURE_COOKIE if request.is_secure else COOKIE


def require_staff() -> Response | None:
    """Every /tracing/ URL but the login needs a live, fully verified staff session.

    An app-wide check on the path, not the blueprint's own before_request: a /tracing/ URL
    that matches no route (404) or not this method (405) must also send a visitor without a
    session to the login, so no one can map the routes.
    """
    if request.blueprint != BLUEPRINT and not request.path.startswith(URL_PREFIX + "/"):
        return None
    g.staff = staff.current_session(get_db(), request.cookies.get(cookie_name()), times.now(),
                                    current_app.config)
    if g.staff is not None and not g.staff["verified"]:
        g.staff = None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if g.staff is None:
        return redirect(url_for("tracing.login", next=request.path), 303)
    return None


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


def _login_page(form: LoginForm, status: int, failed: bool = False, wait_minutes: int = 0):
    # The form macro echoes field values; a password or code must never come back in the page.
    form.password.data = ""
    form.code.data = ""
    html = render_template("tracing/login.html", form=form, failed=failed, wait_minutes=wait_minutes,
                           two_factor=current_app.config["TWO_FACTOR_ENABLED"])
    return html, status


def login():
    form = LoginForm()
    two_factor_on = current_app.config["TWO_FACTOR_ENABLED"]
    if not form.validate_on_submit():
        return _login_page(form, 200)
    conn = get_db()
    now = times.now()
    # REMOTE_ADDR as waitress sets it: the real client, or what the configured proxy forwarded.
    client = request.remote_addr or "unknown"
    username = (form.username.data or "").strip().lower()[:staff.USERNAME_MAX]
    # Reserved before the hash, so parallel guesses cannot all pass the check at once.
    attempt, wait = login_throttle.reserve_attempt(conn, username, client, now,
                                                   retention.login_attempts_not_before(current_app.config, now))
    if attempt is None:
        log.warning("login refused for user %r from %s: throttled for %d s", username, client, wait)
        body, status = _login_page(form, 429, wait_minutes=max(1, -(-wait // 60)))
        return body, status, {"Retry-After": str(wait)}
    account = staff.check_password(conn, username, form.password.data or "")
    ok = account is not None and (not two_factor_on or staff.check_code(conn, account, form.code.data or "", now))
    if not ok:
        log.warning("login failed for user %r from %s", username, client)
        return _login_page(form, 401, failed=True)
    login_throttle.record_success(conn, attempt)
    log.info("login for user %r from %s", username, client)
    old = request.cookies.get(cookie_name())
    if old:
        staff.end_session(conn, old)
    token = staff.start_session(conn, account["id"], now)
    response = redirect(_safe_next(request.args.get("next")), 303)
    response.set_cookie(cookie_name(), token, httponly=True, samesite="Lax", secure=request.is_secure,
                        path="/")
    return response


def logout() -> Response:
    token = request.cookies.get(cookie_name())
    if token:
        staff.end_session(get_db(), token)
    response = redirect(url_for("tracing.login"), 303)
    response.delete_cookie(cookie_name(), path="/", secure=request.is_secure, httponly=True, samesite="Lax")
    return response
