"""The tracing team's start page, the audit log (admins) and venue activity."""
from __future__ import annotations

from flask import abort, current_app, g, render_template, request

from .. import activity, anomalies, audit, queries, times
from ..db import get_db
from . import bp, casework, paper, search  # noqa: F401  (registers their routes on bp)

AUDIT_PAGE = 200


@bp.get("/")
def index() -> str:
    return render_template("tracing/index.html")


@bp.get("/audit")
def audit_log() -> str:
    """The audit log, newest first; read-only: the app has no way to change an entry."""
    if g.staff["role"] != "admin":
        abort(403)
    before = request.args.get("before", "")
    entries = queries.audit_entries(get_db(), int(before) if before.isdigit() and len(before) < 18 else None,
                                    AUDIT_PAGE)
    older = entries[-1]["id"] if len(entries) == AUDIT_PAGE else None
    return render_template("tracing/audit.html", entries=entries, older=older, actions=audit.ACTIONS)


@bp.get("/activity")
def venue_activity() -> str:
    conn, now = get_db(), times.now()
    data = activity.venue_activity(conn, now, times.local_zone(), current_app.config["RETENTION_DAYS"])
    odd = anomalies.anomalies_per_venue(conn, now - anomalies.ANOMALY_HOURS * 3600, now + 60)
    return render_template("tracing/activity.html", activity=data, anomalies=odd,
                           anomaly_hours=anomalies.ANOMALY_HOURS)
