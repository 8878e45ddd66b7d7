"""The overlap rule: edge cases of who counts as a contact, on plain stays and through the database."""
from __future__ import annotations

from roros_checkin import contacts
from roros_checkin.contacts import Rules, Stay, find_contacts, overlap_seconds, stay_end

from tracing_data import add_visit, at

CASE_PHONE = "+4791234567"


def stay(visit_id: int, arrived: str, left: str | None = None, phone: str | None = None, party_size: int = 1,
         venue_id: int = 1, name: str | None = None) -> Stay:
    arrived_at = at(arrived)
    left_at = at(left) if left else None
    return Stay(visit_id=visit_id, venue_id=venue_id, venue_slug="kaffestuggu", venue_name="Kaffestuggu",
                name=name or f"Gjest {visit_id}", phone=phone or f"+479000{visit_id:04d}", party_size=party_size,
                area=None, arrived_at=arrived_at, left_at=left_at, source="qr",
                ends_at=stay_end(arrived_at, left_at, 180))


def people(case: Stay, *others: Stay, minimum: int = 15) -> list[contacts.Person]:
    return find_contacts([case], others, minimum).people


def test_touching_intervals_are_no_contact():
    case = stay(1, "2026-11-19T18:00", "2026-11-19T19:00", phone=CASE_PHONE)
    assert overlap_seconds(case.arrived_at, case.ends_at, case.ends_at, case.ends_at + 3600) == 0
    assert people(case, stay(2, "2026-11-19T19:00", "2026-11-19T20:00")) == []
    assert people(case, stay(3, "2026-11-19T17:00", "2026-11-19T18:00")) == []


def test_fourteen_minutes_is_no_contact_fifteen_is():
    case = stay(1, "2026-11-19T18:00", "2026-11-19T19:00", phone=CASE_PHONE)
    assert people(case, stay(2, "2026-11-19T18:46", "2026-11-19T20:00")) == []
    found = people(case, stay(3, "2026-11-19T18:45", "2026-11-19T20:00"))
    assert [p.best.minutes for p in found] == [15]


def test_no_check_out_on_either_side_uses_the_default_stay():
    case = stay(1, "2026-11-19T18:00", phone=CASE_PHONE)  # estimated end 21:00
    assert case.estimated and case.ends_at == at("2026-11-19T21:00")
    found = people(case, stay(2, "2026-11-19T20:45"), stay(3, "2026-11-19T20:46"))
    assert [(p.best.contact.visit_id, p.best.minutes, p.best.contact.estimated) for p in found] == [(2, 15, True)]


def test_no_check_out_on_the_case_side_only():
    case = stay(1, "2026-11-19T18:00", phone=CASE_PHONE)
    found = people(case, stay(2, "2026-11-19T20:30", "2026-11-19T23:00"))
    assert found[0].best.minutes == 30


def test_stay_across_midnight():
    case = stay(1, "2026-11-19T23:00", "2026-11-20T01:00", phone=CASE_PHONE)
    found = people(case, stay(2, "2026-11-20T00:30", "2026-11-20T02:00"))
    assert found[0].best.minutes == 30


def test_stay_across_the_autumn_clock_change_counts_real_minutes():
    # 2026-10-25: 03:00 summer time becomes 02:00 winter time. The case stays from 01:00
    # summer time until 02:10 winter time: 130 real minutes.
    case = stay(1, "2026-10-25T01:00", phone=CASE_PHONE)
    case = Stay(**{**case.__dict__, "left_at": at("2026-10-25T01:00") + 130 * 60,
                   "ends_at": at("2026-10-25T01:00") + 130 * 60})
    contact = stay(2, "2026-10-25T02:05")  # read as summer time: 00:05 UTC
    found = people(case, contact)
    # By the wall clock it looks like 5 minutes; in real time they shared 65.
    assert found[0].best.minutes == 65


def test_stay_across_the_spring_clock_change_counts_real_minutes():
    # 2026-03-29: 02:00 winter time becomes 03:00 summer time; 01:30–03:30 is one real hour.
    case = stay(1, "2026-03-29T01:30", "2026-03-29T03:30", phone=CASE_PHONE)
    assert case.ends_at - case.arrived_at == 3600
    found = people(case, stay(2, "2026-03-29T01:00", "2026-03-29T04:00"))
    assert found[0].best.minutes == 60


def test_party_of_six_counts_six_people():
    case = stay(1, "2026-11-19T18:00", "2026-11-19T20:00", phone=CASE_PHONE)
    result = find_contacts([case], [stay(2, "2026-11-19T18:00", party_size=6), stay(3, "2026-11-19T19:00")], 15)
    assert [p.party_size for p in result.people] == [6, 1]
    assert result.total_people == 7


def test_other_venue_is_no_contact():
    case = stay(1, "2026-11-19T18:00", "2026-11-19T20:00", phone=CASE_PHONE)
    assert people(case, stay(2, "2026-11-19T18:00", venue_id=2)) == []


