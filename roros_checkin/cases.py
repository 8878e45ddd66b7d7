"""Case work: a case reference opens (or continues) a case, whose contacts the tracers work through.

A contact line is one phone number of the case (people who share a phone are separate names under
one number, called once), with a state set in one tap. Each change carries the version it was
based on; when another tracer changed the line first, the change is refused (StaleUpdate), never
silently written over. There are no free-text notes: the outcomes are a short fixed set.
Every change goes into the audit log with the staff member, the case and the outcome, never a
name or a number.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import contacts, queries, sms
from .db import write_transaction

STATES = {
    "not_called": "Ikke ringt ennå",
    "reached": "Nådd",
    "not_reached": "Ikke nådd",
    "wrong_number": "Feil nummer",
    "sms": "Varslet på SMS",
}
# The states a tracer sets by tapping; "sms" is set when the gateway accepted the message.
TAPPED = ("reached", "not_reached", "wrong_number", "not_called")
NOTIFIED = ("reached", "sms")
LEFT = ("not_called", "not_reached")


class StaleUpdate(Exception):
    """Someone changed the contact line after the page the update came from was shown."""


@dataclass
class Link:
    """One visit of a contact that overlapped one of the case's visits."""

    name: str
    party_size: int
    area: str | None
    venue_name: str
    arrived_at: int
    ends_at: int
    estimated: bool
    minutes: int
    short: bool
    language: str | None


@dataclass
class ContactLine:
    """A phone number of the case, every name that gave it, and what has been done."""

    id: int
    phone: str
    state: str
    tries: int
    tried_at: int | None
    version: int
    updated_by: str | None
    updated_at: int | None
    sms_id: int | None
    sms_attempts: int
    sms_accepted_at: int | None
    sms_last_error: str | None
    links: list[Link] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        seen: dict[str, str] = {}
        for link in self.links:
            seen.setdefault(contacts.fold_name(link.name), link.name)
        return list(seen.values())

    @property
    def short(self) -> bool:
        """True when every overlap is shorter than the minimum: the tracer judges it."""
        return all(link.short for link in self.links)

    @property
    def best(self) -> Link:
        return max(self.links, key=lambda link: (link.minutes, -link.arrived_at))

    @property
    def state_label(self) -> str:
        return STATES[self.state]

    @property
    def notified(self) -> bool:
        return self.state in NOTIFIED

    @property
    def sms_queued(self) -> bool:
        return self.sms_id is not None and self.sms_accepted_at is None

    def can_get_sms(self) -> bool:
        return self.sms_id is None and self.state != "wrong_number"


@dataclass
class CaseWork:
    case: sqlite3.Row
    lines: list[ContactLine]

    @property
    def contacts(self) -> list[ContactLine]:
        return [line for line in self.lines if not line.short]

    @property
    def short(self) -> list[ContactLine]:
        return [line for line in self.lines if line.short]

    @property
    def people(self) -> int:
        """People (names under each number) among the contacts: a family on one phone counts in full."""
        return sum(len(line.names) for line in self.contacts)

    @property
    def people_notified(self) -> int:
        return sum(len(line.names) for line in self.contacts if line.notified)

    def count(self, state: str) -> int:
        return sum(1 for line in self.contacts if line.state == state)

    @property
    def left(self) -> list[ContactLine]:
        return [line for line in self.contacts if line.state in LEFT]

    @property
    def done(self) -> list[ContactLine]:
        return [line for line in self.contacts if line.state not in LEFT]

    def sms_candidates(self) -> list[ContactLine]:
        """Contacts not yet reached and not yet sent an SMS: what "SMS to everyone not reached" sends."""
        return [line for line in self.left if line.sms_id is None]

    def line(self, contact_id: int) -> ContactLine | None:
        return next((line for line in self.lines if line.id == contact_id), None)


