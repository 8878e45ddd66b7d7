"""The guests' blueprint: start page, check-in form, receipt, check-out, kiosk, privacy (routes listed at the end)."""
from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from urllib.parse import parse_qs

from flask import (Blueprint, Response, abort, current_app, make_response, redirect, render_template,
                   request, url_for)
from flask_babel import gettext as _

from . import db, errors, i18n, pages, queries, ratelimit, security, subject_rights, times, validation, visits
from .db import get_db
from .forms import CheckinForm, new_idempotency_key, phone_at_too_many_venues
from .venues import SLUG_MAX_LENGTH

def _venue_or_404(slug: str) -> sqlite3.Row:
    venue = queries.venue_by_slug(get_db(), slug) if len(slug) <= SLUG_MAX_LENGTH else None
    if venue is None:
        abort(404)
    return venue


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def index() -> str:
    return render_template("checkin/index.html", venues=queries.list_venues(get_db(), active_only=True))


def privacy() -> str:
    return render_template("checkin/privacy.html")


def favicon() -> Response:
    """Phones ask for an icon on every first visit: answer with nothing rather than a 404 page."""
    response = Response(status=204)
    response.headers["Cache-Control"] = "public, max-age=604800"
    return response


# How long /healthz waits for the write lock: a commit holds it for milliseconds, so a lock held
# this long means check-ins are waiting too (they give up with a 503 after db.BUSY_TIMEOUT_MS).
HEALTH_WRITE_WAIT_SECONDS = 2.0


def healthz() -> Response:
    """200 when the database answers and could store a check-in now; 503 when it cannot be written."""
    conn = get_db()
    queries.ping(conn)
    reason = db.cannot_write(conn, HEALTH_WRITE_WAIT_SECONDS)
    if reason is not None:
        current_app.logger.error("health check: the database cannot be written (%s)", reason)
        return Response(f"unavailable: database {reason}\n", 503, mimetype="text/plain",
                        headers={"Retry-After": str(errors.RETRY_AFTER_SECONDS)})
    return Response("ok\n", mimetype="text/plain")


def choose_language(code: str) -> Response:
    """The visible language switch: remember the choice in a cookie and go back."""
    # Only a path on this site, rebuilt from its parsed parts; its query only the page's own parameters.
    path, _, query = request.args.get("next", "/")[:512].partition("#")[0].partition("?")
    response = redirect(security.local_path(path, page_parameters(parse_qs(query))), 303)
    if code in current_app.config["LANGUAGES"]:
        i18n.set_language_cookie(response, code)
    return response


def _valid_area(raw: str) -> str:
    """An `area` from a poster's URL when it is one a guest could type, else nothing."""
    try:
        return validation.clean_area(raw[:validation.AREA_MAX + 1]) or ""
    except validation.InvalidInput:
        return ""


def page_parameters(query: Mapping[str, list[str]]) -> dict[str, str]:
    """The query parameters that change a guest page (`area`, `checked_out`), validated; nothing else."""
    found = {}
    area = _valid_area((query.get("area") or [""])[0])
    if area:
        found["area"] = area
    if (query.get("checked_out") or [""])[0] == "1":
        found["checked_out"] = "1"
    return found


def language_next() -> str:
    """Where the language switch leads back to: this page, with only the parameters that shape it."""
    if request.method != "GET":
        return security.local_path(request.path)
    return security.local_path(request.path, page_parameters(request.args.to_dict(flat=False)))


def _handle_checkin(slug: str, source: str, template: str) -> Response | tuple[str, int] | str:
    """GET shows the form; POST validates, stores and redirects (303), or re-renders with 400."""
    venue = _venue_or_404(slug)
    if not venue["active"]:
        status = 409 if request.method == "POST" else 200
        return render_template("checkin/closed.html", venue=venue), status
    if request.method == "GET":
        return _empty_form(venue, template)

    if request.files:
        # A field sent as a file (multipart upload) is nothing a check-in form sends: refused whole.
        abort(400)
    # No CSRF token: the guest form works without cookies; security.py refuses POSTs from other sites.
    form = CheckinForm(formdata=request.form, meta={"csrf": False})
    if form.duplicated_fields():
        abort(400)
    if form.validate():
        try:
            recorded = visits.record_visit(get_db(), venue, form.cleaned, form.idempotency_key.data,
                                           source, times.now(), language=i18n.current_locale())
        except visits.PhoneAtTooManyVenues as refusal:
            form.phone.errors = [phone_at_too_many_venues()]
            return render_template(template, venue=venue, form=form), 429, {"Retry-After": str(refusal.retry_after)}
        except visits.KeyUsedElsewhere:
            # Never reused: the form comes back with a fresh key (and says so), to be sent again.
            form.idempotency_key.data = ""
            form.validate()
            return render_template(template, venue=venue, form=form), 400
        if recorded.stored:
            ratelimit.count_stored_checkin()
        # A re-sent form (double tap, retry, back and resend) shows the first one's receipt.
        return _after_checkin(venue, source, recorded.token)
    return render_template(template, venue=venue, form=form), 400


def _empty_form(venue: sqlite3.Row, template: str) -> str:
    """A new guest's form: the page of this venue, language and area, with a fresh idempotency key."""
    # Only what changes the page shapes it: a valid ?area= (it fills a field and the language switch
    # links back with it), never the rest of the address, so odd or huge query strings add no page.
    area = page_parameters(request.args.to_dict(flat=False)).get("area", "")

    def context(holes: dict[str, str]) -> dict:
        form = CheckinForm(formdata=None, meta={"csrf": False})
        form.idempotency_key.data = holes["idempotency_key"]
        form.area.data = area
        return {"venue": venue, "form": form}

    shape = (venue["id"], venue["slug"], venue["name"], request.path, area)
    return pages.render(template, shape, {"idempotency_key": new_idempotency_key()}, context)


