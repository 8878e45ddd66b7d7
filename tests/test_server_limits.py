"""The real waitress server refuses oversized requests itself, before reading what they would send."""
from __future__ import annotations

import socket

import pytest

from server import Server

pytestmark = pytest.mark.slow

LIMIT = 64 * 1024  # MAX_CONTENT_LENGTH's default


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("limits"), "--demo").start()
    yield running
    running.stop()


def connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.settimeout(3)  # the answer must come without the body; a waiting server times this out
    return sock


def answer(sock: socket.socket) -> str:
    """What the server sent until it closed the connection (or stopped sending for 3 s)."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        if not received:
            raise
    except ConnectionResetError:
        pass
    return received.decode("latin-1")


def head(path: str, **headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/x-www-form-urlencoded",
             *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize("length", [200_000_000, 10 * LIMIT, LIMIT + 1])
def test_a_too_long_content_length_is_refused_without_reading_the_body(server, length):
    with connect(server) as sock:
        sock.sendall(head("/v/demo-kafe", Content_Length=str(length)))  # and not one byte of body
        response = answer(sock)
    assert response.startswith("HTTP/1.1 413 ")


@pytest.mark.parametrize("path", ["/v/demo-kafe", "/kiosk/demo-kafe", "/tracing/login", "/v/no-such-venue"])
def test_a_chunked_body_is_refused_once_it_passes_the_limit(server, path):
    with connect(server) as sock:
        sock.sendall(head(path, Transfer_Encoding="chunked"))
        chunk = b"a=" + b"x" * 8190
        # Just past the limit, and no last chunk: a server that waits for the rest times out.
        body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(LIMIT // len(chunk) + 1))
        sock.sendall(body)
        response = answer(sock)
    assert response.startswith("HTTP/1.1 413 ")


def test_a_body_at_the_limit_still_reaches_the_app(server):
    body = b"name=" + b"x" * (LIMIT - 5)
    with connect(server) as sock:
        sock.sendall(head("/v/demo-kafe", Content_Length=str(len(body)), Connection="close") + body)
        response = answer(sock)
    # The app's own page (a form with a mistake), not waitress's refusal.
    assert response.startswith("HTTP/1.1 400 ") and "Registrer meg" in response


def test_oversized_headers_are_refused(server):
    with connect(server) as sock:
        sock.sendall(b"GET /v/demo-kafe HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " + b"x" * 20_000 + b"\r\n\r\n")
        response = answer(sock)
    assert response.split(" ", 2)[1] == "431"  # waitress answers these as HTTP/1.0
