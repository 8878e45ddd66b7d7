"""The tracing team's start page, the audit log and its person check (admins) and venue activity."""
from __future__ import annotations

import logging

from flask import abort, current_app, g, render_template, request

from .. import activity, anomalies, audit, queries, times
from ..db import get_db
from .forms import PersonLookupForm

log = logging.getLogger(__name__)
AUDIT_PAGE = 200


def require_admin() -> None:
    """403 for anyone but an admin; the refusal is logged (who and which page, nothing personal)."""
    if g.staff["role"] != "admin":
        log.warning("admin page %r refused for user %r (role %r)", request.path, g.staff["username"],
                    g.staff["role"])
        abort(403)


def index() -> str:
    return render_template("tracing/index.html")


def audit_log() -> str:
    """The audit log, newest first; read-only: the app has no way to change an entry."""
    require_admin()
    before = request.args.get("before", "")
    entries = queries.audit_entries(get_db(), int(before) if before.isdigit() and len(before) < 18 else None,
                                    AUDIT_PAGE)
    older = entries[-1]["id"] if len(entries) == AUDIT_PAGE else None
    return render_template("tracing/audit.html", entries=entries, older=older, actions=audit.ACTIONS)


def venue_activity() -> str:
    conn, now = get_db(), times.now()
    data = activity.venue_activity(conn, now, times.local_zone(), current_app.config["RETENTION_DAYS"])
    odd = anomalies.anomalies_per_venue(conn, now - anomalies.ANOMALY_HOURS * 3600, now + 60)
    return render_template("tracing/activity.html", activity=data, anomalies=odd,
                           anomaly_hours=anomalies.ANOMALY_HOURS)


def person_lookup() -> str | tuple[str, int]:
    """Was this person searched for? Every search of the phone or name, by whom, for which case.

    The name or number is compared by its keyed hash and never stored; the check itself is an
    audit entry of its own (with the same hash), so checks are as visible as searches.
    """
    require_admin()
    form = PersonLookupForm()
    if not form.is_submitted():
        return render_template("tracing/audit_person.html", form=form, entries=None, actions=audit.ACTIONS)
    if not form.validate():
        return render_template("tracing/audit_person.html", form=form, entries=None, actions=audit.ACTIONS), 400
    cleaned, secret = form.cleaned, current_app.config["SECRET_KEY"]
    conn = get_db()
    entries = audit.person_searches(conn, secret, cleaned.get("phone"), cleaned.get("name"))
    audit.record_person_lookup(conn, secret, g.staff["username"], cleaned["reason"], times.now(), len(entries),
                               cleaned.get("phone"), cleaned.get("name"))
    return render_template("tracing/audit_person.html", form=form, entries=entries, actions=audit.ACTIONS,
                           limit=audit.LOOKUP_LIMIT)
