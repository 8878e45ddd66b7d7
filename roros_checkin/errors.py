"""Error pages in the guest's language: never a traceback, SQL or path."""
from __future__ import annotations

import logging
import sqlite3

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

PAGES = {
    400: (_l("Something was wrong with the request"),
          _l("The page could not use what was sent. Go back, reload the page and try again.")),
    403: (_l("Not allowed"), _l("You do not have access to this page.")),
    404: (_l("Page not found"),
          _l("We could not find this page. Check the address, or scan the code on the poster again.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    409: (_l("Registration is closed"), _l("This place does not take registrations right now.")),
    413: (_l("Too much data"), _l("What was sent is far larger than a check-in. Shorten it and try again.")),
    429: (_l("Too many registrations"),
          _l("Many registrations came from here in a short time. Wait a minute and try again.")),
    500: (_l("Something went wrong"), _l("An error on our side stopped this. Try again in a moment.")),
    503: (_l("The registration was not saved"),
          _l("We could not store anything just now. Nothing was saved: try again in a minute.")),
}


CROSS_SITE = (_l("This form was sent from another site"),
              # One literal: the catalogs' msgid is this text exactly.
              _l("For your safety nothing was saved: the form did not come from this site. Scan the code on the poster again, or open the check-in page yourself, and send the form from there."))  # noqa: E501


def cross_site_page():
    """403 for a guest POST from another site (security.refuse_cross_site_guest_post)."""
    title, message = CROSS_SITE
    return render_template("errors/error.html", code=403, title=title, message=message), 403


def render_error(code: int):
    title, message = PAGES.get(code, PAGES[500])
    return render_template("errors/error.html", code=code, title=title, message=message), code


def handle_http_exception(error: HTTPException):
    code = error.code or 500
    response = error.get_response()
    body, status = render_error(code if code in PAGES else 500)
    response.set_data(body)
    response.status_code = status if code in PAGES else code
    response.mimetype = "text/html"
    return response


# SQLite's primary result codes that mean "could not store just now", not a bug: the disk is full or
# failing, the database or its directory is read-only or cannot be opened, or the write lock stayed
# taken past busy_timeout. The guest can send again once it passes; nothing was committed.
STORAGE_UNAVAILABLE = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
                       sqlite3.SQLITE_CANTOPEN}
RETRY_AFTER_SECONDS = 30


def storage_unavailable(error: sqlite3.OperationalError):
    """503 "not saved, try again" for a database that cannot store; any other SQLite error is a 500."""
    code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
    if code not in STORAGE_UNAVAILABLE:
        raise error
    log.error("database unavailable (%s); answered 503", getattr(error, "sqlite_errorname", "?"))
    from . import db

    # The failed transaction is rolled back with its connection; the next request opens a fresh one,
    # which is how the server recovers once there is space (or write access) again.
    db.discard_connection()
    body, status = render_error(503)
    return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def handle_csrf_error(_error: CSRFError):
    return render_error(400)


def handle_unexpected(error: InternalServerError):
    # The original exception goes to the log with its traceback; the guest sees a plain page.
    return render_error(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_unexpected)
