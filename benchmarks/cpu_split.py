"""Where a check-in's CPU goes in the real server under load: per request, per step, per SQL statement.

    .venv/bin/python benchmarks/cpu_split.py [--script checkin.lua|post.lua] [--duration 15]

Starts `app.py`'s application on waitress (server on CPU 0, wrk on CPU 1, as load.py does) with a
wrapper that adds up each worker thread's own CPU time (time.thread_time, so waiting for a lock, the
GIL or an fsync costs nothing) around each WSGI call, around chosen functions, and around each SQL
statement (wall time too). After the run it prints, per check-in: the CPU of each request kind, of
the steps, of the SQL, and what the process spent outside the WSGI calls (waitress reading, parsing
and writing, its main loop, thread switches). A profiler would double the cost of Python code
against C; these are the costs as they are, plus about a microsecond per wrapper.
"""
from __future__ import annotations

import argparse
import collections
import functools
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

# module, attribute path: the steps timed inside the requests.
STEPS = (
    ("roros_checkin.queries", "venue_by_slug"),
    ("roros_checkin.forms", "CheckinForm.validate"),
    ("roros_checkin.visits", "record_visit"),
    ("roros_checkin.checkin", "_after_checkin"),
    ("roros_checkin.pages", "render"),
    ("roros_checkin.visits", "find_receipt"),
    ("roros_checkin.times", "show"),
    ("roros_checkin.i18n", "current_locale"),
)


def serve(port: int, out_path: str) -> None:
    """The server side: the app with the CPU wrappers; writes the totals when sent SIGTERM."""
    import logging

    import app as app_module
    from roros_checkin import create_app, db, logs

    logs.configure(logging.WARNING)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" under load, as app.py
    app = create_app()
    app_module.prepare(app, True)
    totals: dict[str, float] = collections.defaultdict(float)
    counts: collections.Counter = collections.Counter()
    lock = threading.Lock()

    def add(label: str, seconds: float) -> None:
        with lock:
            totals[label] += seconds
            counts[label] += 1

    def wrap(owner, name: str, label: str) -> None:
        function = getattr(owner, name)

        @functools.wraps(function)
        def timed(*args, **kwargs):
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                add(label, time.thread_time() - started)
        setattr(owner, name, timed)

    for module, path in STEPS:
        owner = importlib.import_module(module)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        wrap(owner, name, f"step {path}")

    plain_execute = db.Connection.execute

    def execute(self, sql, *args):
        started, wall = time.thread_time(), time.perf_counter()
        try:
            return plain_execute(self, sql, *args)
        finally:
            label = " ".join(sql.split()[:2])
            add(f"sql {label}", time.thread_time() - started)
            add(f"sql-wall {label}", time.perf_counter() - wall)
    db.Connection.execute = execute

    inner = app.wsgi_app

    def wsgi(environ, start_response):
        started = time.thread_time()
        try:
            body = inner(environ, start_response)
            try:
                return [b"".join(body)]
            finally:
                getattr(body, "close", lambda: None)()
        finally:
            add(f"request {environ['REQUEST_METHOD']} {environ['PATH_INFO'][:3]}", time.thread_time() - started)
    app.wsgi_app = wsgi

    since = [time.process_time()]

    def start_counting(*_args) -> None:  # after the warm-up: from here on
        with lock:
            totals.clear()
            counts.clear()
            since[0] = time.process_time()

    def finish(*_args) -> None:
        process = time.process_time() - since[0]
        Path(out_path).write_text(json.dumps({"process_cpu": process, "totals": totals, "counts": counts}))
        os._exit(0)
    signal.signal(signal.SIGUSR1, start_counting)
    signal.signal(signal.SIGTERM, finish)
    import waitress

    waitress.serve(app, **app_module.waitress_options(app.config, "127.0.0.1", port, 4))


def run(script: str, duration: float, warmup: float) -> dict:
    from load import free_port, pinned, server_environ, wait_until_up

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="roros-cpu-split-") as folder:
        out = Path(folder) / "totals.json"
        env = server_environ(ROROS_DATABASE=str(Path(folder) / "checkin.sqlite3"))
        server = subprocess.Popen(pinned(0, [sys.executable, str(Path(__file__).resolve()), "serve", str(port),
                                             str(out)]), cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz", server)
            wrk_env = {**os.environ, "CHECKIN_PATH": "/v/demo-kafe", "POST_PATH": "/v/demo-kafe",
                       "FORM_PATH": "/v/demo-kafe", "ADDRS": f"127.0.0.1:{port}"}

            def wrk(seconds: float) -> str:
                return subprocess.run(pinned(1, ["wrk", "-t2", "-c32", f"-d{max(1, round(seconds))}s", "--timeout",
                                                 "10s", "-s", str(HERE / script), f"http://127.0.0.1:{port}/v/demo-kafe"]),
                                      env=wrk_env, capture_output=True, text=True, check=True).stdout
            if warmup:
                wrk(warmup)
            server.send_signal(signal.SIGUSR1)
            time.sleep(0.2)
            result = json.loads(re.search(r"^RESULT (\{.*\})$", wrk(duration), re.MULTILINE).group(1))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        totals = json.loads(out.read_text())
    return {"wrk": result, **totals}


def report(data: dict, script: str) -> dict:
    totals, counts = data["totals"], data["counts"]
    checkins = sum(count for label, count in counts.items() if label.startswith("request POST"))
    per = {label: totals[label] / checkins * 1e6 for label in totals}
    in_requests = sum(value for label, value in per.items() if label.startswith("request "))
    process = data["process_cpu"] / checkins * 1e6
    print(f"{script}: {checkins:,} check-ins ({data['wrk']['checkins_per_s']}/s under wrk); "
          f"CPU per check-in, µs (thread CPU time; SQL also wall time):")
    print("| part | calls per check-in | CPU µs per check-in |\n|---|---|---|")
    for label in sorted(per, key=lambda label: (label.split()[0] != "request", label.startswith("sql-wall"), -per[label])):
        if label.startswith("sql-wall"):
            continue
        wall = f" (wall {per['sql-wall ' + label[4:]]:.0f})" if label.startswith("sql ") else ""
        print(f"| {label} | {counts[label] / checkins:.2f} | {per[label]:.0f}{wall} |")
    print(f"| the WSGI calls together | | {in_requests:.0f} |")
    print(f"| outside them (waitress: reading, parsing, writing, its main loop, thread switches) | | "
          f"{process - in_requests:.0f} |")
    print(f"| **the server process** | | **{process:.0f}** |")
    calls = {label: counts[label] / checkins for label in counts}
    return {"checkins": checkins, "per_checkin_us": per, "calls_per_checkin": calls, "process_us": process,
            "in_requests_us": in_requests}


def main(argv: list[str] | None = None) -> dict | None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        serve(int(argv[1]), argv[2])
        return None
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--script", default="checkin.lua", choices=("checkin.lua", "post.lua"))
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--json", help="also write the totals here")
    args = parser.parse_args(argv)
    data = run(args.script, args.duration, args.warmup)
    result = report(data, args.script)
    if args.json:
        Path(args.json).write_text(json.dumps({**data, **result}, indent=2))
    return result


if __name__ == "__main__":
    main()
