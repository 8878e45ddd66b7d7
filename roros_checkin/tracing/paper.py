"""Typing in a venue's paper list: stored as `paper` visits under the guest form's rules."""
from __future__ import annotations

import secrets

from flask import current_app, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from .. import audit, paper_lists, queries, times, validation
from ..db import get_db
from .forms import MESSAGES, PaperListForm, days

PAPER_MESSAGES = {
    **MESSAGES,
    "paper_columns": "Linja må ha navn; telefon; klokkeslett og eventuelt antall personer, skilt med semikolon.",
    "paper_time": "Skriv klokkeslettet som TT:MM.",
}


def _form() -> PaperListForm:
    form = PaperListForm()
    form.venue.choices = [(venue["slug"], venue["name"]) for venue in queries.list_venues(get_db())]
    if not form.batch.data:
        form.batch.data = secrets.token_urlsafe(18)
    return form


def paper_list() -> Response | str | tuple[str, int]:
    form = _form()
    if not form.is_submitted():
        stored = request.args.get("lagret", "")
        return render_template("tracing/paper.html", form=form, outcome=None,
                               stored=int(stored) if stored.isdigit() else None)
    if not form.validate():
        return render_template("tracing/paper.html", form=form, outcome=None, stored=None), 400
    conn = get_db()
    venue = queries.venue_by_slug(conn, form.venue.data)
    day = form.date.data.strip()
    config = current_app.config
    outcome = paper_lists.store_paper_list(conn, venue, day, form.rows.data, form.batch.data[:64],
                                     times.local_zone(), times.now(), config["RETENTION_DAYS"],
                                     config["CLOCK_SKEW_MINUTES"], entered_by=g.staff["staff_id"])
    day_start = validation.parse_local_time(day + "T00:00", times.local_zone())
    audit.record(conn, queries.AuditEntry(
        at=times.now(), staff=g.staff["username"], action="paper_entry", venue_slug=venue["slug"],
        window_from=day_start, window_to=day_start + 86400, result_count=outcome.stored,
        detail=f"{len(outcome.refused)} linjer avvist, {outcome.already_stored} fantes fra før"))
    if not outcome.refused:
        return redirect(url_for("tracing.paper_list", lagret=outcome.stored), 303)
    # Keep only the refused lines to correct; the stored ones are gone from the box.
    form.rows.data = "\n".join(line.text for line in outcome.refused)
    retention_days = days(current_app.config["RETENTION_DAYS"])
    refused = [(line, PAPER_MESSAGES.get(line.code, "Ugyldig linje.").format(days=retention_days))
               for line in outcome.refused]
    return render_template("tracing/paper.html", form=form, outcome=outcome, refused=refused,
                           stored=outcome.stored), 400
