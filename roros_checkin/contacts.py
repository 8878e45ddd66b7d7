"""Who was near whom: stays, overlaps, and the people to call for a case.

The rules (stays, overlaps, people, calls) are pure functions over rows already read, so they
can be tested without a database; case_contacts and venue_contacts at the end read those rows
through queries.py and apply them. A stay lasts from `arrived_at` to `left_at`, or to `arrived_at` +
DEFAULT_STAY_MINUTES when the guest did not check out (then its end is "estimated").
Two stays at the same venue are contacts when they overlap by at least
MIN_OVERLAP_MINUTES; intervals that only touch overlap by zero.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import queries, retention

SOURCE_LABELS = {"qr": "QR", "kiosk": "kiosk", "retro": "etterregistrert", "paper": "papir"}


@dataclass(frozen=True)
class Stay:
    """One visit with its computed end."""

    visit_id: int
    venue_id: int
    venue_slug: str
    venue_name: str
    name: str
    phone: str
    party_size: int
    area: str | None
    arrived_at: int
    left_at: int | None
    source: str
    ends_at: int

    @property
    def estimated(self) -> bool:
        """True when the end is arrival + the default stay, not a check-out."""
        return self.left_at is None

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)


def stay_end(arrived_at: int, left_at: int | None, default_stay_minutes: int) -> int:
    """When a stay ends: the check-out, or arrival plus the default stay."""
    if left_at is not None:
        return max(left_at, arrived_at)
    return arrived_at + default_stay_minutes * 60


def _text(value: Any) -> Any:
    """A legacy value stored as a BLOB is shown as text (U+FFFD for bytes that are not UTF-8)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def stay_from_row(row: Mapping[str, Any], default_stay_minutes: int) -> Stay:
    """A Stay from a visits row joined with its venue (venue_slug, venue_name)."""
    return Stay(
        visit_id=row["id"], venue_id=row["venue_id"], venue_slug=row["venue_slug"],
        venue_name=_text(row["venue_name"]), name=_text(row["name"]), phone=_text(row["phone"]),
        party_size=row["party_size"], area=_text(row["area"]), arrived_at=row["arrived_at"],
        left_at=row["left_at"], source=row["source"],
        ends_at=stay_end(row["arrived_at"], row["left_at"], default_stay_minutes),
    )


def overlap_seconds(start_a: int, end_a: int, start_b: int, end_b: int) -> int:
    """How long two intervals share; 0 when they only touch or are apart."""
    return max(0, min(end_a, end_b) - max(start_a, start_b))


@dataclass(frozen=True)
class Overlap:
    """A contact's stay that overlaps one of the case's stays (or a searched window)."""

    case_stay: Stay
    contact: Stay
    seconds: int

    @property
    def minutes(self) -> int:
        return self.seconds // 60


def fold_name(name: str) -> str:
    """A name as the case search compares it: case-folded, single spaces."""
    return " ".join(name.casefold().split())


def person_key(name: str, phone: str) -> tuple[str, str]:
    """Who a visit belongs to: a person is a name with a phone number (DESIGN.md).

    A family or group that shares one phone stays as many people as the names they gave;
    the same name written with other capitals or spaces is still one person.
    """
    return phone, fold_name(name)


@dataclass
class Person:
    """One name with one phone number, with all their overlaps."""

    phone: str
    overlaps: list[Overlap] = field(default_factory=list)

    @property
    def best(self) -> Overlap:
        return self.overlaps[0]

    @property
    def key(self) -> tuple[str, str]:
        return person_key(self.name, self.phone)

    @property
    def name(self) -> str:
        return self.best.contact.name

    @property
    def party_size(self) -> int:
        """The largest party this person registered: the people one call reaches."""
        return max(overlap.contact.party_size for overlap in self.overlaps)

    @property
    def total_minutes(self) -> int:
        return sum(overlap.seconds for overlap in self.overlaps) // 60


@dataclass
class Call:
    """One phone number to call, and every person who gave it: a shared number is called once."""

    phone: str
    people: list[Person]

    @property
    def names(self) -> list[str]:
        return [person.name for person in self.people]

    @property
    def party_size(self) -> int:
        return sum(person.party_size for person in self.people)

    @property
    def overlaps(self) -> list[Overlap]:
        """Every overlap of everyone on this number, longest first."""
        return sorted((overlap for person in self.people for overlap in person.overlaps),
                      key=lambda overlap: (-overlap.seconds, overlap.contact.arrived_at))


