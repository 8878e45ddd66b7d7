"""Rate limits on check-in POSTs: stop a script flooding a venue, never a busy venue or a crowd.

The limits are counted in memory (one waitress process) over sliding windows and forgotten
within the hour: client addresses are never written anywhere, least of all beside a visit.
The address is REMOTE_ADDR as waitress sets it: the peer, or what the configured reverse proxy
(TRUSTED_PROXY, the one place forwarded headers are trusted) says; a client cannot choose it.

Why these numbers (Røros: cafés, restaurants and bars of 20 to 150 seats):

- QR form, one address at one venue: 20 a minute and 100 an hour. Behind carrier-grade NAT a
  whole tour group can share one mobile address and scan the poster in the same minute; 20 a
  minute is a busload, 100 an hour more guests than most venues seat. A script doing better
  than that is not a crowd.
- QR form, one address over all venues: 60 a minute. A crowd is at one place at a time.
- Kiosk (the venue's tablet, one address by design): 10 a minute, 300 an hour, counted apart
  from the QR form so the tablet and the guests' phones on the venue's Wi-Fi never share a
  budget. A person needs well over 6 seconds to type a name and a phone number on a tablet,
  so 10 a minute never stops a queue; it does stop a script using the kiosk path.
- One venue from everyone: 120 a minute, several times the busiest door in town; it caps
  a flood spread over many addresses.

Refused attempts are not counted, so a flood from one address never uses up a venue's
budget for others. RATELIMIT_ENABLED = False switches all of this off (benchmarks).
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

from flask import Flask, current_app, request
from werkzeug.exceptions import TooManyRequests

from . import times


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


QR_ADDRESS_VENUE = (Limit(20, 60), Limit(100, 3600))
QR_ADDRESS = (Limit(60, 60),)
KIOSK_ADDRESS_VENUE = (Limit(10, 60), Limit(300, 3600))
VENUE = (Limit(120, 60),)
LONGEST = 3600

# Anomaly for the tracing team (not a limit): this many check-ins from one address at one venue
# within BURST_WINDOW. A kiosk is one address by design, so its bar is set at tablet speed.
BURST_WINDOW = 600
ADDRESS_BURST = {"qr": 10, "kiosk": 40}
# How long the bursts (counts and times only, no address) are remembered for the activity page.
BURST_MEMORY = 24 * 3600
MAX_KEYS = 100_000

ENDPOINTS = {"checkin.venue_form": "qr", "checkin.kiosk": "kiosk"}


@dataclass
class AddressBurst:
    """Many check-ins from one (unnamed) client address at one venue."""

    venue_slug: str
    source: str
    first: int
    last: int
    count: int


@dataclass
class CheckinLimiter:
    """Sliding-window counters per key, plus the address bursts they reveal."""

    hits: dict[tuple, deque] = field(default_factory=dict)
    bursts: deque = field(default_factory=lambda: deque(maxlen=1000))
    open_bursts: dict[tuple, AddressBurst] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: tuple, seconds: int, now: int) -> int:
        stamps = self.hits.get(key)
        if not stamps:
            return 0
        return sum(1 for stamp in stamps if stamp > now - seconds)

    def _prune(self, now: int) -> None:
        for key in [key for key, stamps in self.hits.items() if not stamps or stamps[-1] <= now - LONGEST]:
            del self.hits[key]
        for key in [key for key, burst in self.open_bursts.items() if burst.last <= now - BURST_WINDOW]:
            del self.open_bursts[key]
        while self.bursts and self.bursts[0].last <= now - BURST_MEMORY:
            self.bursts.popleft()

    def hit(self, address: str, slug: str, source: str, now: int) -> int:
        """Count one check-in POST; return 0 if allowed, else the seconds to wait."""
        if source == "kiosk":
            rules = [(("kiosk", address, slug), KIOSK_ADDRESS_VENUE)]
        else:
            rules = [(("qr", address, slug), QR_ADDRESS_VENUE), (("qr-all", address), QR_ADDRESS)]
        rules.append((("venue", slug), VENUE))
        with self.lock:
            if len(self.hits) > MAX_KEYS:
                self._prune(now)
            wait = 0
            for key, limits in rules:
                for limit in limits:
                    if self._recent(key, limit.seconds, now) >= limit.count:
                        stamps = self.hits[key]
                        oldest_inside = next(stamp for stamp in stamps if stamp > now - limit.seconds)
                        wait = max(wait, oldest_inside + limit.seconds - now)
            if wait:
                return wait
            for key, _limits in rules:
                self.hits.setdefault(key, deque()).append(now)
                while self.hits[key][0] <= now - LONGEST:
                    self.hits[key].popleft()
            self._note_burst(address, slug, source, now)
            return 0

    def _note_burst(self, address: str, slug: str, source: str, now: int) -> None:
        recent = self._recent((source, address, slug), BURST_WINDOW, now)
        if recent < ADDRESS_BURST[source]:
            return
        burst = self.open_bursts.get((source, address, slug))
        if burst is None or burst.last <= now - BURST_WINDOW:
            burst = AddressBurst(slug, source, now, now, recent)
            self.open_bursts[(source, address, slug)] = burst
            self.bursts.append(burst)
        else:
            burst.last, burst.count = now, burst.count + 1

    def bursts_at(self, slug: str, start: int, end: int) -> list[AddressBurst]:
        with self.lock:
            return [burst for burst in self.bursts
                    if burst.venue_slug == slug and burst.last >= start and burst.first < end]


def limiter(app: Flask | None = None) -> CheckinLimiter:
    return (app or current_app).extensions["roros_ratelimit"]


def limit_checkins() -> None:
    """Before a check-in POST: answer 429 (the guest's language, with Retry-After) past a limit."""
    source = ENDPOINTS.get(request.endpoint or "")
    if source is None or request.method != "POST" or not current_app.config["RATELIMIT_ENABLED"]:
        return
    slug = (request.view_args or {}).get("slug", "")
    if len(slug) > 64:
        return  # no such venue; the view answers 404
    wait = limiter().hit(request.remote_addr or "unknown", slug, source, times.now())
    if wait:
        current_app.logger.warning("check-in rate limit at %s (%s) for %d s", slug, source, wait)
        raise TooManyRequests(retry_after=wait)


def init_app(app: Flask) -> None:
    app.extensions["roros_ratelimit"] = CheckinLimiter()
    app.before_request(limit_checkins)
