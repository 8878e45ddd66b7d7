"""Scale: 10 million visits (5,000 venues × 14 days); the searches, a 5,000-row export, a day's purge, size.

    .venv/bin/python benchmarks/scale.py /tmp/scale.sqlite3 [--visits 10000000] [--reuse]

1. Fills the database through the project's migrations with benchmarks/fill_visits.py (skipped with
   --reuse when the file is already filled), with the visits in the 14 days before the fill's "now".
2. Reports the database size per million visits (after a TRUNCATE checkpoint, so the WAL is empty).
3. Times the case search by phone and by name and the venue search (benchmarks/search_bench.py, the
   tracing code's own functions, warm cache, p50/p95/p99), and an export of 5,000 visits written as
   the tracers' CSV.
4. Purges one day with the project's purge (roros_checkin.retention, what `flask purge` runs): as of
   one day after the fill's "now", so the oldest of the 14 days is past the retention.
The file is left in place (it is large): delete it afterwards.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (str(ROOT), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

from roros_checkin import db  # noqa: E402

DAY = 86400
EXPORT_ROWS = 5_000


def fill_now(conn) -> int:
    """The "now" the database was filled at: an hour after its newest visit (as search_bench assumes)."""
    return conn.execute("SELECT max(arrived_at) FROM visits").fetchone()[0] + 3600


def database_size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def time_export(conn, rows: int) -> dict:
    """Read `rows` visits of the busiest venue through the venue index and write them as the tracers' CSV."""
    venue = conn.execute("SELECT venue_id FROM visits GROUP BY venue_id ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    started = time.perf_counter()
    found = conn.execute(
        "SELECT visits.name, visits.phone, visits.arrived_at, visits.left_at, visits.party_size, visits.area,"
        " venues.name FROM visits JOIN venues ON venues.id = visits.venue_id"
        " WHERE visits.venue_id = ? ORDER BY visits.arrived_at DESC LIMIT ?", (venue, rows)).fetchall()
    try:
        from roros_checkin.export import phone_for_export, write_csv
    except ImportError:  # the tracers' export is not in this tree: plain csv
        import csv
        import io

        out = io.StringIO()
        csv.writer(out, delimiter=";").writerows(found)
        text, how = out.getvalue(), "csv module"
    else:
        header = ("Navn", "Telefon", "Ankom", "Gikk", "Antall", "Bord", "Sted")
        text = write_csv(header, ((row[0], phone_for_export(row[1]), *row[2:]) for row in found))
        how = "roros_checkin.export.write_csv"
    return {"rows": len(found), "bytes": len(text.encode()), "seconds": round(time.perf_counter() - started, 3),
            "writer": how}


def time_purge(path: Path, now: int) -> dict:
    """The project's purge (as `flask purge` and the server's hourly purge run it) of what is expired at now."""
    from roros_checkin import create_app, retention

    app = create_app({"DATABASE": str(path), "SECRET_KEY": "scale-benchmark-secret-key-0123456789",
                      "INSTANCE_PATH": path.parent})
    conn = db.connect(str(path))
    try:
        started = time.perf_counter()
        result = retention.purge_expired(conn, app.config, now)
        return {"deleted": result.visits, "seconds": round(time.perf_counter() - started, 1),
                "wal_truncated": not result.checkpoint_busy}
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path)
    parser.add_argument("--visits", type=int, default=10_000_000)
    parser.add_argument("--venues", type=int, default=5_000)
    parser.add_argument("--cases", type=int, default=1000, help="searches of each kind")
    parser.add_argument("--warmup", type=int, default=100,
                        help="untimed searches of each kind first, after one read of the indexes (search_bench.py)")
    parser.add_argument("--reuse", action="store_true", help="the file is already filled")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    from fill_visits import fill
    from search_bench import bench

    result: dict = {}
    if not args.reuse:
        filled = fill(args.database, visits=args.visits, venues=args.venues, days=14)
        result["fill_seconds"] = round(filled.seconds, 1)
    conn = db.connect(str(args.database))
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        visits = conn.execute("SELECT count(*) FROM visits").fetchone()[0]
        now = fill_now(conn)
        size = database_size(args.database)
        result.update(visits=visits, bytes=size, mb_per_million=round(size / 1e6 / (visits / 1e6), 1))
        for name, timing in bench(args.database, args.cases, warmup=args.warmup).items():
            result[name] = {"median_ms": round(timing.median_ms, 2), "p95_ms": round(timing.p95_ms, 2),
                            "p99_ms": round(timing.p99_ms, 2), "max_ms": round(timing.max_ms, 2), "runs": timing.runs,
                            "cpu_p50_ms": round(timing.cpu_p50_ms, 2), "cpu_p99_ms": round(timing.cpu_p99_ms, 2),
                            "people_mean": round(timing.mean_results, 1)}
        result["export"] = time_export(conn, EXPORT_ROWS)
    finally:
        conn.close()
    result["purge_one_day"] = time_purge(args.database, now + DAY)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
