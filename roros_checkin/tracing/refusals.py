"""The tracing team's own error answers: a form that carries a file, and storage that cannot write.

Staff pages are Norwegian only, so these are not the guest's error pages. Every staff request
writes (the session's last-seen time, the audit row of a search, a login attempt), so while
another process holds the database's write lock past the busy timeout, or the disk is full or
read-only, each one answers 503 "nothing was changed, try again", never a 500.
"""
from __future__ import annotations

import logging
import sqlite3

from flask import render_template, request
from werkzeug.wrappers import Response

from .. import errors
from ..db import discard_connection
from .auth import BLUEPRINT, URL_PREFIX

log = logging.getLogger(__name__)

PAGES = {
    400: ("Skjemaet kunne ikke brukes",
          "Skjemaet inneholdt en fil eller noe annet enn tekst. Gå tilbake, last siden på nytt og prøv igjen."),
    503: ("Databasen er ikke tilgjengelig akkurat nå",
          "Ingenting ble søkt, lagret eller endret: databasen var opptatt eller kunne ikke skrives til. "
          "Prøv igjen om et minutt."),
}


def staff_error(code: int) -> Response:
    """A plain Norwegian error page for the tracing team, never stored by a browser."""
    title, message = PAGES[code]
    response = Response(render_template("tracing/error.html", code=code, title=title, message=message),
                        status=code, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    if code == 503:
        response.headers["Retry-After"] = str(errors.RETRY_AFTER_SECONDS)
    return response


def refuse_files() -> Response | None:
    """Every tracing form is text: a field sent as a file upload is refused before any form reads it."""
    if request.method == "POST" and request.files:
        log.warning("tracing form with a file part refused: %r", request.path)
        return staff_error(400)
    return None


def _under_tracing() -> bool:
    return request.blueprint == BLUEPRINT or request.path.startswith(URL_PREFIX + "/")


def storage_unavailable(error: sqlite3.OperationalError):
    """503 for a database that cannot store just now; the guest side keeps its own page for it."""
    if not _under_tracing():
        return errors.storage_unavailable(error)
    code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
    if code not in errors.STORAGE_UNAVAILABLE:
        raise error
    log.error("database unavailable (%s) on a staff page; answered 503", getattr(error, "sqlite_errorname", "?"))
    discard_connection()
    return staff_error(503)
