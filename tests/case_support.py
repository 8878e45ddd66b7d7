"""Helpers for the case-work and SMS tests: a case with contacts, searched and opened as a tracer does."""
from __future__ import annotations

import re

from conftest import hidden_fields
from tracing_data import add_visit

CASE_PHONE = "+4791234567"


def friday_case(conn, slug: str = "kaffestuggu") -> None:
    """The case at 18-20 on Thursday, two contacts (one a family of two on one phone), one short overlap."""
    add_visit(conn, slug, "Kari Nordmann", CASE_PHONE, "2026-11-19T18:00", "2026-11-19T20:00")
    add_visit(conn, slug, "Per Hansen", "+4798765432", "2026-11-19T19:00", "2026-11-19T21:00")
    add_visit(conn, slug, "Mor Berg", "+4741111111", "2026-11-19T18:30", "2026-11-19T19:30")
    add_visit(conn, slug, "Sønn Berg", "+4741111111", "2026-11-19T18:30", "2026-11-19T19:30")
    add_visit(conn, slug, "Kort Besøk", "+4741234567", "2026-11-19T19:50", "2026-11-19T21:00")


def open_case(client, case_ref: str = "2026/17", phone: str = CASE_PHONE) -> str:
    """Search the case, follow the result's link to the case page; the case page's path."""
    token = hidden_fields(client.get("/tracing/case").get_data(as_text=True))
    html = client.post("/tracing/case", data={**token, "phone": phone, "case_ref": case_ref,
                                              "onset": "2026-11-20"}).get_data(as_text=True)
    return re.search(r'href="(/tracing/cases/\d+)"', html).group(1)


def tap_forms(html: str) -> list[dict]:
    """Every one-tap state form of a case page: action, state, version, token."""
    forms = []
    for action, body in re.findall(r'<form method="post" action="(/tracing/cases/\d+/contacts/\d+)">(.*?)</form>',
                                   html, re.S):
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', body))
        forms.append({"action": action, **fields})
    return forms


def tap(client, html: str, name: str, state: str):
    """Tap the button of `state` on the line that shows `name`."""
    line = re.search(r'<li class="contact-line[^"]*" id="c(\d+)">(?:(?!</li>\s*</?ol|<li class="contact-line).)*?'
                     + re.escape(name), html, re.S)
    contact = line.group(1)
    form = next(f for f in tap_forms(html) if f["action"].endswith(f"/contacts/{contact}") and f["state"] == state)
    return client.post(form["action"], data={key: form[key] for key in ("csrf_token", "state", "version")})
