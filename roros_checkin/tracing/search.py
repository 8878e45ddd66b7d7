"""Case search, venue search, their CSV exports and the printable call list.

Searches carry a phone number or name, so they are POSTed and never put in a URL. The
result page does not redirect (that would need the search in the URL or stored on the
server): it is the answer to the POST, with Cache-Control: no-store. Its export and print
buttons are POST forms that send the same fields again with a CSRF token; the export runs
the search again, so it shows exactly what the database holds at that moment, and each
export is audit-logged on its own.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from flask import Response, current_app, g, render_template
from flask_babel import format_date

from .. import audit, cases, contacts, export, queries, retention, timeline, times
from ..db import get_db
from .forms import CaseSearchForm, VenueSearchForm


# The staff pages' and exports' time: a form no spreadsheet reads as a date (a CLDR pattern).
STAFF_TIME = "dd.MM.yyyy 'kl.' HH:mm"


def oslo(ts: int | None, fmt: str = STAFF_TIME) -> str:
    """A stored time in local time (TIMEZONE), by Babel like every time shown (times.show)."""
    return times.show(ts, fmt)


def phone(e164: str) -> str:
    return export.phone_for_display(e164)


def case_timelines(result: contacts.ContactResult) -> list[timeline.Timeline]:
    """The timeline of each case stay of a result, for templates/tracing/_timeline.html."""
    return timeline.for_result(result, current_app.config["MIN_OVERLAP_MINUTES"], times.local_zone())


def _rules() -> contacts.Rules:
    return contacts.Rules.from_config(current_app.config)


def _venue_choices() -> list[tuple[str, str]]:
    return [(venue["slug"], venue["name"]) for venue in queries.list_venues(get_db())]


def _log(action: str, form: CaseSearchForm | VenueSearchForm, count: int, venue: str | None = None) -> None:
    cleaned = form.cleaned
    if "phone" in cleaned:
        detail = "telefon " + audit.masked_phone(cleaned["phone"])
    elif "name" in cleaned:
        detail = "navn"
    else:
        detail = None
    hashes = audit.person_hashes(current_app.config["SECRET_KEY"], cleaned.get("phone"), cleaned.get("name"))
    audit.record(get_db(), queries.AuditEntry(
        at=times.now(), staff=g.staff["username"], action=action, case_ref=cleaned["case_ref"],
        venue_slug=venue, window_from=cleaned["window_from"], window_to=cleaned["window_to"],
        result_count=count, detail=detail, **hashes))


def _case_result(form: CaseSearchForm) -> contacts.ContactResult:
    cleaned = form.cleaned
    return contacts.case_contacts(get_db(), _rules(), times.now(), cleaned["window_from"],
                                  cleaned["window_to"], phone=cleaned.get("phone"), name=cleaned.get("name"))


def _csv_rows(result: contacts.ContactResult, case_ref: str) -> Iterator[list[object]]:
    for number, person in enumerate(result.people, start=1):
        for overlap in person.overlaps:
            contact, case_stay = overlap.contact, overlap.case_stay
            yield [number, contact.name, export.phone_for_export(contact.phone), contact.party_size,
                   contact.area or "", contact.venue_name, oslo(contact.arrived_at), oslo(contact.ends_at),
                   "ja" if contact.estimated else "nei", overlap.minutes, contact.source_label,
                   oslo(case_stay.arrived_at), oslo(case_stay.ends_at), case_ref]


CSV_HEADER = ["Person", "Navn", "Telefon", "Antall personer", "Bord/område", "Sted", "Ankomst",
              "Avreise", "Avreise anslått", "Overlapp (min)", "Kilde", "Smittet kom", "Smittet gikk",
              "Saksnummer"]


def _csv_response(result: contacts.ContactResult, case_ref: str, subject: str) -> Response:
    body = export.write_csv(CSV_HEADER, _csv_rows(result, case_ref))
    today = datetime.fromtimestamp(times.now(), times.local_zone()).date()
    filename = export.export_filename(subject, today, current_app.config["RETENTION_DAYS"])
    # nosniff and no-store come from the app-wide and tracing headers.
    response = Response(body.encode("utf-8"), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def case_search() -> str | tuple[str, int]:
    form = CaseSearchForm()
    if not form.is_submitted():
        return render_template("tracing/case.html", form=form, result=None)
    if not form.validate():
        return render_template("tracing/case.html", form=form, result=None), 400
    result = _case_result(form)
    _log("case_search", form, len(result.people))
    # A case search opens (or continues) the case of its reference: the call list becomes work.
    case_id = cases.open_case(get_db(), form.cleaned["case_ref"], g.staff["username"], result, result.short,
                              times.now())
    return render_template("tracing/case.html", form=form, result=result, case_id=case_id)


def case_export() -> Response | tuple[str, int]:
    form = CaseSearchForm()
    if not form.validate():
        return render_template("tracing/case.html", form=form, result=None), 400
    result = _case_result(form)
    _log("case_export", form, len(result.people))
    return _csv_response(result, form.cleaned["case_ref"], "sak-" + form.cleaned["case_ref"])


def case_print() -> str | tuple[str, int]:
    form = CaseSearchForm()
    if not form.validate():
        return render_template("tracing/case.html", form=form, result=None), 400
    result = _case_result(form)
    _log("case_print", form, len(result.people))
    now = times.now()
    delete_by = retention.delete_by(datetime.fromtimestamp(now, times.local_zone()).date(),
                                    current_app.config["RETENTION_DAYS"])
    return render_template("tracing/call_list.html", form=form, result=result, now=now,
                           delete_by=format_date(delete_by, "dd.MM.yyyy"))


def _venue_form() -> VenueSearchForm:
    form = VenueSearchForm()
    form.venue.choices = _venue_choices()
    return form


def _venue_result(form: VenueSearchForm) -> tuple[contacts.ContactResult, object]:
    venue = queries.venue_by_slug(get_db(), form.venue.data)
    cleaned = form.cleaned
    result = contacts.venue_contacts(get_db(), _rules(), times.now(), venue, cleaned["window_from"],
                                     cleaned["window_to"])
    return result, venue


def venue_search() -> str | tuple[str, int]:
    form = _venue_form()
    if not form.is_submitted():
        return render_template("tracing/venue.html", form=form, result=None)
    if not form.validate():
        return render_template("tracing/venue.html", form=form, result=None), 400
    result, venue = _venue_result(form)
    _log("venue_search", form, len(result.people), venue["slug"])
    # The case that never registered is a case too: its reference opens (or continues) it.
    case_id = cases.open_case(get_db(), form.cleaned["case_ref"], g.staff["username"], result, result.short,
                              times.now())
    return render_template("tracing/venue.html", form=form, result=result, venue=venue, case_id=case_id)


def venue_export() -> Response | tuple[str, int]:
    form = _venue_form()
    if not form.validate():
        return render_template("tracing/venue.html", form=form, result=None), 400
    result, venue = _venue_result(form)
    _log("venue_export", form, len(result.people), venue["slug"])
    return _csv_response(result, form.cleaned["case_ref"], venue["slug"])