def calls_for(people: Iterable[Person]) -> list[Call]:
    """The people grouped by phone number, in the order of each number's first person."""
    calls: dict[str, Call] = {}
    for person in people:
        calls.setdefault(person.phone, Call(person.phone, [])).people.append(person)
    return list(calls.values())


@dataclass
class CaseStayResult:
    """One of the case's stays and the people whose longest overlap is with it."""

    stay: Stay
    people: list[Person]
    contact_count: int


@dataclass
class ContactResult:
    case_stays: list[CaseStayResult]
    people: list[Person]
    # People whose every overlap is shorter than MIN_OVERLAP_MINUTES: shown apart, never hidden.
    short: list[Person] = field(default_factory=list)

    @property
    def total_people(self) -> int:
        """People to reach, counting each registered party in full."""
        return sum(person.party_size for person in self.people)

    @property
    def calls(self) -> list[Call]:
        """The call list: one entry per phone number, with every name that gave it."""
        return calls_for(self.people)


def find_contacts(case_stays: Iterable[Stay], candidates: Iterable[Stay], min_overlap_minutes: int,
                  case_phones: Iterable[str] = ()) -> ContactResult:
    """Group the candidates that overlap a case stay long enough into people to call; the people
    whose every overlap is shorter are in `short`.

    A candidate is compared with every case stay at its venue. Visits of the case itself
    (same visit, the same person, or a searched phone of the case) are never contacts; someone
    else who gave the case's phone (a family member found by a search on the case's name) is.
    A person is a name with a phone number: each appears once, under the case stay of their
    longest overlap, with all their overlaps of at least the minimum, longest first.
    """
    case_stays = sorted(case_stays, key=lambda stay: (stay.arrived_at, stay.visit_id))
    found = _overlaps(case_stays, candidates, case_phones)
    minimum = min_overlap_minutes * 60
    long = [(key, overlap) for key, overlap in found if overlap.seconds >= minimum]
    result = _grouped(case_stays, long)
    long_enough = {key for key, _overlap in long}
    result.short = _grouped(case_stays, [(key, overlap) for key, overlap in found
                                         if key not in long_enough]).people
    return result


def _overlaps(case_stays: list[Stay], candidates: Iterable[Stay],
              case_phones: Iterable[str]) -> list[tuple[tuple[str, str], Overlap]]:
    """Every (person key, overlap) of a candidate with a case stay at its venue, each pair once.

    The one pass over the candidates: the case stays are looked up by venue, so a name search's
    many stays at many venues cost each candidate only the stays at its own venue
    (benchmarks/README.md, goal 5).
    """
    own_ids = {stay.visit_id for stay in case_stays}
    own_phones = set(case_phones)
    own_people = {person_key(stay.name, stay.phone) for stay in case_stays if stay.phone}
    at_venue: dict[int, list[Stay]] = {}
    for stay in case_stays:
        at_venue.setdefault(stay.venue_id, []).append(stay)
    seen: set[tuple[int, int]] = set()
    found = []
    for contact in candidates:
        stays = at_venue.get(contact.venue_id)
        if not stays or contact.visit_id in own_ids or contact.phone in own_phones:
            continue
        key = person_key(contact.name, contact.phone)
        if key in own_people:
            continue
        for case_stay in stays:
            seconds = overlap_seconds(case_stay.arrived_at, case_stay.ends_at, contact.arrived_at, contact.ends_at)
            if seconds > 0 and (case_stay.visit_id, contact.visit_id) not in seen:
                seen.add((case_stay.visit_id, contact.visit_id))
                found.append((key, Overlap(case_stay, contact, seconds)))
    return found


