"""The rules for what a guest may type: names, phone numbers, areas and local times.

Plain functions that raise InvalidInput with a message id, so the check-in form, the
tracers' paper-list entry and the command line share one set of rules.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import phonenumbers

from . import retention

NAME_MAX = 100
AREA_MAX = 40
PHONE_INPUT_MAX = 32
PARTY_MIN, PARTY_MAX = 1, 20

# Punctuation a real name uses besides letters: space, hyphens, apostrophes, period.
NAME_PUNCTUATION = frozenset(" -\u2010'\u2019.")
AREA_PUNCTUATION = frozenset(" -./")
PHONE_CHARS = re.compile(r"[0-9 +().\-\u00a0]+")
LOCAL_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})")


class InvalidInput(ValueError):
    """A value that breaks a rule; `code` names the rule for the message shown."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L")


def clean_name(raw: str) -> str:
    """A name of 1–100 letters of any script with spaces, hyphens, apostrophes and periods; NFC."""
    if len(raw) > NAME_MAX * 4:
        raise InvalidInput("name_too_long")
    text = unicodedata.normalize("NFC", raw).replace("\u00a0", " ").strip()
    text = re.sub(" {2,}", " ", text)
    if not text:
        raise InvalidInput("name_missing")
    if len(text) > NAME_MAX:
        raise InvalidInput("name_too_long")
    for ch in text:
        # Letters and combining marks of any script; control, format (bidi, zero-width),
        # symbols and digits are refused.
        if not (unicodedata.category(ch)[0] in "LM" or ch in NAME_PUNCTUATION):
            raise InvalidInput("name_characters")
    if not _is_letter(text[0]):
        raise InvalidInput("name_start")
    return text


def clean_phone(raw: str, region: str = "NO") -> str:
    """A phone number the phonenumbers library calls valid, as E.164 (+4791234567)."""
    text = raw.strip()
    if not text:
        raise InvalidInput("phone_missing")
    if len(text) > PHONE_INPUT_MAX or not PHONE_CHARS.fullmatch(text):
        raise InvalidInput("phone_invalid")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput("phone_invalid") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_area(raw: str) -> str | None:
    """An optional table or area: up to 40 letters, digits, spaces and - . /; None when empty."""
    text = unicodedata.normalize("NFC", raw).strip()
    if not text:
        return None
    if len(text) > AREA_MAX:
        raise InvalidInput("area_too_long")
    for ch in text:
        if not (unicodedata.category(ch)[0] in "LMN" or ch in AREA_PUNCTUATION):
            raise InvalidInput("area_characters")
    if unicodedata.category(text[0])[0] not in "LN":
        raise InvalidInput("area_characters")
    return text


def parse_local_time(raw: str, tz: ZoneInfo) -> int:
    """Local 'YYYY-MM-DDTHH:MM' to Unix seconds.

    A time in the spring daylight-saving gap does not exist and is refused. A time in the
    autumn repeat is ambiguous; it is read as the earlier of the two instants (summer time),
    so a contact window can only start too early, never too late.
    """
    match = LOCAL_TIME.fullmatch(raw.strip())
    if not match:
        raise InvalidInput("time_format")
    try:
        naive = datetime(*(int(part) for part in match.groups()))
    except ValueError:
        raise InvalidInput("time_format") from None
    if not 2000 <= naive.year <= 2100:
        raise InvalidInput("time_format")
    local = naive.replace(tzinfo=tz, fold=0)
    # zoneinfo quietly shifts a non-existent time; going to UTC and back shows it.
    if local.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None) != naive:
        raise InvalidInput("time_nonexistent")
    return int(local.timestamp())


def check_visit_time(arrived_at: int, now: float, retention_days: int, skew_minutes: int) -> None:
    """A visit registered afterwards lies in the past and inside the retention."""
    if arrived_at > now + skew_minutes * 60:
        raise InvalidInput("time_future")
    if arrived_at <= retention.not_before(now, retention_days):
        raise InvalidInput("time_too_old")


def clean_party_size(value: int | None) -> int:
    if value is None or not PARTY_MIN <= value <= PARTY_MAX:
        raise InvalidInput("party_size")
    return value
