"""Threads of one process committing single rows: throughput and the worst wait for the write lock.

    .venv/bin/python benchmarks/writers.py [--threads 4] [--seconds 4] [--raw]

Each thread has its own connection with the project's PRAGMAs (synchronous=FULL) and commits one row
per transaction through db.write_transaction, as a check-in does. --raw skips write_transaction's
in-process queue and leaves the waiting to SQLite's busy handler, for comparison.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from roros_checkin import db  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--raw", action="store_true", help="BEGIN IMMEDIATE without the in-process queue")
    args = parser.parse_args(argv)
    waits: list[float] = []
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="roros-writers-") as folder:
        path = str(Path(folder) / "writers.sqlite3")
        setup = db.connect(path)
        setup.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, value TEXT NOT NULL)")
        setup.close()
        stop = time.monotonic() + args.seconds

        def writer() -> None:
            conn = db.connect(path)
            while time.monotonic() < stop:
                started = time.perf_counter()
                try:
                    if args.raw:
                        conn.execute("BEGIN IMMEDIATE")
                        conn.execute("INSERT INTO rows (value) VALUES ('x')")
                        conn.execute("COMMIT")
                    else:
                        with db.write_transaction(conn):
                            conn.execute("INSERT INTO rows (value) VALUES ('x')")
                except db.sqlite3.OperationalError as error:
                    errors.append(str(error))
                    continue
                waits.append(time.perf_counter() - started)
            conn.close()

        threads = [threading.Thread(target=writer) for _ in range(args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    waits.sort()
    result = {"mode": "raw busy handler" if args.raw else "write_transaction",
              "commits_per_s": round(len(waits) / args.seconds, 1),
              "p50_ms": round(waits[len(waits) // 2] * 1e3, 2) if waits else None,
              "p99_ms": round(waits[int(len(waits) * 0.99)] * 1e3, 2) if waits else None,
              "max_ms": round(waits[-1] * 1e3, 1) if waits else None, "errors": len(errors)}
    print(result)
    return result


if __name__ == "__main__":
    main()
