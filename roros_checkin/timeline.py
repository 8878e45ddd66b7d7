"""Who was where, when: the geometry of a case stay's timeline, drawn as inline SVG by a template.

One picture per visit of the case: the case's stay and each contact's stay as bars on a time axis
with an hour tick per local (Europe/Oslo) hour, the part each contact shared with the case
marked, and stays without a check-out drawn as estimated (hatched, dashed outline). The result
table next to it stays the text alternative; the picture only makes the overlaps easy to see.
Everything here is arithmetic in viewBox units; the template draws it with SVG presentation
attributes (the Content-Security-Policy allows no inline style, and the page has no script).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from .contacts import ContactResult, Overlap, Person, Stay

WIDTH = 760
LABEL_WIDTH = 190
RIGHT_MARGIN = 64  # room for the "45 min" after a bar
ROW_HEIGHT = 24
BAR_HEIGHT = 14
AXIS_HEIGHT = 28
# Hour labels at least this far apart (viewBox units), so a long span stays readable.
MIN_LABEL_SPACING = 44
LABEL_STEPS = (1, 2, 3, 4, 6, 12, 24)


@dataclass(frozen=True)
class Bar:
    """One row: a stay, and the part it shared with the case's stay (contacts only)."""

    label: str
    x: float
    width: float
    y: float
    estimated: bool
    is_case: bool
    overlap_x: float = 0.0
    overlap_width: float = 0.0
    overlap_minutes: int = 0
    short: bool = False

    @property
    def end_x(self) -> float:
        return self.x + self.width


@dataclass(frozen=True)
class Tick:
    x: float
    label: str  # empty for an hour that is not labelled


@dataclass(frozen=True)
class Timeline:
    """A case stay's picture: bars, hour ticks, and the size of the drawing."""

    stay: Stay
    bars: list[Bar]
    ticks: list[Tick]
    width: int
    height: int
    plot_left: int
    plot_right: int
    axis_y: int
    contacts: int
    estimated: int
    short: int


def _hour_floor(ts: int, tz: ZoneInfo) -> int:
    local = datetime.fromtimestamp(ts, tz)
    return ts - local.minute * 60 - local.second


def _ticks(start: int, end: int, tz: ZoneInfo, scale: float, left: float) -> list[Tick]:
    step = next((s for s in LABEL_STEPS if s * 3600 * scale >= MIN_LABEL_SPACING), LABEL_STEPS[-1])
    ticks = []
    # Norway's offsets are whole hours, so every local hour starts on a UTC hour: step in seconds.
    for ts in range(start, end + 1, 3600):
        local = datetime.fromtimestamp(ts, tz)
        label = local.strftime("%H:%M") if local.hour % step == 0 else ""
        ticks.append(Tick(round(left + (ts - start) * scale, 1), label))
    return ticks


def build(stay: Stay, overlaps: list[tuple[str, Overlap]], min_overlap_minutes: int, tz: ZoneInfo) -> Timeline:
    """The picture of one case stay and the contacts (label, overlap with this stay) who shared it."""
    rows = sorted(overlaps, key=lambda item: (item[1].contact.arrived_at, item[1].contact.ends_at, item[0]))
    start = _hour_floor(min([stay.arrived_at] + [o.contact.arrived_at for _, o in rows]), tz)
    last = max([stay.ends_at] + [o.contact.ends_at for _, o in rows])
    end = _hour_floor(last, tz) + (3600 if last > _hour_floor(last, tz) else 0)
    end = max(end, start + 3600)
    plot_left, plot_right = LABEL_WIDTH, WIDTH - RIGHT_MARGIN
    scale = (plot_right - plot_left) / (end - start)

    def x(ts: int) -> float:
        return round(plot_left + (ts - start) * scale, 1)

    def width(a: int, b: int) -> float:
        return max(1.5, round((b - a) * scale, 1))  # a stay of a minute still shows

    offset = (ROW_HEIGHT - BAR_HEIGHT) / 2
    bars = [Bar("Smittet", x(stay.arrived_at), width(stay.arrived_at, stay.ends_at), offset,
                stay.estimated, True)]
    for row, (label, overlap) in enumerate(rows, start=1):
        contact = overlap.contact
        shared_from = max(stay.arrived_at, contact.arrived_at)
        shared_to = min(stay.ends_at, contact.ends_at)
        bars.append(Bar(label, x(contact.arrived_at), width(contact.arrived_at, contact.ends_at),
                        row * ROW_HEIGHT + offset, contact.estimated, False,
                        overlap_x=x(shared_from), overlap_width=width(shared_from, shared_to),
                        overlap_minutes=overlap.minutes, short=overlap.seconds < min_overlap_minutes * 60))
    axis_y = (len(rows) + 1) * ROW_HEIGHT + 4
    return Timeline(stay=stay, bars=bars, ticks=_ticks(start, end, tz, scale, plot_left), width=WIDTH,
                    height=axis_y + AXIS_HEIGHT, plot_left=plot_left, plot_right=plot_right, axis_y=axis_y,
                    contacts=len(rows), estimated=sum(bar.estimated for bar in bars),
                    short=sum(bar.short for bar in bars))


def _short_label(name: str, limit: int = 24) -> str:
    return name if len(name) <= limit else name[:limit - 1] + "…"


def for_result(result: ContactResult, min_overlap_minutes: int, tz: ZoneInfo) -> list[Timeline]:
    """One timeline per case stay of a case search, rows numbered as the result table numbers people.

    A person is drawn under every case stay they overlapped (the table lists them once, under
    their longest overlap). People whose overlaps are all shorter than the minimum, when the
    result has them apart (`short`), are drawn too, marked short.
    """
    numbers: dict[int, int] = {}
    for item in result.case_stays:
        for person in item.people:
            numbers[id(person)] = len(numbers) + 1
    people: list[Person] = list(result.people) + list(getattr(result, "short", []) or [])
    timelines = []
    for item in result.case_stays:
        rows = []
        for person in people:
            number = numbers.get(id(person))
            label = _short_label(f"{number}. {person.name}" if number else f"(kort) {person.name}")
            rows.extend((label, overlap) for overlap in person.overlaps
                        if overlap.case_stay.visit_id == item.stay.visit_id)
        timelines.append(build(item.stay, rows, min_overlap_minutes, tz))
    return timelines
