"""SIGKILL during a stream of check-ins on the real server: every acknowledged check-in survives, the
database is intact, and re-sending the forms that got no answer stores each of them exactly once."""
from __future__ import annotations

import http.client
import sqlite3
import threading
import time
from dataclasses import dataclass, field

import pytest

from server import Browser, Server

pytestmark = pytest.mark.slow

GUESTS = 6  # client threads, each one phone after another


@dataclass
class Guest:
    """One client thread's log: every form it sent, and which were answered with the 303."""

    browser: Browser
    sent: list[dict] = field(default_factory=list)
    acked: set[str] = field(default_factory=set)
    unanswered: list[dict] = field(default_factory=list)


def check_in_until_the_server_dies(guest: Guest, number: int, stop: threading.Event) -> None:
    count = 0
    while not stop.is_set():
        count += 1
        try:
            tokens = guest.browser.form_tokens("/v/demo-kafe")
        except (OSError, http.client.HTTPException):
            return
        form = {**tokens, "name": "Benk Testesen", "phone": f"9{number}{count:06d}", "consent": "y",
                "party_size": "1"}
        guest.sent.append(form)
        try:
            status, _headers, _body = guest.browser.request("/v/demo-kafe", form)
        except (OSError, http.client.HTTPException):
            guest.unanswered.append(form)  # sent, but the answer never came
            return
        assert status == 303, status
        guest.acked.add(form["idempotency_key"])


def stored(database) -> list[str]:
    with sqlite3.connect(database) as conn:
        return [row[0] for row in conn.execute("SELECT idempotency_key FROM visits")]


def test_sigkill_loses_no_acknowledged_check_in_and_resending_stores_no_duplicate(tmp_path):
    server = Server(tmp_path, "--demo", env={"ROROS_RATELIMIT_ENABLED": "false"}).start()
    guests = [Guest(Browser(server.base)) for _ in range(GUESTS)]
    stop = threading.Event()
    threads = [threading.Thread(target=check_in_until_the_server_dies, args=(guest, number, stop))
               for number, guest in enumerate(guests)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    server.kill()  # SIGKILL, mid-stream
    stop.set()
    for thread in threads:
        thread.join(timeout=15)

    acked = set().union(*(guest.acked for guest in guests))
    assert len(acked) > 20, "the clients should have been checking in when the server died"
    rows = stored(server.database)
    assert len(rows) == len(set(rows))
    assert acked <= set(rows)
    # Only a request in flight at the kill can be stored without its answer: at most one per client.
    assert len(set(rows) - acked) <= GUESTS
    with sqlite3.connect(server.database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []

    restarted = Server(tmp_path, env={"ROROS_RATELIMIT_ENABLED": "false"}).start()
    try:
        for guest in guests:
            guest.browser.base = restarted.base  # the same phone, cookie and form, sent again
            for form in guest.unanswered:
                status, _headers, _body = guest.browser.request("/v/demo-kafe", form)
                assert status == 303
    finally:
        restarted.stop()
    sent_keys = {form["idempotency_key"] for guest in guests for form in guest.sent}
    rows = stored(restarted.database)
    assert len(rows) == len(set(rows))
    assert set(rows) == sent_keys
