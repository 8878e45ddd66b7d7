"""The guest check-in form. The rules themselves live in validation.py."""
from __future__ import annotations

import re
from collections.abc import Callable
import secrets
from typing import Any

from flask import current_app, request
from flask_babel import gettext, lazy_gettext as _l, ngettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import ValidationError

from . import times, validation
from .validation import InvalidInput

IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")

# What a guest reads for each broken rule (validation.InvalidInput codes).
MESSAGES = {
    "name_missing": _l("Write your name."),
    "name_too_long": _l("The name is too long (at most 100 characters)."),
    "name_characters": _l("The name can only contain letters, spaces, hyphens, apostrophes and periods."),
    "name_start": _l("The name must start with a letter."),
    "phone_missing": _l("Write your phone number."),
    "phone_invalid": _l("This is not a phone number we can call. Numbers from outside Norway start with + and the country code."),
    "party_size": _l("Write a number from 1 to 20."),
    "area_too_long": _l("The table or area is too long (at most 40 characters)."),
    "area_characters": _l("The table or area can only contain letters, digits, spaces and - . /"),
    "time_format": _l("Choose a date and a time."),
    "time_nonexistent": _l("This time does not exist: the clocks were put forward an hour that night."),
    "time_future": _l("The time cannot be in the future."),
    "consent": _l("You must agree before we can register you."),
}


def phone_at_too_many_venues() -> str:
    """Why a phone number already stored at several venues just now is not stored again."""
    from .ratelimit import PHONE_VENUES, PHONE_WINDOW

    return gettext("This phone number was registered at %(venues)d other places in the last %(minutes)d "
                   "minutes, so it is not registered here now. Try again in a few minutes.",
                   venues=PHONE_VENUES, minutes=PHONE_WINDOW // 60)


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(18)


def _rule(code_error: InvalidInput) -> ValidationError:
    if code_error.code == "time_too_old":
        return ValidationError(visit_too_old())
    return ValidationError(str(MESSAGES[code_error.code]))


def visit_too_old() -> str:
    """Why a visit registered afterwards is refused when it lies past RETENTION_DAYS."""
    days = current_app.config["RETENTION_DAYS"]
    return ngettext("Visits more than %(days)d day ago are not registered: the data is deleted after %(days)d day.",
                    "Visits more than %(days)d days ago are not registered: the data is deleted after %(days)d days.",
                    days, days=days)


class ConsentField(BooleanField):
    """A checkbox that counts only as one explicit "y"; "0", "off" or two values are no consent."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = valuelist == ["y"]


class CheckinForm(FlaskForm):
    """Name, phone, consent, party size, area and an optional earlier visit time."""

    name = StringField(_l("Name"))
    phone = StringField(_l("Phone number"))
    party_size = StringField(_l("How many are you, yourself included?"), default="1")
    area = StringField(_l("Table or area (optional)"))
    visited_at = StringField(_l("Date and time of the visit"))
    consent = ConsentField(_l("I agree"))
    idempotency_key = HiddenField()

    # Cleaned values, set by validate(); the fields keep what the guest typed.
    cleaned: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The key is never made here: the empty form's page gets its own (checkin._empty_form), and a
        # sent form must bring one (validate_idempotency_key), or a script's keyless POSTs would each
        # be stored, and a re-sent one twice.
        self.cleaned = {}

    def _clean(self, name: str, rule: Callable[..., Any], *args: Any) -> None:
        """Keep rule(*args) as the cleaned value, or show the broken rule's message at the field."""
        try:
            self.cleaned[name] = rule(*args)
        except InvalidInput as error:
            raise _rule(error) from None

    def validate_name(self, field: StringField) -> None:
        self._clean("name", validation.clean_name, field.data or "")

    def validate_phone(self, field: StringField) -> None:
        self._clean("phone", validation.clean_phone, field.data or "")

    def validate_party_size(self, field: StringField) -> None:
        text = (field.data or "").strip() or "1"
        size = int(text) if text.isascii() and text.isdigit() and len(text) <= 2 else None
        self._clean("party_size", validation.clean_party_size, size)

    def validate_area(self, field: StringField) -> None:
        self._clean("area", validation.clean_area, field.data or "")

    def validate_visited_at(self, field: StringField) -> None:
        text = (field.data or "").strip()
        if not text:
            self.cleaned["visited_at"] = None
            return
        config = current_app.config
        try:
            arrived_at = validation.parse_local_time(text, times.local_zone())
            validation.check_visit_time(arrived_at, times.now(), config["RETENTION_DAYS"],
                                        config["CLOCK_SKEW_MINUTES"])
        except InvalidInput as error:
            raise _rule(error) from None
        self.cleaned["visited_at"] = arrived_at

    def validate_consent(self, field: ConsentField) -> None:
        if not field.data:
            raise ValidationError(str(MESSAGES["consent"]))

    def validate_idempotency_key(self, field: HiddenField) -> None:
        # A missing or altered key: give the form a fresh one; the guest just sends again.
        if not IDEMPOTENCY_KEY.fullmatch(field.data or ""):
            field.data = new_idempotency_key()
            raise ValidationError(str(_l("The form was incomplete. Check your details and send it again.")))

    def duplicated_fields(self) -> list[str]:
        """Fields sent more than once (parameter pollution): such a form is refused whole."""
        return [key for key in request.form if len(request.form.getlist(key)) > 1]
