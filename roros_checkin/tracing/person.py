"""A person's own data (admins only): access, correction and erasure, by phone number.

The answer to an access request is a page to print; a correction or erasure re-shows it. The phone
number is always POSTed, never put in a URL, so every page here is the answer to a POST (as the
case search's result is). Each step needs a case or request reference and is audit-logged with
it, the last two digits of the number and a count: never a name or a full number.
"""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, render_template
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, StringField
from wtforms.validators import ValidationError

from .. import audit, contacts, queries, retention, subject_rights, times, validation
from ..db import get_db
from ..validation import InvalidInput
from .forms import MESSAGES, clean_case_ref


class PersonForm(FlaskForm):
    """Whose data (a phone number) and why (the case or request reference)."""

    reference = StringField("Saksnummer eller henvendelsesnummer")
    phone = StringField("Telefonnummer")
    cleaned: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cleaned = {}

    def validate_reference(self, field: StringField) -> None:
        self.cleaned["reference"] = clean_case_ref(field.data or "")

    def validate_phone(self, field: StringField) -> None:
        self.cleaned["phone"] = _clean(validation.clean_phone, field.data or "")


class CorrectionForm(PersonForm):
    """One visit's name and number as they should be."""

    visit = HiddenField()
    name = StringField("Riktig navn")
    new_phone = StringField("Riktig telefonnummer")

    def validate_visit(self, field: HiddenField) -> None:
        self.cleaned["visit"] = _visit_id(field.data or "")

    def validate_name(self, field: StringField) -> None:
        self.cleaned["name"] = _clean(validation.clean_name, field.data or "")

    def validate_new_phone(self, field: StringField) -> None:
        self.cleaned["new_phone"] = _clean(validation.clean_phone, field.data or "")


class ErasureForm(PersonForm):
    """The visits to delete: one, or every one shown."""

    visit = SelectMultipleField(choices=[], validate_choice=False)

    def validate_visit(self, field: SelectMultipleField) -> None:
        if not field.data or len(field.data) > 10_000:
            raise ValidationError("Velg hvilke besøk som skal slettes.")
        self.cleaned["visits"] = [_visit_id(value) for value in field.data]


def _clean(rule, raw: str) -> str:
    try:
        return rule(raw)
    except InvalidInput as error:
        raise ValidationError(MESSAGES.get(error.code, "Ugyldig verdi.")) from None


def _visit_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationError("Ukjent besøk.")
    return int(raw)


def _require_admin() -> None:
    if g.staff["role"] != "admin":
        abort(403)


def _log(action: str, form: PersonForm, count: int, detail: str = "") -> None:
    audit.record(get_db(), queries.AuditEntry(
        at=times.now(), staff=g.staff["username"], action=action, case_ref=form.cleaned["reference"],
        result_count=count, detail=f"telefon {audit.masked_phone(form.cleaned['phone'])}{detail}"))


def _visits(form: PersonForm) -> list | None:
    """The visits stored under the form's number, or None when the form named none (or no reference)."""
    if "phone" not in form.cleaned or "reference" not in form.cleaned:
        return None
    return subject_rights.person_visits(get_db(), form.cleaned["phone"], times.now(),
                                        current_app.config["RETENTION_DAYS"])


def _page(form: PersonForm, status: int = 200, notice: str | None = None, visits: list | None = None):
    """The person page: the search form, and the visits when the form named a number."""
    if visits is None:
        visits = _visits(form)
    return render_template("tracing/person.html", form=form, visits=visits, notice=notice,
                           now=times.now(), source_labels=contacts.SOURCE_LABELS), status


def visit_expires(arrived_at: int) -> int:
    """When a visit shown on the page is deleted: the retention rule, not arithmetic in a template."""
    return retention.visit_expires_at(current_app.config, arrived_at)


def person():
    """Find a person's visits by phone number: the printable answer to an access request."""
    _require_admin()
    form = PersonForm()
    if not form.is_submitted():
        return _page(form)
    if not form.validate():
        return _page(form, 400)
    visits = _visits(form)
    _log("person_access", form, len(visits))
    return _page(form, visits=visits)


def person_correct():
    """Correct the name and number of one visit."""
    _require_admin()
    form = CorrectionForm()
    if not form.validate():
        return _page(form, 400, notice="Rettingen ble ikke lagret: " + _first_error(form))
    cleaned = form.cleaned
    changed = subject_rights.correct_visit(get_db(), cleaned["visit"], cleaned["phone"], cleaned["name"],
                                           cleaned["new_phone"])
    moved = cleaned["new_phone"] != cleaned["phone"]
    _log("person_correct", form, int(changed), ", nytt nummer" if moved and changed else "")
    if not changed:
        return _page(form, 409, notice="Besøket finnes ikke lenger under dette nummeret; ingenting ble endret.")
    notice = ("Besøket er rettet. Det står nå under det nye nummeret." if moved else "Besøket er rettet.")
    return _page(form, notice=notice)


def person_delete():
    """Delete one or every visit of the person, at once and for good."""
    _require_admin()
    form = ErasureForm()
    if not form.validate():
        return _page(form, 400, notice="Ingenting ble slettet: " + _first_error(form))
    deleted = subject_rights.erase_person_visits(get_db(), current_app.config, form.cleaned["phone"],
                                                 form.cleaned["visits"])
    _log("person_delete", form, deleted)
    return _page(form, notice=f"{deleted} besøk slettet for godt.")


def _first_error(form: FlaskForm) -> str:
    for name, errors in form.errors.items():
        if name == "csrf_token":
            return "Skjemaet var utløpt. Send det igjen."
        return errors[0]
    return "Ugyldig skjema."
