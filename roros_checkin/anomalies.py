"""Signs of fake check-ins at a venue, for the tracing team's venue activity page.

A QR poster proves nobody's presence (a photo of it works from anywhere), so the activity page
flags what does not look like guests: many check-ins in a few minutes and arrivals in the small
hours. Everything is counted from the stored visits, never from refused attempts or request state,
so a flood that got in stays visible whoever sent it, from one address or many (the register keeps
no client address). Nothing is dropped or hidden: the tracing team decides. Only times and counts
are shown, never a name or phone.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone

from . import queries, times

# Check-ins at one venue within BURST_WINDOW seconds that make a burst (a full café fills in
# more than ten minutes; a poster photo shared online does not).
VENUE_BURST = 30
BURST_WINDOW = 600
# Local hours with no ordinary guests: serving ends by 03:00 at the latest (alkoholloven § 4-4)
# and breakfast starts at 06:00.
NIGHT_HOURS = range(3, 6)
# The activity page looks this far back for anomalies: the tracing team's "is this real?" question
# is about the last evenings, and at national scale two days of arrivals read in well under a second.
ANOMALY_HOURS = 48


@dataclass(frozen=True)
class Anomaly:
    kind: str  # "burst" or "night"
    first: int
    last: int
    count: int

    @property
    def text(self) -> str:
        return {
            "burst": f"{self.count} registreringer i løpet av {BURST_WINDOW // 60} minutter",
            "night": f"{self.count} registreringer med ankomst om natten (kl. 03–06)",
        }[self.kind]


def venue_bursts(arrivals: list[int]) -> list[Anomaly]:
    """Runs of sorted arrivals where VENUE_BURST or more fall inside BURST_WINDOW seconds, merged."""
    runs: list[list[int]] = []  # [first index, last index]
    start = 0
    for end, arrived in enumerate(arrivals):
        while arrived - arrivals[start] >= BURST_WINDOW:
            start += 1
        if end - start + 1 < VENUE_BURST:
            continue
        if runs and start <= runs[-1][1]:
            runs[-1][1] = end
        else:
            runs.append([start, end])
    return [Anomaly("burst", arrivals[first], arrivals[last], last - first + 1) for first, last in runs]


def night_arrivals(arrivals: list[int]) -> list[Anomaly]:
    """Arrivals in NIGHT_HOURS local time, one entry per night."""
    zone = times.local_zone()
    nights: dict[str, list[int]] = {}
    for arrived in arrivals:
        local = datetime.fromtimestamp(arrived, tz=timezone.utc).astimezone(zone)
        if local.hour in NIGHT_HOURS:
            nights.setdefault(local.date().isoformat(), []).append(arrived)
    return [Anomaly("night", stamps[0], stamps[-1], len(stamps)) for stamps in nights.values()]


def _anomalies(arrivals: list[int]) -> list[Anomaly]:
    found = venue_bursts(arrivals) + night_arrivals(arrivals)
    return sorted(found, key=lambda anomaly: (anomaly.first, anomaly.kind))


def anomalies_per_venue(conn: sqlite3.Connection, start: int, end: int) -> list[tuple[sqlite3.Row, list[Anomaly]]]:
    """(venue, its anomalies) for every venue with something odd between start and end.

    One query for all venues' arrivals, not one per venue: 5,000 venues would be 5,000 queries.
    """
    arrivals: dict[int, list[int]] = {}
    for venue_id, arrived in queries.arrivals_of_all_venues(conn, start, end):
        arrivals.setdefault(venue_id, []).append(arrived)
    found = []
    for venue in queries.list_venues(conn):
        odd = _anomalies(arrivals.get(venue["id"], []))
        if odd:
            found.append((venue, odd))
    return found
