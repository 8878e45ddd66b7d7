"""What a case costs the tracing team, in clicks and seconds, from the case's phone number to everyone notified.

    .venv/bin/python benchmarks/case_work.py [--contacts 50] [--called 0]

Starts the real server (waitress, `python app.py`) with the http SMS provider pointed at a loopback
gateway that accepts at once, checks in the case and N contacts through the real form, and then does
what a tracer does, counting each button pressed or link followed as a click:
search the case's phone number, open the case, tap an outcome for the first `--called` contacts
(as if phoned), send SMS to everyone not reached (confirmation, confirm), and reload the case page
until it shows everyone notified. Login is counted apart (it is not part of a case).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from case_driver import (CASE_PHONE, check_in, log_in, prepare, search_case, sms_env,  # noqa: E402
                         sms_everyone_not_reached, tap, wait_for_progress)
from server import Server  # noqa: E402
from sms_gateway import Gateway  # noqa: E402


def guest_name(number: int) -> str:
    """A made-up name per number (names hold letters only): Gjest Ab, Gjest Ac, ..."""
    return "Gjest " + "".join(chr(ord("a") + int(digit)) for digit in f"{number:02d}").capitalize()


def measure(contacts: int, called: int) -> dict:
    with tempfile.TemporaryDirectory() as folder, Gateway() as gateway:
        server = Server(Path(folder), env=sms_env(gateway.url))
        totp = prepare(server)
        server.start()
        try:
            check_in(server.base, "Kari Nordmann", CASE_PHONE)
            for number in range(contacts):
                check_in(server.base, guest_name(number), f"+47{92000000 + number}",
                         ("nb", "nn", "en", "de", "sv")[number % 5])
            time.sleep(1.1)  # a search ending in the second of a check-in does not reach it yet
            tracer = log_in(server.base, totp)
            login_clicks, tracer.clicks = tracer.clicks, 0
            started = time.monotonic()
            case = search_case(tracer, "2026/50")
            html = tracer.get(case, click=False)
            for number in range(called):
                html = tap(tracer, html, guest_name(number), "reached")
            tapped = time.monotonic()
            sms_everyone_not_reached(tracer, case, expected=contacts - called)
            queued = time.monotonic()
            wait_for_progress(tracer, case, f"{contacts} av {contacts} nådd", timeout=600)
            done = time.monotonic()
        finally:
            server.stop()
        counts = gateway.accepted_per_number()
    assert len(counts) == contacts - called and set(counts.values()) <= {1}
    return {"contacts": contacts, "called": called, "login_clicks": login_clicks, "clicks": tracer.clicks,
            "search_to_sms_queued_s": queued - started, "taps_s": tapped - started,
            "sms_delivery_s": done - queued, "total_s": done - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=50)
    parser.add_argument("--called", type=int, default=0, help="contacts phoned and tapped before the SMS")
    args = parser.parse_args()
    result = measure(args.contacts, args.called)
    print(f"case with {result['contacts']} contacts, {result['called']} tapped by hand: "
          f"{result['clicks']} clicks (+{result['login_clicks']} to log in); "
          f"search to SMS queued {result['search_to_sms_queued_s']:.2f} s server and client time, "
          f"SMS delivered and progress shown {result['sms_delivery_s']:.2f} s later; "
          f"total {result['total_s']:.2f} s (typing and reading not included)")


if __name__ == "__main__":
    main()
