"""Time: the application's clock, and showing stored UTC seconds in Europe/Oslo."""
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
    """A stored time as the guest's language writes it, in Norwegian local time."""
    if ts is None:
        return ""
    return format_datetime(to_datetime(ts), fmt)

