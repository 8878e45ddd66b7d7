"""Limits on check-in POSTs, set by what abuse costs the register, never by what a crowd looks like.

Only a plausible check-in is looked at: a POST of a form with a well-formed idempotency key, a
name and a phone, to an existing, active venue. Anything else (no body, a broken key, a 404 or a
closed venue) is answered by the view and never touches the counters: it neither uses up a real
guest's budget nor creates limiter state. And only a check-in that stored a row is counted: a
guest's mistake (400), a re-sent form and a refused attempt cost the register nothing, so they
count for nothing.

Counting is Flask-Limiter's, in memory, one store per app, with its sliding-window counter: two
counters per key and window, each deleted once its window has passed, so the state is at most a
few counters per client that stored a check-in in the last two hours, and a check-in's cost does
not grow with it. (Its moving window keeps an empty list for every key it ever saw: not that.)
The counters hold client addresses for at most two hours and only in this process's memory; they are never written anywhere, least of all beside a visit. The address is REMOTE_ADDR
as waitress sets it (the peer, or what the configured TRUSTED_PROXY forwarded; a client cannot
choose it), and an IPv6 address counts as its /64, the network one subscriber gets.

Why these numbers (Røros: cafés, restaurants and bars of 20 to 150 seats; a mobile carrier puts
many phones behind one IPv4 address, carrier-grade NAT):

- QR form, one address at one venue: 60 stored check-ins a minute, 600 an hour. Thirty guests
  a minute from one carrier address must all get in (a tour bus emptying at the door), and
  the bound is twice that so a crowd never meets it; 600 an hour is four times the seats of the
  largest restaurant in town. A script doing better than that is not a crowd.
- QR form, one address over all venues: 120 a minute, 1,200 an hour: twice one venue's bound,
  for the Friday evening when one carrier address serves guests at several venues at once.
- Kiosk (the venue's tablet, one address by design): 20 a minute, 600 an hour, counted apart
  from the QR form so the tablet and the phones on the venue's Wi-Fi never share a budget. A
  person needs well over 6 seconds to type a name and a phone number on a tablet, so one
  tablet makes at most 10 a minute; 20 lets two tablets share the venue's address.
- No budget for a whole venue: a budget every client shares is one anybody can spend, and
  spending it would shut the venue for its real guests. What a flood costs is bounded per
  address above and per phone below, and it stays visible on the activity page (anomalies.py
  counts stored rows: a burst at a venue is shown, whoever sent it).
- One phone number at more than PHONE_VENUES = 3 venues within PHONE_WINDOW = 10 minutes is
  refused after the third. The centre of Røros is a few minutes' walk across: a guest who
  moves on checks in at the next place, and three in ten minutes also allows for a poster
  scanned by mistake at the neighbour's door. A fourth is not someone's evening but a number
  written into many registers (whose owner the tracing team would then call for every case).
  This is counted from the stored visits in the database (queries.recent_venues_of_phone),
  inside the write transaction that stores the visit, so it holds across processes.

Requests running at the same moment are tested together and counted after their response, so
a burst can pass a bound by at most the number of server threads. RATELIMIT_ENABLED = False
switches all of this off (benchmarks); `flask check-deploy` flags it.
"""
from __future__ import annotations

import ipaddress
import logging
import time

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limit, Limiter, RateLimitExceeded

from . import errors, queries
from .db import get_db
from .forms import IDEMPOTENCY_KEY

QR_ADDRESS_VENUE = "60 per minute; 600 per hour"
QR_ADDRESS = "120 per minute; 1200 per hour"
KIOSK_ADDRESS_VENUE = "20 per minute; 600 per hour"
PHONE_VENUES = 3
PHONE_WINDOW = 600

ENDPOINTS = {"checkin.venue_form": "qr", "checkin.kiosk": "kiosk"}
EXTENSION = "roros_limiter"
# A key longer than any address: a proxy that forwards something else counts it, truncated.
ADDRESS_MAX = 64

log = logging.getLogger(__name__)


def client_address() -> str:
    """The client's address as counted: IPv4 as it is, IPv6 as its /64."""
    address = (request.remote_addr or "unknown")[:ADDRESS_MAX]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _address_at_venue() -> str:
    return f"{client_address()} {request.view_args['slug']}"


def plausible_checkin() -> bool:
    """A POST that could be a guest's check-in: form, key, name and phone, to an open venue.

    Decided once per request (each limit asks), and before any counter is looked at.
    """
    if "roros_plausible_checkin" not in g:
        g.roros_plausible_checkin = _plausible()
    return g.roros_plausible_checkin


def _plausible() -> bool:
    if request.method != "POST" or request.endpoint not in ENDPOINTS:
        return False
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return False
    form = request.form
    if not IDEMPOTENCY_KEY.fullmatch(form.get("idempotency_key", "")):
        return False
    if not form.get("name", "").strip() or not form.get("phone", "").strip():
        return False
    slug = (request.view_args or {}).get("slug", "")
    venue = queries.venue_by_slug(get_db(), slug) if len(slug) <= 64 else None
    return venue is not None and bool(venue["active"])


def _not_a_checkin_post() -> bool:
    return request.method != "POST" or request.endpoint not in ENDPOINTS


def _not_checkin_at(source: str):
    def exempt() -> bool:
        return ENDPOINTS.get(request.endpoint or "") != source or not plausible_checkin()
    return exempt


def count_stored_checkin() -> None:
    """Called by the view once a check-in stored a row: only such a check-in is counted."""
    g.roros_checkin_stored = True


def _stored(_response: Response) -> bool:
    return g.get("roros_checkin_stored", False)


def _limits() -> list[Limit]:
    def rule(limits: str, key, source: str) -> Limit:
        return Limit(limits, key_function=key, exempt_when=_not_checkin_at(source), deduct_when=_stored)

    return [rule(QR_ADDRESS_VENUE, _address_at_venue, "qr"),
            rule(QR_ADDRESS, client_address, "qr"),
            rule(KIOSK_ADDRESS_VENUE, _address_at_venue, "kiosk")]


def limiter(app: Flask | None = None) -> Limiter:
    return (app or current_app).extensions[EXTENSION]


def too_many(error: RateLimitExceeded):
    """The 429 page in the guest's language, with the seconds until the window lets one more in."""
    current = limiter().current_limit
    wait = 60
    if current is not None:  # reset_at is rounded up a second: never say more than the window
        wait = max(1, min(int(current.reset_at - time.time()), current.limit.get_expiry()))
    source = ENDPOINTS.get(request.endpoint or "", "?")
    log.warning("check-in rate limit at %r (%s): %s, %d s", (request.view_args or {}).get("slug"), source,
                error.limit.limit, wait)
    body, status = errors.render_error(429)
    return body, status, {"Retry-After": str(wait)}


def init_app(app: Flask) -> None:
    # One limiter (and one in-memory store) per app: apps in one process never share counters.
    limiter_ = Limiter(client_address, default_limits=_limits(), storage_uri="memory://",
                       strategy="sliding-window-counter", headers_enabled=False)
    # Every other request (pages, assets, the tracing side) skips the limits before they are looked up.
    limiter_.request_filter(_not_a_checkin_post)
    limiter_.init_app(app)
    app.extensions[EXTENSION] = limiter_
    app.register_error_handler(RateLimitExceeded, too_many)
    # Flask-Limiter logs each refusal with its key, i.e. the client's address: not in this log.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
