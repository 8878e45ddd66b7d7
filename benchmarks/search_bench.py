"""Time the case search (by phone and by name) and the venue search at the database layer over a filled database.

    .venv/bin/python benchmarks/search_bench.py /tmp/bench.sqlite3 --cases 2000

"Database layer" means what a search request runs besides rendering HTML:
contacts.case_contacts / contacts.venue_contacts, i.e. the indexed queries plus building the
list of people. Cases are random visits' phone numbers (and, for the name search, their names);
each case search covers the default window (48 h before an onset date the day after the visit, up
to now). Venue searches take a random venue and a random 3-hour evening window.

How the figures are made stable on a shared machine: the indexes the searches read are read once
first (the file in the page cache, as on a server that has been up for a while, instead of the first
searches paying for the disk), then a warm-up of --warmup searches of each kind is thrown away, then
--cases searches of each kind are timed, interleaved so that load from elsewhere hits every kind
alike, and the report gives p50, p95 and p99 of them all (with 2,000 samples a p99 is the 20th
slowest, not one unlucky search), of the wall time and of this process's CPU time: on a machine
shared with other work the wall time shows how long the others kept the CPU, the CPU time what the
search itself costs.
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
    p99_ms: float = 0.0
    # The same percentiles of the CPU time this process spent (SQLite and Python): other processes on
    # a shared machine stretch the wall time of a search, hardly its CPU time.
    cpu_p50_ms: float = 0.0
    cpu_p95_ms: float = 0.0
    cpu_p99_ms: float = 0.0


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _timing(samples: list[float], results: list[int], cpu: list[float] | None = None) -> Timing:
    ordered = sorted(samples)
    cpu_ordered = sorted(cpu or samples)
    return Timing(len(samples), statistics.median(ordered) * 1000, _percentile(ordered, 0.95) * 1000,
                  ordered[-1] * 1000, statistics.fmean(results) if results else 0.0,
                  _percentile(ordered, 0.99) * 1000, statistics.median(cpu_ordered) * 1000,
                  _percentile(cpu_ordered, 0.95) * 1000, _percentile(cpu_ordered, 0.99) * 1000)


def warm_cache(conn) -> None:
    """Read the table and the indexes the searches use once, so the timings are of a warm page cache."""
    for index in ("visits_phone_arrived", "visits_venue_arrived", "visits_arrived"):
        conn.execute(f"SELECT count(*) FROM visits INDEXED BY {index}").fetchone()  # nosec B608: constant
    conn.execute("SELECT count(name) FROM visits").fetchone()


def bench(db_path: str | Path, cases: int = 300, seed: int = 2, warmup: int = 0,
          names: bool = True) -> dict[str, Timing]:
    """Run `cases` searches of each kind (after `warmup` untimed ones); return their timings."""
    conn = db.connect(str(db_path))
    try:
        conn.execute("PRAGMA cache_size = -262144")  # 256 MB: the indexes the searches walk stay in memory
        if warmup:
            warm_cache(conn)
        rng = random.Random(seed)  # nosec B311: picks benchmark cases
        rules = contacts.Rules()
        newest, highest = conn.execute("SELECT max(arrived_at), max(id) FROM visits").fetchone()
        now = newest + 3600
        not_before = rules.not_before(now)
        venues = conn.execute("SELECT id, slug, name FROM venues").fetchall()
        kinds = ("case search", "name search", "venue search") if names else ("case search", "venue search")
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        cpu_times: dict[str, list[float]] = {kind: [] for kind in kinds}
        found: dict[str, list[int]] = {kind: [] for kind in kinds}
        for number in range(warmup + cases):
            visit = None
            while visit is None:
                visit = conn.execute("SELECT phone, name, arrived_at FROM visits WHERE id = ? AND arrived_at > ?",
                                     (rng.randrange(1, highest + 1), not_before + 3 * 86400)).fetchone()
            window_from = visit["arrived_at"] + 86400 - 48 * 3600
            venue = venues[rng.randrange(len(venues))]
            start = not_before + rng.randrange(1, 13) * 86400 + 19 * 3600
            # Called in this same iteration, so the loop's current values are the ones meant.
            searches = {
                "case search": lambda: contacts.case_contacts(conn, rules, now, window_from, now,  # noqa: B023
                                                              phone=visit["phone"]),  # noqa: B023
                "name search": lambda: contacts.case_contacts(conn, rules, now, window_from, now,  # noqa: B023
                                                              name=visit["name"]),  # noqa: B023
                "venue search": lambda: contacts.venue_contacts(conn, rules, now, venue, start,  # noqa: B023
                                                                start + 3 * 3600),  # noqa: B023
            }
            for kind in kinds:
                started, cpu_started = time.perf_counter(), time.process_time()
                result = searches[kind]()
                took, cpu_took = time.perf_counter() - started, time.process_time() - cpu_started
                if number >= warmup:
                    times[kind].append(took)
                    cpu_times[kind].append(cpu_took)
                    found[kind].append(len(result.people))
    finally:
        conn.close()
    return {kind: _timing(times[kind], found[kind], cpu_times[kind]) for kind in kinds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database")
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=100,
                        help="untimed searches of each kind first, after one read of the indexes (0: neither)")
    parser.add_argument("--no-names", action="store_true", help="skip the name search")
    args = parser.parse_args(argv)
    conn = db.connect(args.database)
    visits = conn.execute("SELECT count(*) FROM visits").fetchone()[0]
    conn.close()
    print(f"{visits:,} visits; {args.cases} random searches of each kind after {args.warmup} untimed ones")
    for name, timing in bench(args.database, args.cases, args.seed, args.warmup, not args.no_names).items():
        print(f"{name:13} p50 {timing.median_ms:7.2f} ms   p95 {timing.p95_ms:7.2f} ms   "
              f"p99 {timing.p99_ms:7.2f} ms   max {timing.max_ms:7.2f} ms   people found (mean) {timing.mean_results:.1f}")
        print(f"{'':13} CPU p50 {timing.cpu_p50_ms:7.2f} ms   p95 {timing.cpu_p95_ms:7.2f} ms   p99 {timing.cpu_p99_ms:7.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
