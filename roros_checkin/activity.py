"""Venue activity: check-ins per venue per local day, so a venue that stopped registering shows."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import queries, retention


@dataclass
class VenueActivity:
    slug: str
    name: str
    active: bool
    counts: list[int]
    last_arrival: int | None

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def silent_days(self) -> int:
        """Days at the end of the period without a single check-in."""
        silent = 0
        for count in reversed(self.counts):
            if count:
                break
            silent += 1
        return silent


@dataclass
class Activity:
    days: list[date]
    venues: list[VenueActivity]


def local_days(now: int, tz: ZoneInfo, count: int) -> list[tuple[date, int, int]]:
    """The last `count` local days up to today, as (date, start, end) in Unix seconds."""
    today = datetime.fromtimestamp(now, tz).date()
    days = []
    for offset in range(count - 1, -1, -1):
        day = today - timedelta(days=offset)
        start = datetime.combine(day, time(), tz)
        end = datetime.combine(day + timedelta(days=1), time(), tz)
        days.append((day, int(start.timestamp()), int(end.timestamp())))
    return days


def venue_activity(conn: sqlite3.Connection, now: int, tz: ZoneInfo, retention_days: int) -> Activity:
    """Check-ins per venue and local day over the retention window (today included)."""
    not_before = retention.not_before(now, retention_days)
    days = local_days(now, tz, retention_days + 1)
    # The first day is cut at the retention boundary: older visits are never counted.
    bounds = [(max(start, not_before + 1), end) for _, start, end in days]
    counts: dict[int, list[int]] = {}
    for row in queries.checkins_per_venue_and_day(conn, bounds):
        if row["visits"]:
            counts.setdefault(row["venue_id"], [0] * len(days))[row["day"]] = row["visits"]
    last = queries.last_checkin_per_venue(conn, not_before)
    venues = [
        VenueActivity(venue["slug"], venue["name"], bool(venue["active"]),
                      counts.get(venue["id"], [0] * len(days)), last.get(venue["id"]))
        for venue in queries.list_venues(conn)
    ]
    return Activity([day for day, _, _ in days], venues)
