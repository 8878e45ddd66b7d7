"""CSV exports that are safe to open in a spreadsheet: formula-neutral cells, text phone numbers.

The tracer who opens an export is the target (the Luca attack of 2021): a guest named
`=HYPERLINK(...)` must stay a piece of text in Excel and LibreOffice. Every cell goes through
`escape_cell`, which puts an apostrophe in front of anything a spreadsheet could read as a
formula, and leaves everything else exactly as stored, so "Fromm" stays "Fromm" and removing
the leading apostrophe always gives the stored text back.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

import phonenumbers

# A spreadsheet may start a formula (or DDE call) at these: OWASP and ASVS 1.2.10 name
# = + - @ tab CR NUL; defusedcsv adds | and %; LF is added because some importers trim it.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\0|%")
ESCAPE = "'"
# Opened with "," as separator (English Excel), a ";" file is split at commas and line
# breaks inside cells; a trigger right after one of them would start a new cell there.
_INNER_TRIGGER = re.compile(r"([,\r\n])(?=[ ]*[=+\-@\t\r\n\0|%])")
BOM = "\ufeff"
DELIMITER = ";"


def escape_cell(value: object) -> str:
    """The text of one cell, with an apostrophe in front when a spreadsheet could run it.

    Unlike defusedcsv, a `|` inside an escaped cell is left alone: the apostrophe already
    makes the whole cell text, and keeping the rest untouched lets a reader get the stored
    value back by dropping one character. A cell that holds a comma or line break followed
    by a trigger (never a valid name, phone or time) also gets an apostrophe after that
    comma or line break, so the file stays safe when opened with the wrong separator.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    # A legacy value with a lone surrogate cannot be encoded; show U+FFFD instead of failing.
    text = text.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(text) else text
    if "," in text or "\r" in text or "\n" in text:
        text = _INNER_TRIGGER.sub(r"\1" + ESCAPE, text)
    if text and text[0] in FORMULA_TRIGGERS:
        return ESCAPE + text
    return text


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def phone_for_export(e164: str) -> str:
    """A phone number no spreadsheet turns into a number or a formula.

    Norwegian numbers in national format with spaces ("912 34 567"), others in
    international format with 00 instead of + ("0046 70 123 45 67"). A stored value the
    phonenumbers library cannot read (a legacy row) is exported as it is; write_csv escapes it.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if not phonenumbers.is_valid_number(number):
        return e164
    if number.country_code == 47:
        text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    else:
        text = "00" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)[1:]
    # Without a space it could pass as a plain number and lose its leading zeros.
    return text if " " in text else e164


def phone_for_display(e164: str) -> str:
    """A phone number as a person reads it on the result page (+47 912 34 567)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The whole file: BOM, one header row, `;`-separated, every field quoted and escaped."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, delimiter=DELIMITER, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([escape_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([escape_cell(cell) for cell in row])
    return buffer.getvalue()


def _ascii_slug(text: str, fallback: str) -> str:
    """Lower-case ASCII letters, digits and hyphens only: safe in a Content-Disposition header."""
    ascii_text = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O")
                                      .replace("æ", "ae").replace("Æ", "AE"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:40].strip("-")
    return slug or fallback


def export_filename(subject: str, today: date, retention_days: int) -> str:
    """`<slug>_<date>_slett-innen-<date + retention>.csv`, ASCII only."""
    delete_by = today + timedelta(days=retention_days)
    return f"{_ascii_slug(subject, 'smittesporing')}_{today.isoformat()}_slett-innen-{delete_by.isoformat()}.csv"