def test_the_case_is_not_its_own_contact():
    case = stay(1, "2026-11-19T18:00", "2026-11-19T20:00", phone=CASE_PHONE, name="Kari Nordmann")
    # The case's own visit, and another visit of the same person (name written differently).
    assert people(case, case, stay(2, "2026-11-19T18:30", phone=CASE_PHONE, name="kari  NORDMANN")) == []
    # A searched phone of the case is never a contact, whoever gave it.
    assert find_contacts([case], [stay(3, "2026-11-19T18:30", phone=CASE_PHONE)], 15, [CASE_PHONE]).people == []


def test_someone_else_on_the_case_phone_is_a_person_of_their_own():
    case = stay(1, "2026-11-19T18:00", "2026-11-19T20:00", phone=CASE_PHONE, name="Mor Hansen")
    found = people(case, stay(2, "2026-11-19T18:30", phone=CASE_PHONE, name="Sønn Hansen"))
    assert [p.name for p in found] == ["Sønn Hansen"]


def test_a_shared_phone_is_as_many_people_as_names_and_one_call():
    case = stay(1, "2026-11-19T18:00", "2026-11-19T20:00", phone=CASE_PHONE)
    family = "+4798765432"
    result = find_contacts([case], [stay(2, "2026-11-19T18:00", phone=family, name="Mor Hansen"),
                                    stay(3, "2026-11-19T18:30", phone=family, name="Sønn Hansen", party_size=3),
                                    stay(4, "2026-11-19T18:30", "2026-11-19T18:50", name="Per Olsen")], 15)
    assert [p.name for p in result.people] == ["Mor Hansen", "Sønn Hansen", "Per Olsen"]
    assert result.total_people == 5 and result.case_stays[0].contact_count == 3
    assert [(call.phone, call.names, call.party_size) for call in result.calls] == [
        (family, ["Mor Hansen", "Sønn Hansen"], 4), ("+4790000004", ["Per Olsen"], 1)]


def test_same_person_at_two_case_visits_appears_once_with_both_overlaps():
    first = stay(1, "2026-11-18T12:00", "2026-11-18T13:00", phone=CASE_PHONE)
    second = stay(2, "2026-11-19T18:00", "2026-11-19T20:00", phone=CASE_PHONE)
    friend = "+4798765432"
    result = find_contacts([first, second], [stay(3, "2026-11-18T12:30", "2026-11-18T14:00", phone=friend,
                                                  name="Per Hansen"),
                                             stay(4, "2026-11-19T18:00", "2026-11-19T19:30", phone=friend,
                                                  name="Per Hansen"),
                                             stay(5, "2026-11-19T19:00", "2026-11-19T19:20")], 15)
    assert [p.phone for p in result.people] == [friend, "+4790000005"]
    person = result.people[0]
    assert [o.minutes for o in person.overlaps] == [90, 30]
    # Placed once, under the visit of the longest overlap; the other visit still counts them.
    assert [len(item.people) for item in result.case_stays] == [0, 2]
    assert [item.contact_count for item in result.case_stays] == [1, 2]


def test_contacts_sorted_by_overlap():
    case = stay(1, "2026-11-19T18:00", "2026-11-19T21:00", phone=CASE_PHONE)
    result = find_contacts([case], [stay(2, "2026-11-19T20:00"), stay(3, "2026-11-19T18:00"),
                                    stay(4, "2026-11-19T20:30")], 15)
    assert [p.best.minutes for p in result.people] == [180, 60, 30]


def test_database_search_finds_contact_after_midnight_and_by_name(app, conn, venue, clock):
    add_visit(conn, "kaffestuggu", "Kari Nordmann", CASE_PHONE, "2026-11-19T23:00", "2026-11-20T01:00")
    add_visit(conn, "kaffestuggu", "Per Hansen", "+4798765432", "2026-11-20T00:30", "2026-11-20T02:00", party_size=6)
    window = (at("2026-11-17T00:00"), clock.now)
    by_phone = contacts.case_contacts(conn, Rules(), int(clock.now), *window, phone=CASE_PHONE)
    by_name = contacts.case_contacts(conn, Rules(), int(clock.now), *window, name="kari  NORDMANN")
    for result in (by_phone, by_name):
        assert [(p.name, p.best.minutes) for p in result.people] == [("Per Hansen", 30)]
        assert result.total_people == 6


def test_database_search_never_shows_visits_past_retention(app, conn, venue, clock):
    too_old = int(clock.now) - 14 * 86400
    add_visit(conn, "kaffestuggu", "Kari Nordmann", CASE_PHONE, too_old - 3600)
    add_visit(conn, "kaffestuggu", "Per Hansen", "+4798765432", too_old - 3600)
    add_visit(conn, "kaffestuggu", "Ola Berg", "+4741234567", too_old + 60)
    result = contacts.case_contacts(conn, Rules(), int(clock.now), too_old - 86400, int(clock.now),
                                    phone=CASE_PHONE)
    assert result.case_stays == [] and result.people == []
    # The case's later visit is inside the retention; the contact who arrived before it is not.
    add_visit(conn, "kaffestuggu", "Kari Nordmann", CASE_PHONE, too_old + 120)
    result = contacts.case_contacts(conn, Rules(), int(clock.now), too_old - 86400, int(clock.now),
                                    phone=CASE_PHONE)
    assert [p.name for p in result.people] == ["Ola Berg"]
