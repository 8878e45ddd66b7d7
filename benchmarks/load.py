"""Load benchmark: check-ins per second and latency of `python app.py` against a minimal Flask baseline.

    .venv/bin/python benchmarks/load.py [--runs 3] [--duration 10] [--connections 32] [--servers 1|2]

Each run starts the baseline (benchmarks/hello_app.py, GET /) and then the project (`python app.py`
with a fresh database, the rate limit off), warms each up, and drives it with wrk: the project with
benchmarks/checkin.lua (GET the form, POST it, without cookies, with its fresh idempotency
key, follow the 303 to the receipt), the baseline with benchmarks/hello.lua. Baseline and project
alternate inside one series so that drift on a shared machine hits both; the report gives the median
of the runs and the ratio of the medians.

Unless --no-floor is given, each run also drives the project with plain GETs of its emptiest route
(/favicon.ico, 204: routing, the request hooks, the security headers, nothing else). A third of that
rate is what a check-in of three such requests would reach if its form, POST and receipt did no
work at all: the ceiling of the check-in ratio while a check-in is three Flask requests.

With one server process it is pinned to CPU 0 and wrk to CPU 1 (on a 2-core machine an unpinned
waitress is bimodal). With --servers 2 two processes share the one SQLite file, pinned to CPU 0 and
CPU 1, and each wrk thread talks to one of them; wrk then shares the cores with the servers.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
SECRET = "benchmark-secret-key-0123456789abcdefghijkl"
# Each series: which server runs, the wrk script that drives it, the path it starts from, and what the
# script reads from its environment.
SERIES = {
    "baseline": ("baseline", "hello.lua", "/", {}),
    # The bare durable POST (benchmarks/durable_app.py): parse, INSERT, COMMIT with synchronous=FULL, 303.
    "durable": ("durable", "post.lua", "/", {"POST_PATH": "/"}),
    # The whole check-in as a phone does it: GET the form, POST it, GET the receipt.
    "project": ("project", "checkin.lua", "/v/demo-kafe", {}),
    # The check-in POST alone, each a new stored visit, the form fetched once per wrk thread.
    "post": ("project", "post.lua", "/v/demo-kafe", {"POST_PATH": "/v/demo-kafe", "FORM_PATH": "/v/demo-kafe"}),
    "floor": ("project", "hello.lua", "/favicon.ico", {}),  # the project's emptiest request
}
METRICS = ("requests_per_s", "checkins_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))


def pinned(cpu: int | None, command: list[str]) -> list[str]:
    return command if cpu is None else ["taskset", "-c", str(cpu), *command]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def server_environ(**settings: str) -> dict[str, str]:
    """The benchmark servers' environment: no ROROS_* of the shell's, so every run measures the same
    configuration: the defaults, the benchmark's own settings and `settings`."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("ROROS_")}
    return {**environ, "ROROS_SECRET_KEY": SECRET, "ROROS_RATELIMIT_ENABLED": "false",
            "ROROS_PUBLIC_URL": "http://127.0.0.1", **settings}


