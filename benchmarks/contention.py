"""Check-ins while the server purges a million expired visits and large exports run: latency with and
without, and every error.

    .venv/bin/python benchmarks/contention.py [--expired 1000000] [--current 200000] [--connections 8]
        [--baseline-seconds 20] [--export-rows 200000]

1. Builds a database through the project's migrations (benchmarks/fill_visits.py) with --current
   visits inside the retention, starts `python app.py` on it (pinned to CPU 0; its own hourly purge
   runs at start and finds nothing) and drives the phone's check-in with wrk (benchmarks/checkin.lua,
   pinned to CPU 1) for --baseline-seconds: the latency without a purge.
2. Stops the server, adds --expired visits older than the retention, and starts it again: its
   purge (roros_checkin.retention, the same code as `flask purge`, in a thread of the server process)
   starts at once and deletes them while wrk drives check-ins and another process writes exports of
   --export-rows rows as CSV, one after another, until the purge's log line appears; then wrk stops.
   The export process is not pinned (--export-cpu pins it): it shares the cores with the server and wrk.
3. Reports check-ins/s and p50/p95/p99/max for both phases, the purge's time, every non-2xx/3xx
   answer, and any "database is locked" or traceback in the server's log.

--connections is below saturation on purpose (8, where 32 saturates the one server core): the
question is how long a guest waits because of the purge, not how the queue of a saturated server grows.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (str(ROOT), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

from load import Servers, pinned, server_environ, stored_vs_acknowledged  # noqa: E402

from roros_checkin import db  # noqa: E402

DAY = 86400
RETENTION_DAYS = 14


def build(path: Path, expired: int, current: int, now: int) -> float:
    """Fill the database; return the seconds it took."""
    from fill_visits import fill

    started = time.perf_counter()
    if expired:
        # Fourteen days ending a day past the retention: every one of them is expired at `now`.
        fill(path, visits=expired, now=now - (RETENTION_DAYS + 1) * DAY, seed=11)
    if current:
        fill(path, visits=current, now=now, seed=12)
    return time.perf_counter() - started


def checkins_stored(database: Path) -> int:
    """Visits at the venue the load checks in at (the fill's visits are at other venues): what the
    check-ins stored. Not "visits inside the retention": during a purge that runs for many minutes
    the boundary moves, and the fill's oldest current visits expire and are purged as they should."""
    conn = db.connect(str(database))
    try:
        return conn.execute("SELECT count(*) FROM visits JOIN venues ON venues.id = visits.venue_id"
                            " WHERE venues.slug = 'demo-kafe'").fetchone()[0]
    finally:
        conn.close()


def export_rows(conn, rows: int, out) -> int:
    """Write `rows` visits (newest venue activity first) as CSV the way a tracer's export does."""
    try:
        from roros_checkin.export import escape_cell
    except ImportError:
        escape_cell = str  # noqa: N806  (plain CSV when the project has no export yet)
    writer = csv.writer(out, delimiter=";")
    written = 0
    for row in conn.execute(
            "SELECT venues.name, visits.name, visits.phone, visits.arrived_at, visits.left_at, visits.party_size,"
            " visits.area FROM visits JOIN venues ON venues.id = visits.venue_id"
            " WHERE visits.arrived_at > ? ORDER BY visits.venue_id, visits.arrived_at LIMIT ?",
            (int(time.time()) - RETENTION_DAYS * DAY, rows)):
        writer.writerow([escape_cell(value) for value in row])
        written += 1
    return written


def export_loop(argv: list[str]) -> None:
    """`contention.py export DB ROWS STOPFILE`: write exports until STOPFILE exists; print JSON."""
    conn = db.connect(argv[1])
    stop_file = Path(argv[3])
    exports, seconds = 0, []
    while True:  # at least one export, however short the purge
        started = time.perf_counter()
        with open(os.devnull, "w", newline="", encoding="utf-8") as out:
            rows = export_rows(conn, int(argv[2]), out)
        seconds.append(time.perf_counter() - started)
        exports += 1
        if stop_file.exists():
            break
    conn.close()
    print(json.dumps({"exports": exports, "rows_each": rows if exports else 0,
                      "seconds_each_median": round(sorted(seconds)[len(seconds) // 2], 2) if seconds else None}))


def wrk_command(servers: Servers, connections: int, seconds: int) -> list[str]:
    return pinned(1, ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency",
                      "-s", str(HERE / "checkin.lua"), f"http://127.0.0.1:{servers.ports[0]}/v/demo-kafe"])


def wrk_result(output: str) -> dict:
    match = re.search(r"^RESULT (\{.*\})$", output, re.MULTILINE)
    if not match:
        raise RuntimeError("wrk printed no RESULT line:\n" + output)
    return json.loads(match.group(1))


def start_server(servers: Servers, env: dict, log_path: Path) -> subprocess.Popen:
    from load import wait_until_up

    with log_path.open("a") as log:
        process = subprocess.Popen(pinned(0, servers.command(servers.ports[0], True)), cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    servers.processes = [process]
    wait_until_up(f"http://127.0.0.1:{servers.ports[0]}/healthz", process)
    return process


def wait_for_purge(log_path: Path, runs: int, timeout: float = 1800) -> str:
    """Wait until the server's log has its `runs`-th purge line; return that line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [line for line in log_path.read_text(errors="replace").splitlines() if "purge: " in line
                 or "purge failed" in line]
        if len(lines) >= runs:
            return lines[runs - 1]
        time.sleep(0.2)
    raise RuntimeError("the server's purge did not finish")


def run(args: argparse.Namespace) -> dict:
    now = int(time.time())
    with tempfile.TemporaryDirectory(prefix="roros-contention-") as folder:
        workdir = Path(folder)
        database = workdir / "checkin.sqlite3"
        log_path = workdir / "server.log"
        servers = Servers("project", 1, args.threads, [0], workdir)
        env = server_environ(ROROS_DATABASE=str(database), CHECKIN_PATH="/v/demo-kafe")
        started = time.perf_counter()
        build(database, 0, args.current, now)
        build_seconds = time.perf_counter() - started
        try:
            start_server(servers, env, log_path)
            wait_for_purge(log_path, 1)  # the start-up purge: nothing to delete
            subprocess.run(wrk_command(servers, args.connections, 2), env=env, capture_output=True, check=True)
            before = checkins_stored(database)
            quiet = wrk_result(subprocess.run(wrk_command(servers, args.connections, args.baseline_seconds),
                                              env=env, capture_output=True, text=True, check=True).stdout)
            servers.stop()
            quiet.update(stored_vs_acknowledged(checkins_stored(database) - before, quiet["checkins"],
                                                args.connections))

            started = time.perf_counter()
            build(database, args.expired, 0, now)
            build_seconds += time.perf_counter() - started
            before = checkins_stored(database)
            server_started = time.perf_counter()
            start_server(servers, env, log_path)  # its start-up purge now has the expired visits to delete
            load = subprocess.Popen(wrk_command(servers, args.connections, 3600), env=env,
                                    stdout=subprocess.PIPE, text=True)
            stop_file = workdir / "stop-exports"
            export = subprocess.Popen(pinned(args.export_cpu, [
                sys.executable, str(Path(__file__).resolve()), "export", str(database), str(args.export_rows),
                str(stop_file)]), cwd=ROOT, env=env,
                stdout=subprocess.PIPE, text=True)
            purge_line = wait_for_purge(log_path, 2)
            purge_seconds = time.perf_counter() - server_started
            stop_file.touch()
            export_out = export.communicate(timeout=600)[0]
            load.send_signal(signal.SIGINT)
            busy = wrk_result(load.communicate(timeout=60)[0])
        finally:
            servers.stop()
        busy.update(stored_vs_acknowledged(checkins_stored(database) - before, busy["checkins"],
                                           args.connections))
        check = db.connect(str(database))
        remaining = check.execute(
            "SELECT count(*) FROM visits WHERE arrived_at <= ?", (now - RETENTION_DAYS * DAY,)).fetchone()[0]
        check.close()
        server_log = log_path.read_text(encoding="utf-8", errors="replace")
    if export.returncode != 0:
        raise RuntimeError(f"the export failed:\n{export_out}")
    result = {
        "settings": {"expired": args.expired, "current": args.current, "connections": args.connections,
                     "waitress_threads": args.threads, "purge": "the server's own purge (roros_checkin.retention)",
                     "pinning": "server CPU0, wrk CPU1, exports " + (
                         "unpinned" if args.export_cpu is None else f"CPU{args.export_cpu}"),
                     "load_average_after": [round(value, 1) for value in os.getloadavg()]},
        "build_seconds": round(build_seconds, 1),
        "without_purge": quiet, "with_purge_and_export": busy,
        "purge_seconds": round(purge_seconds, 1), "purge_log": purge_line.split("purge: ", 1)[-1],
        "exports": json.loads(export_out),
        "expired_left_after_purge": remaining,
        "database_locked_in_log": server_log.count("database is locked"),
        "tracebacks_in_log": server_log.count("Traceback"),
    }
    report(result)
    return result


def report(result: dict) -> None:
    settings = result["settings"]
    print(f"{settings['expired']:,} expired + {settings['current']:,} current visits (built in "
          f"{result['build_seconds']} s); wrk -c{settings['connections']}; {settings['pinning']}; "
          f"purge: {settings['purge']}; load average afterwards {settings['load_average_after']}")
    print("| phase | check-ins/s | p50 ms | p95 ms | p99 ms | max ms | non-2xx/3xx | socket errors "
          "| stored − acknowledged |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, key in (("without purge", "without_purge"), ("with purge + export", "with_purge_and_export")):
        run_ = result[key]
        print(f"| {label} | {run_['checkins_per_s']:.0f} | {run_['p50_ms']:.1f} | {run_['p95_ms']:.1f} | "
              f"{run_['p99_ms']:.1f} | {run_['max_ms']:.1f} | {run_['non_2xx_3xx']} | {run_['socket_errors']} | "
              f"{'ok' if run_['stored_ok'] else 'WRONG'}: {run_['stored']} stored, {run_['checkins']} acknowledged, "
              f"lost {run_['lost']} |")
    print(f"purge {result['purge_seconds']} s from server start ({result['purge_log']}); exports meanwhile "
          f"{result['exports']}; expired visits left: {result['expired_left_after_purge']}; "
          f"'database is locked' in the server log: {result['database_locked_in_log']}; "
          f"tracebacks: {result['tracebacks_in_log']}")


def main(argv: list[str] | None = None) -> dict | None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "export":
        export_loop(argv)
        return None
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expired", type=int, default=1_000_000)
    parser.add_argument("--current", type=int, default=200_000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=4, help="waitress threads")
    parser.add_argument("--baseline-seconds", type=int, default=20)
    parser.add_argument("--export-rows", type=int, default=200_000)
    parser.add_argument("--export-cpu", type=int, choices=(0, 1),
                        help="pin the exports to this CPU (0: the server's, 1: the load generator's)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = run(args)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