def _after_checkin(venue: sqlite3.Row, source: str, token: str) -> Response:
    if source == "kiosk":
        return redirect(url_for("checkin.kiosk_done", slug=venue["slug"]), 303)
    return redirect(url_for("checkin.receipt", token=token), 303)


def venue_form(slug: str) -> Response:
    response = make_response(_handle_checkin(slug, "qr", "checkin/form.html"))
    # The form sent back with a mistake (400) or a refusal (429) holds what the guest typed:
    # never from a cache or history.
    return _no_store(response) if response.status_code >= 400 else response


def kiosk(slug: str) -> Response | tuple[str, int] | str:
    response = make_response(_handle_checkin(slug, "kiosk", "checkin/kiosk.html"))
    return _no_store(response)


def kiosk_start_over(slug: str) -> Response:
    """An empty kiosk form in the tablet's own language: "start over", and where an idle tablet goes."""
    venue = _venue_or_404(slug)
    response = redirect(url_for("checkin.kiosk", slug=venue["slug"]), 303)
    i18n.forget_language_cookie(response)
    return _no_store(response)


def kiosk_done(slug: str) -> Response:
    venue = _venue_or_404(slug)
    response = make_response(render_template("checkin/kiosk_done.html", venue=venue, now=times.now()))
    # The next guest at the tablet starts in the tablet's own language, not the last guest's choice.
    i18n.forget_language_cookie(response)
    return _no_store(response)


def receipt(token: str) -> Response:
    visit = _receipt_visit_or_404(token)
    checked_out = request.args.get("checked_out") == "1"
    return _no_store(make_response(_receipt_page(visit, token, checked_out)))


def _receipt_page(visit: sqlite3.Row, token: str, checked_out: bool) -> str:
    """The receipt: a page per shape (what is shown), filled with this visit's details."""
    values = {"token": token, "venue_name": visit["venue_name"], "arrived": times.show(visit["arrived_at"]),
              "party_size": str(visit["party_size"])}
    if visit["venue_address"]:
        values["venue_address"] = visit["venue_address"]
    if visit["left_at"]:
        values["left"] = times.show(visit["left_at"])
    can_check_out = visits.can_check_out(visit)
    if visit["area"]:
        values["area"] = visit["area"]
    query = "?checked_out=1" if checked_out else ""

    def context(holes: dict[str, str]) -> dict:
        return {**holes, "checked_out": checked_out, "can_check_out": can_check_out,
                "language_next": f"/r/{holes['token']}{query}"}

    return pages.render("checkin/receipt.html", (tuple(values), checked_out, can_check_out), values, context)


def check_out(token: str) -> Response | tuple[str, int]:
    visit = _receipt_visit_or_404(token)
    if visit["source"] == "retro":
        # A visit registered afterwards is over already: nothing to end, nothing changes.
        return render_template("errors/error.html", title=_("There is nothing to check out"),
                               message=_("A visit registered afterwards has no check-out.")), 409
    visits.check_out(get_db(), visit["id"], times.now())
    return redirect(url_for("checkin.receipt", token=token, checked_out=1), 303)


# --- the guest's own erasure: "delete this registration" on the receipt ---------------------

def _receipt_visit_or_404(token: str) -> sqlite3.Row:
    """The visit behind a receipt token (its shape is checked there: visits.find_receipt), else 404."""
    visit = visits.find_receipt(get_db(), token, times.now())
    if visit is None:
        abort(404)
    return visit


def delete_confirm(token: str) -> Response:
    """Ask once before erasing: what will be deleted, and a button that does it."""
    visit = _receipt_visit_or_404(token)
    page = render_template("checkin/delete_confirm.html", token=token, venue_name=visit["venue_name"],
                           arrived=times.show(visit["arrived_at"]))
    return _no_store(make_response(page))


def delete_registration(token: str) -> Response:
    """Erase the visit behind the receipt at once and for good; the receipt then answers 404.

    Protected like every guest POST: by its origin (security.py), not by a token or a cookie.
    """
    visit = _receipt_visit_or_404(token)
    subject_rights.erase_receipt_visit(get_db(), current_app.config, visit["id"])
    return redirect(url_for("checkin.registration_deleted"), 303)


def registration_deleted() -> Response:
    return _no_store(make_response(render_template("checkin/deleted.html")))


# --- the blueprint: every route, in one list ---------------------------------------------------

bp = Blueprint("checkin", __name__)
# A full disk, a read-only database or a lock held too long: "not saved, try again" (503), never a 500.
bp.register_error_handler(sqlite3.OperationalError, errors.storage_unavailable)
bp.add_app_template_global(language_next, "language_return_path")

GET, POST, BOTH = ["GET"], ["POST"], ["GET", "POST"]
ROUTES = (
    ("/", index, GET),
    ("/privacy", privacy, GET),
    ("/favicon.ico", favicon, GET),
    ("/healthz", healthz, GET),
    ("/lang/<code>", choose_language, GET),
    ("/v/<slug>", venue_form, BOTH),
    ("/kiosk/<slug>", kiosk, BOTH),
    ("/kiosk/<slug>/new", kiosk_start_over, GET),
    ("/kiosk/<slug>/ok", kiosk_done, GET),
    ("/r/<token>", receipt, GET),
    ("/r/<token>/checkout", check_out, POST),
    ("/r/<token>/delete", delete_confirm, GET),
    ("/r/<token>/delete", delete_registration, POST),
    ("/deleted", registration_deleted, GET),
)
for rule, view, methods in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