def open_case(conn: sqlite3.Connection, case_ref: str, staff: str, result: contacts.ContactResult,
              short: list[contacts.Person], now: int) -> int:
    """Open the case of this reference, or continue it: add the result's contacts, keep every state."""
    with write_transaction(conn):
        case_id = queries.upsert_case(conn, case_ref, staff, now)
        for people, is_short in ((result.people, False), (short, True)):
            for person in people:
                contact_id = queries.upsert_case_contact(conn, case_id, person.phone)
                for overlap in person.overlaps:
                    case_visit = overlap.case_stay.visit_id or None  # a venue window is no visit
                    queries.upsert_case_contact_visit(conn, contact_id, overlap.contact.visit_id, case_visit,
                                                      overlap.seconds, is_short)
    return case_id


def case_work(conn: sqlite3.Connection, case: sqlite3.Row, rules: contacts.Rules, now: int) -> CaseWork:
    """The case's contact lines as they stand, each with its names and overlaps (inside the retention)."""
    lines: dict[int, ContactLine] = {}
    for row in queries.case_contact_lines(conn, case["id"], rules.not_before(now)):
        line = lines.get(row["contact_id"])
        if line is None:
            line = lines[row["contact_id"]] = ContactLine(
                id=row["contact_id"], phone=row["phone"], state=row["state"], tries=row["tries"],
                tried_at=row["tried_at"], version=row["version"], updated_by=row["updated_by"],
                updated_at=row["updated_at"], sms_id=row["sms_id"], sms_attempts=row["sms_attempts"] or 0,
                sms_accepted_at=row["sms_accepted_at"], sms_last_error=row["sms_last_error"])
        ends_at = contacts.stay_end(row["arrived_at"], row["left_at"], rules.default_stay_minutes)
        line.links.append(Link(
            name=row["name"], party_size=row["party_size"], area=row["area"], venue_name=row["venue_name"],
            arrived_at=row["arrived_at"], ends_at=ends_at, estimated=row["left_at"] is None,
            minutes=row["overlap_seconds"] // 60, short=bool(row["short"]), language=row["language"]))
    ordered = sorted(lines.values(), key=lambda line: (-line.best.minutes, line.best.arrived_at, line.id))
    return CaseWork(case, ordered)


def set_state(conn: sqlite3.Connection, case: sqlite3.Row, contact_id: int, version: int, state: str,
              staff: str, now: int) -> None:
    """Set a contact line's state, if nobody changed it since `version`; audit-logged with the outcome."""
    if state not in TAPPED:
        raise ValueError(f"unknown state {state!r}")
    with write_transaction(conn):
        if not queries.set_case_contact_state(conn, case["id"], contact_id, version, state, staff, now):
            raise StaleUpdate
        queries.insert_audit(conn, queries.AuditEntry(
            at=now, staff=staff, action="case_state", case_ref=case["case_ref"], result_count=1,
            detail=STATES[state]))


@dataclass(frozen=True)
class Message:
    contact_id: int
    phone: str
    language: str
    text: str


def messages_for(lines: list[ContactLine], config: Mapping[str, Any], zone) -> list[Message]:
    """One message per phone number, in the language of the visit it speaks of (its longest overlap)."""
    out = []
    for line in lines:
        best = line.best
        language = best.language if best.language in config["LANGUAGES"] else config["BABEL_DEFAULT_LOCALE"]
        text = sms.compose(sms.Visit(best.venue_name, best.arrived_at, language), config, zone)
        out.append(Message(line.id, line.phone, language, text))
    return out


def queue_sms(conn: sqlite3.Connection, case: sqlite3.Row, messages: list[Message], staff: str, now: int,
              detail: str) -> int:
    """Put the messages into the outbox (a line that has one already gets none); return how many went in."""
    with write_transaction(conn):
        queued = sum(queries.insert_sms(conn, message.contact_id, message.phone, message.language, message.text,
                                        staff, now) for message in messages)
        queries.insert_audit(conn, queries.AuditEntry(
            at=now, staff=staff, action="case_sms", case_ref=case["case_ref"], result_count=queued,
            detail=detail))
    return queued