def _grouped(case_stays: list[Stay], overlaps: list[tuple[tuple[str, str], Overlap]]) -> ContactResult:
    """The overlaps as people (each under the case stay of their longest one) and per case stay."""
    people: dict[tuple[str, str], Person] = {}
    contacts_per_stay: dict[int, set[tuple[str, str]]] = {stay.visit_id: set() for stay in case_stays}
    for key, overlap in overlaps:
        contacts_per_stay[overlap.case_stay.visit_id].add(key)
        people.setdefault(key, Person(overlap.contact.phone)).overlaps.append(overlap)
    for person in people.values():
        person.overlaps.sort(key=lambda overlap: (-overlap.seconds, overlap.contact.arrived_at))
    # The dict's key is the person's key (Person.key folds the name again on every call).
    ordered = [people[key] for key in sorted(people, key=lambda key: (
        -people[key].best.seconds, -people[key].total_minutes, people[key].best.contact.arrived_at, key))]
    placed: dict[int, list[Person]] = {stay.visit_id: [] for stay in case_stays}
    for person in ordered:
        placed[person.best.case_stay.visit_id].append(person)
    results = [CaseStayResult(stay, placed[stay.visit_id], len(contacts_per_stay[stay.visit_id]))
               for stay in case_stays]
    return ContactResult(results, ordered)


def window_stay(venue_id: int, venue_slug: str, venue_name: str, start: int, end: int) -> Stay:
    """A searched venue window as a stay of its own (the case that never registered)."""
    return Stay(visit_id=0, venue_id=venue_id, venue_slug=venue_slug, venue_name=venue_name, name="",
                phone="", party_size=1, area=None, arrived_at=start, left_at=end, source="window",
                ends_at=end)


# --- reading from the database -------------------------------------------------------------

# Stays are looked for from this long before the window (or the case's stay): a guest who
# checked out more than a day after arriving forgot to, and is no reason to read every
# visit of the retention. It keeps each search to a day or two of one venue's visits.
LONGEST_STAY = 24 * 3600


@dataclass(frozen=True)
class Rules:
    """The settings the overlap rule depends on (from the app config, or a benchmark)."""

    retention_days: int = 14
    default_stay_minutes: int = 180
    min_overlap_minutes: int = 15

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Rules:
        return cls(config["RETENTION_DAYS"], config["DEFAULT_STAY_MINUTES"], config["MIN_OVERLAP_MINUTES"])

    def not_before(self, now: int) -> int:
        """Visits that arrived at or before this are past the retention."""
        return retention.not_before(now, self.retention_days)


def case_contacts(conn: sqlite3.Connection, rules: Rules, now: int, window_from: int, window_to: int,
                  phone: str | None = None, name: str | None = None) -> ContactResult:
    """The case's stays in the window (by phone, else by name) and everyone who overlapped them."""
    not_before = rules.not_before(now)
    arrived_after = max(not_before, window_from - LONGEST_STAY)
    stay_seconds = rules.default_stay_minutes * 60
    if phone:
        rows = queries.case_visits_by_phone(conn, phone, arrived_after, window_from, window_to, stay_seconds)
    else:
        rows = queries.case_visits_by_name(conn, fold_name(name or ""), arrived_after, window_from,
                                           window_to, stay_seconds)
    case_stays = [stay_from_row(row, rules.default_stay_minutes) for row in rows]
    candidates = []
    for stay in case_stays:
        rows = queries.visits_at_venue(conn, stay.venue_id, max(not_before, stay.arrived_at - LONGEST_STAY),
                                       stay.ends_at, stay.arrived_at, stay_seconds)
        candidates.extend(stay_from_row(row, rules.default_stay_minutes) for row in rows)
    return find_contacts(case_stays, candidates, rules.min_overlap_minutes, [phone] if phone else [])


def venue_contacts(conn: sqlite3.Connection, rules: Rules, now: int, venue: Mapping[str, Any],
                   window_from: int, window_to: int) -> ContactResult:
    """Everyone whose stay at the venue overlaps the window.

    The window stands for the case's own stay, so the same minimum overlap applies,
    or the whole window when it is shorter than that.
    """
    window = window_stay(venue["id"], venue["slug"], venue["name"], window_from, window_to)
    arrived_after = max(rules.not_before(now), window_from - LONGEST_STAY)
    rows = queries.visits_at_venue(conn, venue["id"], arrived_after, window_to, window_from,
                                   rules.default_stay_minutes * 60)
    candidates = [stay_from_row(row, rules.default_stay_minutes) for row in rows]
    minimum = min(rules.min_overlap_minutes, max(1, (window_to - window_from) // 60))
    return find_contacts([window], candidates, minimum)
