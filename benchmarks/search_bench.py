"""Time the case search and the venue search at the database layer over a filled database.

    .venv/bin/python benchmarks/search_bench.py /tmp/bench.sqlite3 --cases 300

"Database layer" means what a search request runs besides rendering HTML:
contacts.case_contacts / contacts.venue_contacts, i.e. the indexed queries plus building the
list of people. Cases are random phone numbers that have visits; each case search covers
the default window (48 h before an onset date the day after a random visit, up to now).
Venue searches take a random venue and a random 3-hour evening window.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from roros_checkin import contacts, db  # noqa: E402


@dataclass(frozen=True)
class Timing:
    runs: int
    median_ms: float
    p95_ms: float
    max_ms: float
    mean_results: float


def _timing(samples: list[float], results: list[int]) -> Timing:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return Timing(len(samples), statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000,
                  statistics.fmean(results) if results else 0.0)


def bench(db_path: str | Path, cases: int = 300, seed: int = 2) -> dict[str, Timing]:
    """Run `cases` case searches and as many venue searches; return their timings."""
    conn = db.connect(str(db_path))
    try:
        rng = random.Random(seed)  # nosec B311: picks benchmark cases
        rules = contacts.Rules()
        newest, highest = conn.execute("SELECT max(arrived_at), max(id) FROM visits").fetchone()
        now = newest + 3600
        not_before = rules.not_before(now)
        venues = conn.execute("SELECT id, slug, name FROM venues").fetchall()
        case_times, case_results, venue_times, venue_results = [], [], [], []
        for _ in range(cases):
            visit = None
            while visit is None:
                visit = conn.execute("SELECT phone, arrived_at FROM visits WHERE id = ? AND arrived_at > ?",
                                     (rng.randrange(1, highest + 1), not_before + 3 * 86400)).fetchone()
            window_from = visit["arrived_at"] + 86400 - 48 * 3600
            started = time.perf_counter()
            result = contacts.case_contacts(conn, rules, now, window_from, now, phone=visit["phone"])
            case_times.append(time.perf_counter() - started)
            case_results.append(len(result.people))

            venue = venues[rng.randrange(len(venues))]
            start = not_before + rng.randrange(1, 13) * 86400 + 19 * 3600
            started = time.perf_counter()
            result = contacts.venue_contacts(conn, rules, now, venue, start, start + 3 * 3600)
            venue_times.append(time.perf_counter() - started)
            venue_results.append(len(result.people))
    finally:
        conn.close()
    return {"case search": _timing(case_times, case_results), "venue search": _timing(venue_times, venue_results)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database")
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args(argv)
    conn = db.connect(args.database)
    visits = conn.execute("SELECT count(*) FROM visits").fetchone()[0]
    conn.close()
    print(f"{visits:,} visits; {args.cases} random searches of each kind")
    for name, timing in bench(args.database, args.cases, args.seed).items():
        print(f"{name:13} median {timing.median_ms:7.2f} ms   p95 {timing.p95_ms:7.2f} ms   "
              f"max {timing.max_ms:7.2f} ms   people found (mean) {timing.mean_results:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