class Servers:
    """One or more server processes of one kind ("project" or "baseline"), pinned as asked."""

    def __init__(self, kind: str, count: int, threads: int, cpus: list[int | None], workdir: Path,
                 extra_env: dict[str, str] | None = None, root: Path = ROOT) -> None:
        self.kind, self.count, self.threads, self.cpus = kind, count, threads, cpus
        self.workdir = workdir
        self.ports = [free_port() for _ in range(count)]
        self.processes: list[subprocess.Popen] = []
        self.database = workdir / ("durable.sqlite3" if kind == "durable" else "checkin.sqlite3")
        self.extra_env = extra_env or {}
        self.root = root  # the source tree whose app.py runs

    def command(self, port: int, first: bool) -> list[str]:
        if self.kind == "durable":
            return [sys.executable, str(HERE / "durable_app.py"), "--port", str(port),
                    "--threads", str(self.threads), "--database", str(self.database)]
        if self.kind == "baseline":
            return [sys.executable, str(HERE / "hello_app.py"), "--port", str(port),
                    "--threads", str(self.threads)]
        # --demo adds the venue the load script checks in at (once: the first process creates it).
        return [sys.executable, "app.py", "--port", str(port), "--threads", str(self.threads),
                *(["--demo"] if first else [])]

    def start(self) -> "Servers":
        env = server_environ(ROROS_DATABASE=str(self.database), **self.extra_env)
        for index, port in enumerate(self.ports):
            process = subprocess.Popen(pinned(self.cpus[index], self.command(port, index == 0)), cwd=self.root,
                                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            self.processes.append(process)
            path = "/healthz" if self.kind == "project" else "/"
            wait_until_up(f"http://127.0.0.1:{port}{path}", process)
        return self

    def cpu_seconds(self) -> float:
        total = 0.0
        for process in self.processes:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr:
                process.stderr.close()

    def stored_visits(self) -> int | None:
        """Rows in the visits table of the servers' database (None for the hello baseline, which stores nothing)."""
        if self.kind == "baseline":
            return None
        conn = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute("SELECT count(*) FROM visits").fetchone()[0]
        finally:
            conn.close()

    def settled_visits(self, timeout: float = 10) -> int | None:
        """The row count once the requests a finished wrk left in flight are done (two equal readings)."""
        count = self.stored_visits()
        deadline = time.monotonic() + timeout
        while count is not None and time.monotonic() < deadline:
            time.sleep(0.3)
            again = self.stored_visits()
            if again == count:
                break
            count = again
        return count

    @property
    def addrs(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.ports)


def run_wrk(servers: Servers, script: str, path: str, duration: float, connections: int,
            wrk_cpu: int | None, env_extra: dict[str, str] | None = None) -> dict:
    """One wrk run; returns the RESULT numbers plus the servers' CPU use in cores."""
    env = {**os.environ, "CHECKIN_PATH": "/v/demo-kafe", "ADDRS": servers.addrs, **(env_extra or {})}
    wrk_threads = max(2, servers.count)
    command = pinned(wrk_cpu, ["wrk", f"-t{wrk_threads}", f"-c{connections}", f"-d{max(1, round(duration))}s",
                               "--timeout", "10s", "--latency", "-s", str(HERE / script),
                               f"http://127.0.0.1:{servers.ports[0]}{path}"])
    stored_before = servers.settled_visits()
    cpu_before = servers.cpu_seconds()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    wall = time.monotonic() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu_seconds = (children.ru_utime - children_before.ru_utime) + (children.ru_stime - children_before.ru_stime)
    match = re.search(r"^RESULT (\{.*\})$", output, re.MULTILINE)
    if not match:
        raise RuntimeError("wrk printed no RESULT line:\n" + output)
    result = json.loads(match.group(1))
    result["server_cores"] = round((servers.cpu_seconds() - cpu_before) / wall, 2)
    result["wrk_cores"] = round(wrk_cpu_seconds / wall, 2)
    if stored_before is not None:
        result.update(stored_vs_acknowledged(servers.settled_visits() - stored_before, result["checkins"],
                                             connections))
    return result


def stored_vs_acknowledged(stored: int, acknowledged: int, connections: int) -> dict:
    """Rows the run stored against the 303s wrk got: none may be missing (an acknowledged visit is kept);
    at most one per connection may be extra (a POST in flight when wrk stopped, stored but never answered)."""
    return {"stored": stored, "lost": max(0, acknowledged - stored),
            "stored_unacknowledged": stored - acknowledged,
            "stored_ok": acknowledged <= stored <= acknowledged + connections}


def measure(kind: str, args: argparse.Namespace, workdir: Path) -> dict:
    """Start fresh servers for one series (SERIES), warm them up, run wrk once, stop them.

    "project@DIR" (from --also-tree) is the project series with app.py of another source tree, e.g. a
    prototype in a git worktree, alternated with this tree's in the same run.
    """
    kind, _, count = kind.partition("#")
    count = int(count or args.servers)
    two = count == 2
    if two:
        cpus: list[int | None] = [None, None] if args.no_pin else [0, 1]
        wrk_cpu = None
    elif args.no_pin:
        cpus, wrk_cpu = [None], None
    else:
        cpus, wrk_cpu = [0], 1
    base, _, tree = kind.partition("@")
    server, script, path, script_env = SERIES[base]
    if tree:
        script_env = {**script_env, **dict(item.split("=", 1) for item in args.tree_env)}
    folder = workdir / f"{base}-{time.monotonic_ns()}"
    folder.mkdir()
    servers = Servers(server, count, args.threads, cpus, folder,
                      root=Path(tree) if tree else ROOT).start()
    try:
        if args.warmup > 0:
            run_wrk(servers, script, path, args.warmup, args.connections, wrk_cpu, script_env)
        return run_wrk(servers, script, path, args.duration, args.connections, wrk_cpu, script_env)
    finally:
        servers.stop()
        shutil.rmtree(folder, ignore_errors=True)


def median_of(results: list[dict]) -> dict:
    keys = (*METRICS, "server_cores", "wrk_cores", "failures", "non_2xx_3xx", "socket_errors")
    median = {key: round(statistics.median(result[key] for result in results), 2) for key in keys}
    if all("stored" in result for result in results):
        median["lost"] = sum(result["lost"] for result in results)
        median["stored_ok"] = all(result["stored_ok"] for result in results)
    return median


def ratio(numerator: dict | None, key: str, denominator: dict | None, denominator_key: str = "requests_per_s"
          ) -> float | None:
    if not numerator or not denominator or not denominator[denominator_key]:
        return None
    return round(numerator[key] / denominator[denominator_key], 3)


def report(series: dict[str, list[dict]], args: argparse.Namespace) -> dict:
    medians = {name: median_of(runs) for name, runs in series.items() if runs}
    if args.scaling:
        return report_scaling(medians, series, args)
    project, baseline, floor = medians["project"], medians.get("baseline"), medians.get("floor")
    durable, post = medians.get("durable"), medians.get("post")
    summary = {"settings": {"runs": args.runs, "duration_s": args.duration, "connections": args.connections,
                            "waitress_threads": args.threads, "servers": args.servers,
                            "pinning": "none" if args.no_pin else ("server0 CPU0, server1 CPU1, wrk free"
                                                                    if args.servers == 2
                                                                    else "server CPU0, wrk CPU1")},
               "project_median": project, "baseline_median": baseline, "floor_median": floor,
               "durable_median": durable, "post_median": post,
               "medians": medians, "runs": series}
    summary["settings"]["load_average_after"] = [round(value, 1) for value in os.getloadavg()]
    print(f"{args.runs} run(s) × {args.duration} s, wrk -c{args.connections}, waitress threads={args.threads}, "
          f"servers={args.servers}, pinning: {summary['settings']['pinning']}; load average afterwards "
          f"{summary['settings']['load_average_after']} (other work on the machine shows here)")
    print("| series (median of the runs) | check-ins/s | requests/s | p50 ms | p95 ms | p99 ms | server cores "
          "| wrk cores | stored − acknowledged |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, median in medians.items():
        base, _, count = name.partition("#")
        label = SERIES_LABELS.get(base, base) + (f", {count} processes" if count else "")
        stored = "–" if "lost" not in median else (
            f"{'ok' if median['stored_ok'] else 'WRONG'}, lost {median['lost']}")
        print(f"| {label} | {median['checkins_per_s']:.0f} | {median['requests_per_s']:.0f} | {median['p50_ms']} | "
              f"{median['p95_ms']} | {median['p99_ms']} | {median['server_cores']} | {median['wrk_cores']} | {stored} |")
    print(f"project: failures {project['failures']}, non-2xx/3xx {project['non_2xx_3xx']}")
    if durable:
        summary["ratio_post_to_durable"] = ratio(post, "checkins_per_s", durable, "checkins_per_s")
        summary["ratio_checkins_to_durable"] = ratio(project, "checkins_per_s", durable, "checkins_per_s")
        if post:
            print(f"goal 1: check-in POST / bare durable POST = {summary['ratio_post_to_durable']:.3f}")
        print(f"goal 2: whole check-ins/s / bare durable POST = {summary['ratio_checkins_to_durable']:.3f}")
    if baseline:
        summary["ratio_checkins_to_baseline"] = ratio(project, "checkins_per_s", baseline)
        summary["ratio_requests_to_baseline"] = ratio(project, "requests_per_s", baseline)
        print(f"ratio project/minimal Flask hello: check-ins/s {summary['ratio_checkins_to_baseline']:.3f}, "
              f"requests/s {summary['ratio_requests_to_baseline']:.3f}")
        if floor:
            floor_ratio = floor["requests_per_s"] / baseline["requests_per_s"]
            summary["ceiling_checkins_to_baseline"] = round(floor_ratio / 3, 3)
            print(f"the project's emptiest request (/favicon.ico) is {floor_ratio:.3f} of the hello; "
                  f"three of them: {floor['requests_per_s'] / 3:.0f} check-ins/s, the ceiling of a check-in of "
                  f"three Flask requests (ratio to the hello {floor_ratio / 3:.3f})")
            if durable:
                summary["ceiling_checkins_to_durable"] = round(floor["requests_per_s"] / 3 / durable["checkins_per_s"], 3)
                print(f"that ceiling against the bare durable POST: {summary['ceiling_checkins_to_durable']:.3f}")
    return summary


def report_scaling(medians: dict[str, dict], series: dict[str, list[dict]], args: argparse.Namespace) -> dict:
    """Two processes against one, for each kind of server; with the CPU wrk took from the servers' cores."""
    summary: dict = {"settings": {"runs": args.runs, "duration_s": args.duration, "connections": args.connections,
                                  "load_average_after": [round(value, 1) for value in os.getloadavg()]},
                     "medians": medians, "runs": series, "scaling": {}}
    print(f"{args.runs} run(s) × {args.duration} s, wrk -c{args.connections}; one process: server CPU 0, wrk CPU 1; "
          f"two: CPU 0 and 1, wrk unpinned; load average afterwards {summary['settings']['load_average_after']}")
    print("| series | one process | two processes | two / one | server cores (one, two) | wrk cores (one, two) "
          "| p99 ms (one, two) | stored − acknowledged |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, key in (("baseline", "requests_per_s"), ("durable", "checkins_per_s"), ("project", "checkins_per_s")):
        one, two = medians[kind], medians[f"{kind}#2"]
        gain = round(two[key] / one[key], 2) if one[key] else None
        summary["scaling"][kind] = gain
        stored = "–" if "lost" not in one else (
            "ok" if one["stored_ok"] and two["stored_ok"] else "WRONG") + f", lost {one['lost'] + two['lost']}"
        print(f"| {SERIES_LABELS[kind]} ({'requests' if key == 'requests_per_s' else 'check-ins'}/s) | {one[key]:.0f} | "
              f"{two[key]:.0f} | {gain} | {one['server_cores']}, {two['server_cores']} | {one['wrk_cores']}, "
              f"{two['wrk_cores']} | {one['p99_ms']}, {two['p99_ms']} | {stored} |")
    return summary


SERIES_LABELS = {"baseline": "minimal Flask hello (GET)", "durable": "bare durable POST",
                 "project": "project, whole check-in (form, POST, receipt)", "post": "project, check-in POST alone",
                 "floor": "project, emptiest request (/favicon.ico)"}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=4, help="waitress threads per server")
    parser.add_argument("--servers", type=int, choices=(1, 2), default=1)
    parser.add_argument("--scaling", action="store_true",
                        help="one process against two, alternated: the hello, the bare durable POST and the "
                             "whole check-in, each with one server (wrk on the other core) and with two "
                             "(one per core, wrk sharing them)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="measure the project only (no hello, durable POST, POST-alone or floor series)")
    parser.add_argument("--no-floor", action="store_true",
                        help="skip the series of the project's emptiest request (/favicon.ico)")
    parser.add_argument("--no-pin", action="store_true", help="let the OS schedule server and wrk")
    parser.add_argument("--also-tree", type=Path, action="append", default=[],
                        help="also run the whole check-in from this source tree (e.g. a prototype's git "
                             "worktree), alternated with this tree's in the same series")
    parser.add_argument("--tree-env", action="append", default=[], metavar="NAME=VALUE",
                        help="environment for the wrk script of the --also-tree series")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian package wrk)")
    if cpu_count() < 2 and (args.servers == 2 or not args.no_pin):
        args.no_pin = True
    order = ["project"] if args.no_baseline or args.scaling else [
        "baseline", "durable", "project", "post", *([] if args.no_floor else ["floor"])]
    order[order.index("project") + 1:order.index("project") + 1] = [
        f"project@{tree.resolve()}" for tree in args.also_tree]
    if args.scaling:
        order = ["baseline", "baseline#2", "durable", "durable#2", "project", "project#2"]
    series: dict[str, list[dict]] = {name: [] for name in order}
    with tempfile.TemporaryDirectory(prefix="roros-load-") as workdir:
        for _ in range(args.runs):
            for name in order:
                series[name].append(measure(name, args, Path(workdir)))
    summary = report(series, args)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


if __name__ == "__main__":
    main()
