"""The tracing team's forms: case search, venue search, paper list. Norwegian only."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import ValidationError

from .. import times, validation
from ..validation import InvalidInput

# A saksnummer such as "2026/1234" or "SAK-2026-001": whatever the deployment's CASE_REF_PATTERN,
# at most 40 of these characters and a digit, so a name cannot pass as one (it goes into the
# audit log, and says which case a search was for).
CASE_REF = re.compile(r"[A-Za-z0-9ÆØÅæøå][A-Za-z0-9ÆØÅæøå/._ -]{0,39}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

MESSAGES = {
    "name_missing": "Skriv navnet.",
    "name_too_long": "Navnet er for langt (maks 100 tegn).",
    "name_characters": "Navnet kan bare ha bokstaver, mellomrom, bindestrek, apostrof og punktum.",
    "name_start": "Navnet må begynne med en bokstav.",
    "phone_missing": "Skriv telefonnummeret.",
    "phone_invalid": "Ugyldig telefonnummer. Utenlandske numre skrives med + og landskode.",
    "party_size": "Antall personer må være 1 til 20.",
    "area_too_long": "Bord/område er for langt (maks 40 tegn).",
    "area_characters": "Bord/område kan bare ha bokstaver, tall, mellomrom og - . /",
    "time_format": "Skriv dato og klokkeslett som ÅÅÅÅ-MM-DD og TT:MM.",
    "time_nonexistent": "Dette klokkeslettet finnes ikke (klokka ble stilt fram den natta).",
    "time_future": "Tidspunktet kan ikke være fram i tid.",
    "time_too_old": "Tidspunktet er eldre enn 14 dager; slike opplysninger er slettet.",
}


def _message(error: InvalidInput) -> str:
    return MESSAGES.get(error.code, "Ugyldig verdi.")


def clean_case_ref(raw: str) -> str:
    """The case reference with spaces collapsed, if it has the deployment's format (CASE_REF_PATTERN)."""
    text = " ".join(raw.split())
    config = current_app.config
    if (not CASE_REF.fullmatch(text) or not any(ch.isdigit() for ch in text)
            or not re.fullmatch(config["CASE_REF_PATTERN"], text)):
        raise ValidationError(config["CASE_REF_MESSAGE"])
    return text


def _local_time(raw: str) -> int:
    try:
        return validation.parse_local_time(raw, times.local_zone())
    except InvalidInput as error:
        raise ValidationError(_message(error)) from None


class _WindowForm(FlaskForm):
    """A case reference and a time window that never reaches past the retention or now."""

    case_ref = StringField("Saksnummer")
    cleaned: dict[str, Any]
    # True when the window was cut at the retention boundary.
    clamped: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cleaned = {}
        self.clamped = False

    def validate_case_ref(self, field: StringField) -> None:
        self.cleaned["case_ref"] = clean_case_ref(field.data or "")

    def _bound_window(self, window_from: int, window_to: int) -> None:
        now = times.now()
        not_before = now - current_app.config["RETENTION_DAYS"] * 86400
        window_to = min(window_to, now)
        if window_from < not_before:
            window_from, self.clamped = not_before, True
        if window_to <= window_from:
            raise ValidationError("Perioden må slutte etter at den begynner, og innenfor de siste 14 dagene.")
        self.cleaned["window_from"], self.cleaned["window_to"] = window_from, window_to


class CaseSearchForm(_WindowForm):
    """The case by phone (or name), the case reference, and the period to look at."""

    phone = StringField("Telefonnummer til den smittede")
    name = StringField("… eller navn (hvis telefonnummer mangler)")
    onset = StringField("Dato for symptomstart eller prøvetaking")
    from_ = StringField("Fra (valgfritt, overstyrer datoen)", name="from")
    to = StringField("Til (valgfritt, ellers nå)")

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if not valid:
            return False
        try:
            self._who()
            self._window()
        except ValidationError as error:
            self.form_errors.append(str(error))
            return False
        return True

    def _who(self) -> None:
        phone, name = (self.phone.data or "").strip(), (self.name.data or "").strip()
        if phone:
            try:
                self.cleaned["phone"] = validation.clean_phone(phone)
            except InvalidInput as error:
                self.phone.errors = [_message(error)]
                raise ValidationError(_message(error)) from None
        elif name:
            try:
                self.cleaned["name"] = validation.clean_name(name)
            except InvalidInput as error:
                self.name.errors = [_message(error)]
                raise ValidationError(_message(error)) from None
        else:
            raise ValidationError("Skriv telefonnummeret (eller navnet) til den smittede.")

    def _window(self) -> None:
        hours_before = current_app.config["CASE_HOURS_BEFORE_ONSET"]
        onset, start, end = ((field.data or "").strip() for field in (self.onset, self.from_, self.to))
        if start:
            window_from = _local_time(start)
        elif DATE.fullmatch(onset):
            window_from = _local_time(onset + "T00:00") - int(timedelta(hours=hours_before).total_seconds())
        else:
            raise ValidationError("Skriv dato for symptomstart eller prøvetaking (ÅÅÅÅ-MM-DD).")
        window_to = _local_time(end) if end else times.now()
        self._bound_window(window_from, window_to)

    def search_fields(self) -> dict[str, str]:
        """What was typed, to send again with the export and print buttons (as POST fields)."""
        return {field.name: field.data or "" for field in (self.phone, self.name, self.case_ref,
                                                              self.onset, self.from_, self.to)}


