"""The case result's timeline: one SVG per case stay, a bar per contact, estimated ends drawn as such."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from conftest import hidden_fields
from roros_checkin import contacts, timeline
from tracing_data import OSLO, add_visit, at

SVG = "{http://www.w3.org/2000/svg}"
CASE_PHONE = "+4791234567"


def case_result(client, **fields) -> str:
    token = hidden_fields(client.get("/tracing/case").get_data(as_text=True))
    data = {**token, "phone": "912 34 567", "case_ref": "2026/17", "onset": "2026-11-20", **fields}
    response = client.post("/tracing/case", data=data)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def svgs(html: str) -> list[ET.Element]:
    """Each inline SVG of the page, parsed as XML (so a broken drawing fails here)."""
    found = re.findall(r"<svg class=\"timeline\".*?</svg>", html, re.S)
    return [ET.fromstring(text.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)) for text in found]


def bars(svg: ET.Element) -> list[ET.Element]:
    return [g for g in svg.iter(f"{SVG}g") if "bar" in g.get("class", "").split()]


def two_evenings(conn) -> None:
    # The case at two visits; a contact who checked out, one who did not, one with a short overlap.
    add_visit(conn, "kaffestuggu", "Kari Nordmann", CASE_PHONE, "2026-11-19T18:00", "2026-11-19T20:00")
    add_visit(conn, "kaffestuggu", "Per Hansen", "+4798765432", "2026-11-19T19:00")
    add_visit(conn, "kaffestuggu", "Åse Øvrebø", "+46701234567", "2026-11-19T17:30", "2026-11-19T18:20")
    add_visit(conn, "kaffestuggu", "Kari Nordmann", CASE_PHONE, "2026-11-20T12:00", "2026-11-20T13:00")
    add_visit(conn, "kaffestuggu", "Ola Berg", "+4741234567", "2026-11-20T12:30", "2026-11-20T14:00")


def test_each_case_stay_has_a_timeline_with_a_bar_per_contact(staff_client, conn, venue):
    two_evenings(conn)
    html = case_result(staff_client)
    pictures = svgs(html)
    assert len(pictures) == 2
    first, second = pictures
    labels = [bar.find(f"{SVG}text").text for bar in bars(first)]
    # The case first, then contacts by arrival, numbered as in the table below.
    assert labels == ["Smittet", "2. Åse Øvrebø", "1. Per Hansen"]
    assert [bar.find(f"{SVG}text").text for bar in bars(second)] == ["Smittet", "3. Ola Berg"]
    # Bars stand where their times are: Per arrives (19:00) after Åse (17:30) and ends later.
    rects = {bar.find(f"{SVG}text").text: bar.find(f"{SVG}rect") for bar in bars(first)}
    assert float(rects["1. Per Hansen"].get("x")) > float(rects["2. Åse Øvrebø"].get("x"))
    assert float(rects["Smittet"].get("x")) > float(rects["2. Åse Øvrebø"].get("x"))


def test_estimated_ends_are_drawn_as_estimated_and_explained(staff_client, conn, venue):
    two_evenings(conn)
    first = svgs(case_result(staff_client))[0]
    by_label = {bar.find(f"{SVG}text").text: bar for bar in bars(first)}
    per = by_label["1. Per Hansen"]  # no check-out
    assert "estimated" in per.get("class").split()
    stay = per.find(f"{SVG}rect")
    assert stay.get("stroke-dasharray") and stay.get("fill").startswith("url(#timeline-1-hatch")
    ase = by_label["2. Åse Øvrebø"]  # checked out
    assert "estimated" not in ase.get("class").split()
    assert ase.find(f"{SVG}rect").get("stroke-dasharray") is None
    assert first.find(f"{SVG}defs/{SVG}pattern[@id='timeline-1-hatch-contact']") is not None
    # The legend says what the hatching means, with the configured default stay.
    assert "skravert, stiplet: ikke sjekket ut, slutt anslått (180 min etter ankomst)" in case_result(staff_client)


def test_the_timeline_has_an_accessible_name_and_description(staff_client, conn, venue):
    two_evenings(conn)
    html = case_result(staff_client)
    first = svgs(html)[0]
    assert first.get("role") == "img"
    title_id, desc_id = first.get("aria-labelledby").split()
    assert first.find(f"{SVG}title").get("id") == title_id
    assert first.find(f"{SVG}title").text.startswith("Tidslinje, Kaffestuggu tor 19.11. 18:00–20:00")
    desc = first.find(f"{SVG}desc")
    assert desc.get("id") == desc_id and "Tabellen over har de samme opplysningene" in desc.text
    # Ids are unique on the page, and no style attribute (the CSP would block it).
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert " style=" not in html


def test_hour_ticks_are_labelled_in_norwegian_time(staff_client, conn, venue):
    two_evenings(conn)
    first = svgs(case_result(staff_client))[0]
    axis = next(g for g in first.iter(f"{SVG}g") if g.get("class") == "axis")
    labels = [text.text for text in axis.iter(f"{SVG}text")]
    # Åse 17:30 is the earliest arrival, Per's estimated end 22:00 the latest.
    assert labels[0] == "17:00" and labels[-1] == "22:00"


def stay(visit_id: int, arrived: str, left: str | None, phone: str = "+4798765432", name: str = "Per Hansen"):
    arrived_at, left_at = at(arrived), at(left) if left else None
    return contacts.Stay(visit_id=visit_id, venue_id=1, venue_slug="kaffestuggu", venue_name="Kaffestuggu",
                         name=name, phone=phone, party_size=1, area=None, arrived_at=arrived_at, left_at=left_at,
                         source="qr", ends_at=contacts.stay_end(arrived_at, left_at, 180))


def test_a_short_overlap_is_marked_short():
    case = stay(1, "2026-11-19T18:00", "2026-11-19T20:00", phone=CASE_PHONE, name="Kari Nordmann")
    contact = stay(2, "2026-11-19T19:50", "2026-11-19T21:00")
    overlap = contacts.Overlap(case, contact, contacts.overlap_seconds(case.arrived_at, case.ends_at,
                                                                        contact.arrived_at, contact.ends_at))
    picture = timeline.build(case, [("(kort) Per Hansen", overlap)], 15, OSLO)
    assert [bar.short for bar in picture.bars] == [False, True] and picture.short == 1
    assert picture.bars[1].overlap_minutes == 10


def test_hour_ticks_follow_local_time_across_the_end_of_summer_time():
    # 2026-10-25: clocks go back at 03:00 to 02:00; a stay from 01:30 to 04:30 (local, winter time).
    start = at("2026-10-25T01:30")
    case = contacts.Stay(visit_id=1, venue_id=1, venue_slug="v", venue_name="V", name="K", phone=CASE_PHONE,
                         party_size=1, area=None, arrived_at=start, left_at=start + 4 * 3600, source="qr",
                         ends_at=start + 4 * 3600)
    picture = timeline.build(case, [], 15, OSLO)
    labels = [tick.label for tick in picture.ticks]
    # Five real hours, the hour 02:00 twice: the axis is honest about the repeated hour.
    assert labels == ["01:00", "02:00", "02:00", "03:00", "04:00", "05:00"]
