"""Fill a database, built by the project's own migrations, with made-up visits.

    .venv/bin/python benchmarks/fill_visits.py /tmp/bench.sqlite3 --visits 10000000

Defaults: 10 million visits at 5,000 venues over the last 14 days, opening hours 10–24
with lunch and evening peaks, realistic party sizes, a third checked out, a few kiosk,
afterwards and paper visits, guests who come back. Every name and number is invented. Each row has
what the check-in stores: an idempotency key as long as the form's (24 characters), a receipt hash
(64 hex digits) and the consent version, so the file's size per visit is the register's.

Fast bulk insert: one connection with synchronous=OFF (a benchmark file, not the register),
the three search indexes dropped during the insert and built again afterwards from the
migration's own definitions, 100,000 rows per executemany and transaction.
"""
from __future__ import annotations

import argparse
import base64
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from roros_checkin import db, queries  # noqa: E402

OSLO = ZoneInfo("Europe/Oslo")
CHUNK = 100_000
FIRST_NAMES = ("Kari", "Ola", "Per", "Anne", "Ingrid", "Lars", "Sofie", "Jonas", "Åse", "Øystein", "Lena",
               "Marius", "Sara", "Emil", "Nora", "Jakob", "Ida", "Henrik", "Maja", "Tobias")
LAST_NAMES = ("Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Berg", "Haugen", "Bakken", "Øvrebø",
              "Moen", "Dahl", "Lie", "Strand", "Aas", "Brekke", "Sæther", "Holm", "Lund", "Eriksen", "Vik")
SYLLABLES = ("dal", "berg", "vik", "haug", "lund", "bakk", "moe", "rud", "li", "stad")
# Arrivals per opening hour 10:00–23:59: a lunch peak and a bigger evening peak.
HOURS = tuple(range(10, 24))
HOUR_WEIGHTS = (2, 5, 9, 8, 4, 3, 4, 8, 10, 9, 7, 5, 3, 2)
PARTY_SIZES = (1, 2, 3, 4, 5, 6, 8)
PARTY_WEIGHTS = (40, 30, 10, 10, 3, 5, 2)
SOURCES = ("qr", "kiosk", "retro", "paper")
SOURCE_WEIGHTS = (85, 8, 5, 2)
CONSENT_VERSION = "2026-11-1"


@dataclass(frozen=True)
class FillResult:
    visits: int
    venues: int
    days: int
    now: int
    seconds: float


def _day_starts(now: int, days: int) -> list[int]:
    """Local midnights of the `days` days before today (yesterday first)."""
    today = datetime.fromtimestamp(now, OSLO).date()
    starts = []
    for back in range(1, days + 1):
        day = today - timedelta(days=back)
        starts.append(int(datetime(day.year, day.month, day.day, tzinfo=OSLO).timestamp()))
    return starts


def _visit_rows(count: int, venues: int, day_starts: list[int], rng: random.Random) -> Iterator[tuple]:
    phones = max(count // 5, 1000)  # guests come back: about five visits per phone number
    hours = rng.choices(HOURS, HOUR_WEIGHTS, k=4096)
    parties = rng.choices(PARTY_SIZES, PARTY_WEIGHTS, k=4096)
    sources = rng.choices(SOURCES, SOURCE_WEIGHTS, k=4096)
    # About 400,000 full names (first, middle, last), so a name is shared by a few people, as in a
    # register of a town and its tourists, and a name search finds a few stays, not thousands.
    middles = [f"{a.capitalize()}{b}{c}" for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES]
    names = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]
    # Some venues are much busier than others: log-normal weights, the busiest about ten
    # times the average (a big pub on a Friday next to a quiet café).
    weights = [rng.lognormvariate(0, 0.8) for _ in range(venues)]
    venue_picks = rng.choices(range(1, venues + 1), weights, k=1 << 20)
    randrange, random_, randbits = rng.randrange, rng.random, rng.getrandbits
    for _number in range(count):
        venue = venue_picks[randrange(1 << 20)]
        arrived = day_starts[randrange(len(day_starts))] + hours[randrange(4096)] * 3600 + randrange(3600)
        left = arrived + 1200 + randrange(9000) if random_() < 0.35 else None
        phone_number = randrange(phones)
        # As forms.new_idempotency_key makes it; no receipt hash: a receipt token carries the key
        # (visits.receipt_token), so a check-in stores NULL there, as here.
        key = base64.urlsafe_b64encode(randbits(144).to_bytes(18, "big")).decode()
        name = names[phone_number % len(names)]
        first, last = name.split(" ")
        name = f"{first} {middles[(phone_number // len(names)) % len(middles)]} {last}"
        yield (venue, name, f"+479{(phone_number * 7919) % 10_000_000:07d}",
               parties[randrange(4096)], f"Bord {1 + randrange(20)}" if random_() < 0.5 else None,
               arrived, left, arrived, sources[randrange(4096)], key,
               None, CONSENT_VERSION, queries.name_key(name))


def fill(db_path: str | Path, visits: int = 10_000_000, venues: int = 5_000, days: int = 14,
         seed: int = 1, now: int | None = None) -> FillResult:
    """Create (or extend) a database at db_path through the migrations and add the visits."""
    started = time.perf_counter()
    now = int(time.time()) if now is None else now
    conn = db.connect(str(db_path))
    try:
        db.upgrade(conn)
        conn.execute("PRAGMA synchronous = OFF")
        # The two unique keys are random, so their indexes take inserts all over: keep them in memory.
        conn.execute("PRAGMA cache_size = -1048576")
        rng = random.Random(seed)  # nosec B311: made-up benchmark data
        existing = conn.execute("SELECT count(*) FROM venues").fetchone()[0]
        with db.write_transaction(conn):
            conn.executemany(
                "INSERT INTO venues (slug, name, address, active, created_at) VALUES (?, ?, '', 1, ?)",
                ((f"sted-{n:05d}", f"Sted {n}", now - 30 * 86400) for n in range(existing + 1, venues + 1)))
        offset = conn.execute("SELECT coalesce(max(id), 0) FROM visits").fetchone()[0]
        if offset:  # extending a filled file: other keys than the first fill's with this seed
            rng = random.Random(f"{seed}:{offset}")  # nosec B311: made-up benchmark data
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'visits'"
            " AND sql IS NOT NULL").fetchall()
        with db.write_transaction(conn):
            for index in indexes:
                conn.execute(f'DROP INDEX "{index["name"]}"')
        rows = _visit_rows(visits, venues, _day_starts(now, days), rng)
        sql = ("INSERT INTO visits (venue_id, name, phone, party_size, area, arrived_at, left_at, registered_at,"
               " source, idempotency_key, receipt_hash, consent_version, name_key)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        while True:
            chunk = [row for _, row in zip(range(CHUNK), rows)]
            if not chunk:
                break
            with db.write_transaction(conn):
                conn.executemany(sql, chunk)
        with db.write_transaction(conn):
            for index in indexes:
                conn.execute(index["sql"])
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return FillResult(visits, venues, days, now, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", help="SQLite file to create or extend")
    parser.add_argument("--visits", type=int, default=10_000_000)
    parser.add_argument("--venues", type=int, default=5_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    result = fill(args.database, args.visits, args.venues, args.days, args.seed)
    print(f"{result.visits:,} visits at {result.venues:,} venues over {result.days} days"
          f" in {result.seconds:.1f} s ({result.visits / result.seconds:,.0f} visits/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