class VenueSearchForm(_WindowForm):
    """A venue, a bounded window and the case reference: for the case that never registered."""

    venue = SelectField("Sted", choices=[], validate_choice=False)
    from_ = StringField("Fra", name="from")
    to = StringField("Til")

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if not valid:
            return False
        try:
            window_from = _local_time(self.from_.data or "")
            window_to = _local_time(self.to.data or "")
            max_hours = current_app.config["VENUE_WINDOW_MAX_HOURS"]
            if window_to - window_from > max_hours * 3600:
                raise ValidationError(f"Et søk på sted kan dekke høyst {max_hours} timer.")
            self._bound_window(window_from, window_to)
        except ValidationError as error:
            self.form_errors.append(str(error))
            return False
        return True

    def validate_venue(self, field: SelectField) -> None:
        if not any(field.data == slug for slug, _ in self.venue.choices):
            raise ValidationError("Velg et sted.")

    def search_fields(self) -> dict[str, str]:
        return {field.name: field.data or "" for field in (self.venue, self.case_ref, self.from_, self.to)}


class PersonLookupForm(FlaskForm):
    """An admin's check: was this phone number or name searched for, by whom, for which case?"""

    phone = StringField("Telefonnummer")
    name = StringField("… eller navn")
    reason = StringField("Hvorfor du sjekker (saksnummer, henvendelse e.l.)")
    cleaned: dict[str, Any]

    def validate(self, extra_validators: Any = None) -> bool:
        self.cleaned = {}
        if not super().validate(extra_validators):
            return False
        phone, name = (self.phone.data or "").strip(), (self.name.data or "").strip()
        reason = " ".join((self.reason.data or "").split())
        try:
            if phone:
                self.cleaned["phone"] = validation.clean_phone(phone)
            elif name:
                self.cleaned["name"] = validation.clean_name(name)
            else:
                self.form_errors.append("Skriv telefonnummeret eller navnet du vil sjekke.")
                return False
        except InvalidInput as error:
            (self.phone if phone else self.name).errors = [_message(error)]
            return False
        if not CASE_REF.fullmatch(reason) or not any(ch.isdigit() for ch in reason):
            self.reason.errors = ["Skriv hvorfor du sjekker, med et saks- eller journalnummer (for eksempel 2026/1234)."]
            return False
        self.cleaned["reason"] = reason
        return True


class PaperListForm(FlaskForm):
    """A venue's paper list: venue, date, then one guest per line."""

    venue = SelectField("Sted", choices=[], validate_choice=False)
    date = StringField("Dato på lista")
    rows = TextAreaField("Gjester, én per linje: navn; telefon; klokkeslett; antall personer")
    batch = HiddenField()

    def validate_venue(self, field: SelectField) -> None:
        if not any(field.data == slug for slug, _ in self.venue.choices):
            raise ValidationError("Velg et sted.")

    def validate_date(self, field: StringField) -> None:
        if not DATE.fullmatch((field.data or "").strip()):
            raise ValidationError("Skriv datoen som ÅÅÅÅ-MM-DD.")
        _local_time(field.data.strip() + "T12:00")

    def validate_rows(self, field: TextAreaField) -> None:
        if not (field.data or "").strip():
            raise ValidationError("Skriv minst én gjest.")
        if len(field.data) > 40_000:
            raise ValidationError("For mange linjer på én gang; del lista i to.")
