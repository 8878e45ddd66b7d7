"""Time: the application's clock, and showing stored UTC seconds in the deployment's TIMEZONE."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_datetime


def now() -> int:
    """The current time in Unix seconds, from the clock the app was configured with."""
    return int(current_app.config["CLOCK"]())


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_datetime(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def show(ts: int | None, fmt: str = "short") -> str:
    """A stored time in local time (TIMEZONE), written by Babel in the page's language.

    fmt is a Babel format name ("short") or a CLDR pattern ("dd.MM.yyyy 'kl.' HH:mm"); the one
    way both guest and staff pages write a time.
    """
    if ts is None:
        return ""
    return format_datetime(to_datetime(ts), fmt)

