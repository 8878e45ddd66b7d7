"""Bytes per visit, per table and index: where a million visits' storage goes (issue 16, goal 6).

    .venv/bin/python benchmarks/storage.py /tmp/m1.sqlite3 [--visits 1000000]

Fills a new database with what check-ins store (`fill_visits.py`), runs VACUUM, and reads SQLite's
`dbstat` table: the bytes of each table and index (pages × page size, so page slack included) divided
by the visits. Prints a table and, with --json, writes it.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def measure(path: Path) -> dict:
    conn = sqlite3.connect(path)
    try:
        conn.execute("VACUUM")
        visits = conn.execute("SELECT count(*) FROM visits").fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        structures = conn.execute(
            "SELECT dbstat.name, count(*) AS pages FROM dbstat"
            " JOIN sqlite_master ON sqlite_master.name = dbstat.name"
            " WHERE sqlite_master.tbl_name = 'visits' GROUP BY dbstat.name ORDER BY pages DESC").fetchall()
    finally:
        conn.close()
    per_visit = {name: round(pages * page_size / visits, 1) for name, pages in structures}
    return {"visits": visits, "file_bytes_per_visit": round(path.stat().st_size / visits, 1),
            "visits_structures_bytes_per_visit": round(sum(per_visit.values()), 1), "per_structure": per_visit}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", help="a new SQLite file to fill")
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args(argv)
    from fill_visits import fill

    path = Path(args.database)
    if path.exists():
        parser.error(f"{path} exists: give a new file")
    fill(path, args.visits)
    result = measure(path)
    print(f"{result['visits']:,} visits; file after VACUUM {result['file_bytes_per_visit']} bytes per visit "
          f"(all tables); the visits table and its indexes:")
    print("| structure | bytes per visit |\n|---|---|")
    for name, size in result["per_structure"].items():
        print(f"| {name} | {size} |")
    print(f"| **total** | **{result['visits_structures_bytes_per_visit']}** |")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
