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
# Characters that read as a trigger once a spreadsheet (or the reader's eye) folds them: the
# full-width and small forms (＝＋－＠﹦﹢﹣﹫, also ％｜; NFKC folds those to = + - @ % |) and the
# minus signs and dashes Excel and LibreOffice accept as a minus (− ‐ ‑ ‒ – — ➕ ➖ and the super-
# and subscript signs, which NFKC folds to − or + =).
_LOOKALIKE_TRIGGERS = frozenset("\u2212\u2010\u2011\u2012\u2013\u2014\u2015\u2795\u2796\ufe63\u207b\u208b")
# Fillers that show nothing but are not in a whitespace or format category.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Where a reader with another separator (",", tab, ";" without quotes) or one that splits at line
# breaks starts a new cell: a trigger right after one of them would start a formula there.
INNER_SEPARATORS = frozenset(",;\t\r\n")
ESCAPE = "'"
BOM = "\ufeff"
DELIMITER = ";"


def _unseen(ch: str) -> bool:
    """True for what a spreadsheet may skip (or trim) before it looks for a formula: spaces of
    every kind (NBSP, U+2000-U+200A, ideographic), zero-width and bidi controls, other control
    and format characters, and blank fillers."""
    return ch.isspace() or unicodedata.category(ch) in ("Zs", "Zl", "Zp", "Cc", "Cf") or ch in _BLANK_LETTERS


def _is_trigger(ch: str) -> bool:
    return (ch in FORMULA_TRIGGERS or ch in _LOOKALIKE_TRIGGERS
            or unicodedata.normalize("NFKC", ch)[:1] in FORMULA_TRIGGERS)


def _trigger_follows(text: str, start: int) -> bool:
    """True when, from `start`, the first character a spreadsheet looks at starts a formula.

    Tab, CR, LF and NUL are triggers of their own (a reader may start there); any other invisible
    character is skipped, up to the next separator.
    """
    for ch in text[start:]:
        if _is_trigger(ch):
            return True
        if ch in INNER_SEPARATORS or not _unseen(ch):
            return False
    return False


def _guard_inner(text: str) -> str:
    pieces = []
    for index, ch in enumerate(text):
        pieces.append(ch)
        if ch in INNER_SEPARATORS and _trigger_follows(text, index + 1):
            pieces.append(ESCAPE)
    return "".join(pieces)


def escape_cell(value: object) -> str:
    """The text of one cell, with an apostrophe in front when a spreadsheet could run it.

    What counts is what a spreadsheet sees: a trigger after leading spaces (NBSP and the other
    Unicode spaces), zero-width or bidi characters, and the full-width or small forms of
    `= + - @` are escaped too. Unlike defusedcsv, a `|` inside an escaped cell is left alone: the
    apostrophe already makes the whole cell text, and keeping the rest untouched lets a reader get
    the stored value back by dropping one character. A cell that holds a comma, semicolon, tab or
    line break followed by a trigger (never a valid name, phone or time; a legacy row or a venue
    name set by IT may) also gets an apostrophe after that character, so the file stays safe when
    opened with another separator (tab-separated, or ",").
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    # A legacy value with a lone surrogate cannot be encoded; show U+FFFD instead of failing.
    text = text.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(text) else text
    if any(ch in INNER_SEPARATORS for ch in text):
        text = _guard_inner(text)
    if text and (text[0] in FORMULA_TRIGGERS or _trigger_follows(text, 0)):
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
