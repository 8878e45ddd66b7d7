"""CPU cost of one check-in inside the process, without HTTP: what the profile-driven changes are judged by.

    .venv/bin/python benchmarks/checkin_cost.py [--checkins 2000] [--rounds 3]

Drives the Flask test client through the phone's three steps (GET the form, POST it, GET the receipt)
on a fresh database and reports CPU microseconds per step (time.process_time, so other processes on a
shared machine disturb it far less than wall time), plus the same for the minimal Flask app of
benchmarks/hello_app.py and for the project's emptiest request (/favicon.ico) in the same run. The ratio of the two is the figure to compare across commits.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

TOKENS = re.compile(r'name="(idempotency_key)" type="hidden" value="([^"]+)"')


def project_app(folder: Path):
    from roros_checkin import create_app, db, queries
    from roros_checkin.db import write_transaction

    app = create_app({"DATABASE": str(folder / "checkin.sqlite3"), "INSTANCE_PATH": folder,
                      "SECRET_KEY": "benchmark-secret-key-0123456789abcdefghijkl",
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        conn = db.get_db()
        db.upgrade(conn)
        with write_transaction(conn):
            queries.insert_venue(conn, "demo-kafe", "Demo-kafé", "", int(time.time()))
    return app


def one_checkin(app, number: int) -> tuple[float, float, float]:
    """CPU seconds of the three steps of one new guest's check-in."""
    client = app.test_client()
    started = time.process_time()
    page = client.get("/v/demo-kafe")
    form_done = time.process_time()
    fields = dict(TOKENS.findall(page.get_data(as_text=True)))
    posted = client.post("/v/demo-kafe", data={**fields, "name": "Benk Testesen",
                                                "phone": f"9{number % 10_000_000:07d}",
                                                "party_size": "2", "consent": "y"})
    post_done = time.process_time()
    if posted.status_code != 303:
        raise RuntimeError(f"check-in answered {posted.status_code}")
    receipt = client.get(posted.headers["Location"])
    receipt_done = time.process_time()
    if receipt.status_code != 200:
        raise RuntimeError(f"receipt answered {receipt.status_code}")
    return form_done - started, post_done - form_done, receipt_done - post_done


def hello_cost(requests: int) -> float:
    from hello_app import app

    client = app.test_client()
    started = time.process_time()
    for _ in range(requests):
        client.get("/")
    return (time.process_time() - started) / requests


def floor_cost(app, requests: int) -> float:
    """CPU seconds of the project's emptiest request (/favicon.ico, 204): its hooks, headers and routing."""
    client = app.test_client()
    started = time.process_time()
    for _ in range(requests):
        client.get("/favicon.ico")
    return (time.process_time() - started) / requests


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkins", type=int, default=2000, help="check-ins per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    rounds = []
    with tempfile.TemporaryDirectory(prefix="roros-cost-") as folder:
        app = project_app(Path(folder))
        for number in range(200):  # warm-up: imports, template compilation, caches
            one_checkin(app, number)
        hello_cost(500)
        counter = 1000
        for _ in range(args.rounds):
            totals = [0.0, 0.0, 0.0]
            for _ in range(args.checkins):
                counter += 1
                for index, seconds in enumerate(one_checkin(app, counter)):
                    totals[index] += seconds
            hello = hello_cost(args.checkins * 3)
            floor = floor_cost(app, args.checkins * 3)
            form, post, receipt = (total / args.checkins * 1e6 for total in totals)
            rounds.append({"form_us": form, "post_us": post, "receipt_us": receipt,
                           "checkin_us": form + post + receipt, "hello_us": hello * 1e6,
                           "floor_us": floor * 1e6})
    median = {key: round(statistics.median(r[key] for r in rounds), 1) for key in rounds[0]}
    median["checkin_per_hello"] = round(median["checkin_us"] / median["hello_us"], 2)
    median["request_per_hello"] = round(median["checkin_us"] / 3 / median["hello_us"], 2)
    median["floor_per_hello"] = round(median["floor_us"] / median["hello_us"], 2)
    print(f"CPU µs per step (median of {args.rounds} rounds × {args.checkins} check-ins): "
          f"GET form {median['form_us']}, POST {median['post_us']}, GET receipt {median['receipt_us']}; "
          f"one check-in {median['checkin_us']}; minimal Flask request {median['hello_us']}")
    print(f"one check-in costs {median['checkin_per_hello']} minimal requests "
          f"({median['request_per_hello']} per request of the check-in)")
    print(f"the project's emptiest request (/favicon.ico) costs {median['floor_us']} µs = "
          f"{median['floor_per_hello']} minimal requests: three of them are the floor of a check-in")
    return median


if __name__ == "__main__":
    main()
