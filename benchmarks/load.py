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
import shutil
import socket
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
# Each series: which server runs, the wrk script that drives it, and the path it starts from.
SERIES = {
    "baseline": ("baseline", "hello.lua", "/"),
    "project": ("project", "checkin.lua", "/v/demo-kafe"),
    "floor": ("project", "hello.lua", "/favicon.ico"),  # the project's emptiest request
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
                 extra_env: dict[str, str] | None = None) -> None:
        self.kind, self.count, self.threads, self.cpus = kind, count, threads, cpus
        self.workdir = workdir
        self.ports = [free_port() for _ in range(count)]
        self.processes: list[subprocess.Popen] = []
        self.database = workdir / "checkin.sqlite3"
        self.extra_env = extra_env or {}

    def command(self, port: int, first: bool) -> list[str]:
        if self.kind == "baseline":
            return [sys.executable, str(HERE / "hello_app.py"), "--port", str(port),
                    "--threads", str(self.threads)]
        # --demo adds the venue the load script checks in at (once: the first process creates it).
        return [sys.executable, "app.py", "--port", str(port), "--threads", str(self.threads),
                *(["--demo"] if first else [])]

    def start(self) -> "Servers":
        env = server_environ(ROROS_DATABASE=str(self.database), **self.extra_env)
        for index, port in enumerate(self.ports):
            process = subprocess.Popen(pinned(self.cpus[index], self.command(port, index == 0)), cwd=ROOT,
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
    cpu_before = servers.cpu_seconds()
    started = time.monotonic()
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    wall = time.monotonic() - started
    match = re.search(r"^RESULT (\{.*\})$", output, re.MULTILINE)
    if not match:
        raise RuntimeError("wrk printed no RESULT line:\n" + output)
    result = json.loads(match.group(1))
    result["server_cores"] = round((servers.cpu_seconds() - cpu_before) / wall, 2)
    return result


def measure(kind: str, args: argparse.Namespace, workdir: Path) -> dict:
    """Start fresh servers for one series (SERIES), warm them up, run wrk once, stop them."""
    two = args.servers == 2
    if two:
        cpus: list[int | None] = [None, None] if args.no_pin else [0, 1]
        wrk_cpu = None
    elif args.no_pin:
        cpus, wrk_cpu = [None], None
    else:
        cpus, wrk_cpu = [0], 1
    folder = workdir / f"{kind}-{time.monotonic_ns()}"
    folder.mkdir()
    server, script, path = SERIES[kind]
    servers = Servers(server, args.servers, args.threads, cpus, folder).start()
    try:
        if args.warmup > 0:
            run_wrk(servers, script, path, args.warmup, args.connections, wrk_cpu)
        return run_wrk(servers, script, path, args.duration, args.connections, wrk_cpu)
    finally:
        servers.stop()
        shutil.rmtree(folder, ignore_errors=True)


def median_of(results: list[dict]) -> dict:
    return {key: round(statistics.median(result[key] for result in results), 2)
            for key in (*METRICS, "server_cores", "failures", "non_2xx_3xx", "socket_errors")}


def report(series: dict[str, list[dict]], args: argparse.Namespace) -> dict:
    project, baseline = median_of(series["project"]), median_of(series["baseline"]) if series["baseline"] else None
    floor = median_of(series["floor"]) if series["floor"] else None
    summary = {"settings": {"runs": args.runs, "duration_s": args.duration, "connections": args.connections,
                            "waitress_threads": args.threads, "servers": args.servers,
                            "pinning": "none" if args.no_pin else ("server0 CPU0, server1 CPU1, wrk free"
                                                                    if args.servers == 2
                                                                    else "server CPU0, wrk CPU1")},
               "project_median": project, "baseline_median": baseline, "floor_median": floor, "runs": series}
    summary["settings"]["load_average_after"] = [round(value, 1) for value in os.getloadavg()]
    print(f"{args.runs} run(s) × {args.duration} s, wrk -c{args.connections}, waitress threads={args.threads}, "
          f"servers={args.servers}, pinning: {summary['settings']['pinning']}; load average afterwards "
          f"{summary['settings']['load_average_after']} (other work on the machine shows here)")
    print("| run | project check-ins/s | project req/s | p50 ms | p95 ms | p99 ms | baseline req/s | baseline p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for index, run in enumerate(series["project"]):
        base = series["baseline"][index] if series["baseline"] else {}
        print(f"| {index + 1} | {run['checkins_per_s']:.0f} | {run['requests_per_s']:.0f} | {run['p50_ms']:.1f} | "
              f"{run['p95_ms']:.1f} | {run['p99_ms']:.1f} | {base.get('requests_per_s', 0):.0f} | "
              f"{base.get('p99_ms', 0):.1f} |")
    print(f"median: project {project['checkins_per_s']:.0f} check-ins/s ({project['requests_per_s']:.0f} req/s, "
          f"3 requests per check-in), p50 {project['p50_ms']} ms, p95 {project['p95_ms']} ms, "
          f"p99 {project['p99_ms']} ms, server cores {project['server_cores']}; "
          f"failures {project['failures']}, non-2xx/3xx {project['non_2xx_3xx']}")
    if baseline:
        ratio_checkins = project["checkins_per_s"] / baseline["requests_per_s"]
        ratio_requests = project["requests_per_s"] / baseline["requests_per_s"]
        summary["ratio_checkins_to_baseline"] = round(ratio_checkins, 3)
        summary["ratio_requests_to_baseline"] = round(ratio_requests, 3)
        print(f"median: baseline {baseline['requests_per_s']:.0f} req/s, p99 {baseline['p99_ms']} ms, "
              f"server cores {baseline['server_cores']}")
        print(f"ratio project/baseline: check-ins/s {ratio_checkins:.3f}, requests/s {ratio_requests:.3f}")
        if floor:
            floor_ratio = floor["requests_per_s"] / baseline["requests_per_s"]
            ceiling = floor_ratio / 3
            summary["ceiling_checkins_to_baseline"] = round(ceiling, 3)
            print(f"median: project's emptiest request (/favicon.ico) {floor['requests_per_s']:.0f} req/s, "
                  f"p99 {floor['p99_ms']} ms, server cores {floor['server_cores']}; {floor_ratio:.3f} of the baseline")
            print(f"ceiling while a check-in is three Flask requests: {floor['requests_per_s'] / 3:.0f} check-ins/s, "
                  f"ratio {ceiling:.3f} (three emptiest requests: a check-in whose steps cost nothing)")
    return summary


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=4, help="waitress threads per server")
    parser.add_argument("--servers", type=int, choices=(1, 2), default=1)
    parser.add_argument("--no-baseline", action="store_true", help="measure the project only")
    parser.add_argument("--no-floor", action="store_true",
                        help="skip the series of the project's emptiest request (/favicon.ico)")
    parser.add_argument("--no-pin", action="store_true", help="let the OS schedule server and wrk")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian package wrk)")
    if cpu_count() < 2 and (args.servers == 2 or not args.no_pin):
        args.no_pin = True
    series: dict[str, list[dict]] = {"project": [], "baseline": [], "floor": []}
    with tempfile.TemporaryDirectory(prefix="roros-load-") as workdir:
        for _ in range(args.runs):
            if not args.no_baseline:
                series["baseline"].append(measure("baseline", args, Path(workdir)))
            series["project"].append(measure("project", args, Path(workdir)))
            if not args.no_floor and not args.no_baseline:
                series["floor"].append(measure("floor", args, Path(workdir)))
    summary = report(series, args)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


if __name__ == "__main__":
    main()
