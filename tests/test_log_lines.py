"""Forged log lines: whatever a client chose, one record stays one line of the server's log."""
from __future__ import annotations

import io
import logging
import socket
import urllib.parse

import pytest

from roros_checkin import logs
from server import Browser, Server

FORGED = "2026-12-02 18:00:00,000 INFO auth: login for user 'root'"
# Everything a reader (a terminal, `less`, Python's splitlines, a log shipper) may take for a line break,
# and other characters that hide or rewrite what is shown.
BREAKS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
HIDDEN = ["\x00", "\x1b[2K\r", "\u202e", "\u200b", "\t"]


def formatted(message: str, *args, exc_info=None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.SafeFormatter(logs.FORMAT))
    logger = logging.getLogger("test_log_lines")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning(message, *args, exc_info=exc_info)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def forged_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(FORGED[:19])]


@pytest.mark.parametrize("separator", BREAKS + HIDDEN)
def test_a_client_value_in_the_arguments_stays_on_its_line(separator):
    output = formatted("check-in at %s", f"x{separator}{FORGED}")
    assert len(output.splitlines()) == 1 and forged_lines(output) == []
    assert output.isprintable() or output.endswith("\n") and output[:-1].isprintable()


@pytest.mark.parametrize("separator", BREAKS)
def test_a_client_value_in_a_preformatted_message_stays_on_its_line(separator):
    """Flask logs 'Exception on <path>' with the path already in the message: escaped all the same."""
    output = formatted(f"Exception on /v/x{separator}{FORGED} [POST]")
    assert len(output.splitlines()) == 1 and forged_lines(output) == []


@pytest.mark.parametrize("separator", BREAKS)
def test_a_traceback_cannot_start_a_line_of_its_own(separator):
    try:
        raise ValueError(f"bad value x{separator}{FORGED}")
    except ValueError as error:
        output = formatted("request failed", exc_info=error)
    lines = output.splitlines()
    assert len(lines) > 2 and all(line.startswith("    ") for line in lines[1:])
    assert forged_lines(output) == []


def test_printable_text_is_left_as_it_is():
    assert logs.escape("Røros kafé 'Fromm' \\n ✓") == "Røros kafé 'Fromm' \\n ✓"
    assert logs.escape("a\nb\x85c\u2028d") == "a\\nb\\x85c\\u2028d"


def raw_request(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        return sock.recv(4096)


@pytest.mark.slow
def test_the_forged_line_of_the_report_is_not_written_by_the_real_server(tmp_path):
    server = Server(tmp_path, "--demo", env={"ROROS_TRUSTED_PROXY": "127.0.0.1",
                                             "ROROS_TWO_FACTOR_ENABLED": "false"}).start()
    try:
        browser = Browser(server.base)
        # The report's reproduction, repeated well past any limit, and its variants.
        for _ in range(25):
            browser.request("/v/x%0a" + urllib.parse.quote(FORGED), {})
        for separator in BREAKS * 3:
            slug = urllib.parse.quote(f"x{separator}{FORGED}", safe="")
            for path in (f"/v/{slug}", f"/kiosk/{slug}"):
                status = browser.request(path, {"name": "Kari Nordmann", "phone": "91234567",
                                                "idempotency_key": "k" * 24})[0]
                assert status == 404
        # A username is logged at every login attempt.
        for separator in BREAKS:
            token = browser.form_tokens("/tracing/login")["csrf_token"]
            status = browser.request("/tracing/login", {"csrf_token": token, "username": f"x{separator}{FORGED}",
                                                        "password": "wrong"})[0]
            assert status in (401, 429)
        # Waitress logs a malformed header from the trusted proxy with its value; NEL is a header byte.
        answer = raw_request(server.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: http\x85"
                             + FORGED.encode() + b"\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 400")
    finally:
        output = server.stop()
    assert "Malformed proxy header" in output and "login failed for user" in output  # they were logged
    assert forged_lines(output) == []
    for line in output.splitlines():
        assert line.isprintable(), repr(line)
