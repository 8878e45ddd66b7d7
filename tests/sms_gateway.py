"""A real HTTP server on loopback standing in for the SMS gateway: it answers as told and counts."""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Gateway:
    """POSTs are answered from `answers` (a status code, or "timeout": no answer for a while), then `default`.

    Accepted messages (2xx answers) are kept in `accepted`; every request, whatever its answer, in `requests`.
    """

    def __init__(self, answers: list[int | str] | None = None, default: int = 202,
                 hang_seconds: float = 3.0) -> None:
        self.answers = list(answers or [])
        self.default = default
        self.hang_seconds = hang_seconds
        self.requests: list[dict] = []
        self.accepted: list[dict] = []
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                message = {"body": json.loads(body), "authorization": self.headers.get("Authorization"),
                           "content_type": self.headers.get("Content-Type"),
                           "idempotency_key": self.headers.get("Idempotency-Key"), "path": self.path}
                with gateway.lock:
                    answer = gateway.answers.pop(0) if gateway.answers else gateway.default
                    gateway.requests.append(message)
                if answer == "timeout":
                    time.sleep(gateway.hang_seconds)
                    answer = 504
                    # The client gave up long ago; this answer goes nowhere.
                elif 200 <= answer < 300:
                    with gateway.lock:
                        gateway.accepted.append(message)
                try:
                    self.send_response(answer)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's name)
                pass  # numbers and texts stay out of the test output

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Gateway":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def accepted_per_number(self) -> Counter:
        with self.lock:
            return Counter(message["body"]["to"] for message in self.accepted)

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        """Wait until `count` messages were accepted."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.accepted) >= count:
                    return
            time.sleep(0.05)
        raise AssertionError(f"gateway accepted {len(self.accepted)} messages, not {count}, within {timeout} s")
