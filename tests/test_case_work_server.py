"""End to end on the real server: from a case's phone number to everyone notified, through a loopback gateway."""
from __future__ import annotations

import sqlite3
import time

import pytest

from case_driver import (CASE_PHONE, check_in, log_in, prepare, search_case, sms_env, sms_everyone_not_reached,
                         tap, wait_for_progress)
from server import Server
from sms_gateway import Gateway

pytestmark = pytest.mark.slow


def outbox(server: Server) -> list[tuple]:
    conn = sqlite3.connect(server.database)
    try:
        return conn.execute("SELECT attempts, last_error, accepted_at FROM sms_outbox ORDER BY id").fetchall()
    finally:
        conn.close()


def wait_until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_from_a_phone_number_to_everyone_notified_through_refusals_time_outs_and_a_restart(tmp_path):
    # The gateway refuses the first attempt, lets the second hang past the time-out, refuses a third
    # with 400, then accepts everything. The server is killed while an attempt hangs, and started again.
    with Gateway(answers=[500, "timeout", 400], hang_seconds=4) as gateway:
        server = Server(tmp_path, env=sms_env(gateway.url))
        totp = prepare(server)
        server.start()
        try:
            check_in(server.base, "Kari Nordmann", CASE_PHONE)
            check_in(server.base, "Per Hansen", "+4798765432", "nb")
            check_in(server.base, "Anna Schmidt", "+4915112345678", "de")
            check_in(server.base, "Mor Berg", "+4741111111", "en")
            check_in(server.base, "Sønn Berg", "+4741111111", "en")
            time.sleep(1.1)  # a search ending in the second of a check-in does not reach it yet

            tracer = log_in(server.base, totp)
            case = search_case(tracer, "2026/55")
            html = tracer.get(case, click=False)
            assert "0 av 4 nådd" in html and "3 telefonnumre" in html and "Kari Nordmann" not in html
            html = tap(tracer, html, "Per Hansen", "not_reached")
            assert "1 forsøk uten svar" in html
            html = sms_everyone_not_reached(tracer, case, expected=3)
            assert "SMS i kø" in html

            # The first attempt is refused (500); the second hangs: kill the server in the middle of it.
            wait_until(lambda: len(gateway.requests) >= 2)
            server.kill()
            assert gateway.accepted == []
            server.start()
            # The tracer's session survives the restart: the same browser reloads the case page.
            html = wait_for_progress(tracer, case, "4 av 4 nådd", timeout=60)
        finally:
            output = server.stop()

    # Each number exactly once, though five attempts reached the gateway.
    assert gateway.accepted_per_number() == {"+4798765432": 1, "+4915112345678": 1, "+4741111111": 1}
    assert len(gateway.requests) == 3 + 3
    texts = {message["body"]["to"]: message["body"]["text"] for message in gateway.accepted}
    assert texts["+4915112345678"].startswith("Røros kommune: Sie waren am ")
    assert texts["+4741111111"].startswith("Røros kommune: You were at Kaffestuggu on ")
    assert texts["+4798765432"].startswith("Røros kommune: Du var på Kaffestuggu ")
    assert all("9123" not in text and "Kari" not in text for text in texts.values())
    assert html.count("Varslet på SMS") >= 3 and "Igjen: 0 ikke ringt, 0 ikke nådd" in html
    # One refused or lost attempt each, then accepted: the hanging one was retried after its lease ran out.
    assert [(row[0], row[2] is not None) for row in outbox(server)] == [(2, True)] * 3
    for secret in ("98765432", "15112345678", "41111111", "Kari", "Sie waren"):
        assert secret not in output
    assert "not accepted (HTTP 500" in output and "not accepted (HTTP 400" in output


def test_the_case_cost_benchmark_counts_clicks_from_phone_number_to_everyone_notified():
    from benchmarks import case_work

    result = case_work.measure(contacts=4, called=1)
    # Case search page, search, open the case, one tap, "SMS to everyone not reached", confirm.
    assert result["clicks"] == 6 and result["login_clicks"] == 1
    assert 0 < result["search_to_sms_queued_s"] < result["total_s"]
