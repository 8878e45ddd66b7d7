"""What each of the project's speed-ups still buys: CPU per check-in with it and without it, alternated.

    .venv/bin/python benchmarks/speedups.py [--checkins 400] [--rounds 5]

The speed-up left is the page-shape cache (pages.py, PAGE_CACHE_ENABLED). Three more were measured the
same way at 2e693a0 and removed, being under 5 % of a check-in (benchmarks/README.md): the session
serializer made once (session_cookie.py), the request's translations cached on g (i18n.py) and the
security headers added in one pass (security.py). Each round runs the phone's three steps (benchmarks/checkin_cost.py: GET form, POST, GET receipt, through
the Flask test client, CPU time of this process) once with every speed-up on and once with each one off
(the others on), in turn, so drift on a shared machine hits every variant alike; the report gives the
median CPU µs per check-in of each and the gain of each speed-up (how much more a check-in costs without it).
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
for path in (str(HERE.parent), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

from checkin_cost import floor_cost, one_checkin, project_app  # noqa: E402

SPEEDUPS = ("pages",)


@contextlib.contextmanager
def without(app, name: str) -> Iterator[None]:
    """The app with one speed-up switched off (put back afterwards)."""
    if name != "pages":
        raise ValueError(name)
    app.extensions["roros_pages_enabled"] = False  # what PAGE_CACHE_ENABLED = False gives
    try:
        yield
    finally:
        app.extensions["roros_pages_enabled"] = True


def cost(app, checkins: int, counter: int) -> tuple[float, float]:
    """CPU µs of one check-in (three steps) and of one emptiest request, averaged."""
    total = 0.0
    for number in range(checkins):
        total += sum(one_checkin(app, counter + number))
    return total / checkins * 1e6, floor_cost(app, checkins) * 1e6


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkins", type=int, default=400, help="check-ins per variant and round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    variants = ("all on", *SPEEDUPS)
    samples: dict[str, list[tuple[float, float]]] = {variant: [] for variant in variants}
    with tempfile.TemporaryDirectory(prefix="roros-speedups-") as folder:
        app = project_app(Path(folder))
        counter = 0
        for variant in variants:  # warm-up: templates compiled, caches filled, each path run once
            with contextlib.ExitStack() as stack:
                if variant != "all on":
                    stack.enter_context(without(app, variant))
                cost(app, 50, counter)
                counter += 50
        for _ in range(args.rounds):
            for variant in variants:
                with contextlib.ExitStack() as stack:
                    if variant != "all on":
                        stack.enter_context(without(app, variant))
                    samples[variant].append(cost(app, args.checkins, counter))
                    counter += args.checkins
    medians = {variant: (statistics.median(s[0] for s in runs), statistics.median(s[1] for s in runs))
               for variant, runs in samples.items()}
    base_checkin, base_floor = medians["all on"]
    result = {"checkin_us": {variant: round(m[0], 1) for variant, m in medians.items()},
              "floor_us": {variant: round(m[1], 1) for variant, m in medians.items()},
              "gain_percent": {name: round((medians[name][0] / base_checkin - 1) * 100, 1) for name in SPEEDUPS},
              "floor_gain_percent": {name: round((medians[name][1] / base_floor - 1) * 100, 1)
                                     for name in SPEEDUPS}}
    print(f"CPU µs per check-in (GET form + POST + GET receipt), median of {args.rounds} rounds × "
          f"{args.checkins}, alternated; and per emptiest request (/favicon.ico)")
    print("| variant | check-in µs | without it a check-in costs | emptiest request µs | without it |")
    print("|---|---|---|---|---|")
    for variant in variants:
        checkin, floor = medians[variant]
        gain = "" if variant == "all on" else f"{result['gain_percent'][variant]:+.1f} %"
        floor_gain = "" if variant == "all on" else f"{result['floor_gain_percent'][variant]:+.1f} %"
        label = "all speed-ups on" if variant == "all on" else f"without {variant}"
        print(f"| {label} | {checkin:.0f} | {gain} | {floor:.1f} | {floor_gain} |")
    return result


if __name__ == "__main__":
    main()
