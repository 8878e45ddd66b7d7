"""Start `python app.py` as a real waitress server on a free port, for tests that need the real thing."""
from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_environ(**settings: str | None) -> dict[str, str]:
    """This process's environment without the shell's ROROS_* settings, plus `settings` (None: left out).

    A server or command a test starts sees only the settings the test chose.
    """
    environ = {key: value for key, value in os.environ.items() if not key.startswith("ROROS_")}
    environ.update({key: value for key, value in settings.items() if value is not None})
    return environ


class Server:
    """`python app.py` in a subprocess; its database and secret live in `directory`.

    `env` adds to (or, with None, removes from) the server's environment, which holds no ROROS_*
    variable of the shell's.
    """

    def __init__(self, directory: Path, *args: str, env: dict[str, str | None] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.database = directory / "checkin.sqlite3"
        self.environ = clean_environ(**{"ROROS_DATABASE": str(self.database),
                                        "ROROS_SECRET_KEY": "server-test-secret-key-0123456789abcdef",
                                        "ROROS_PUBLIC_URL": self.base, "PYTHONUNBUFFERED": "1", **(env or {})})
        self.args = args
        self.process: subprocess.Popen | None = None
        self.output: list[str] = []

    def start(self) -> "Server":
        self.process = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(self.port), *self.args], cwd=ROOT, env=self.environ,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None:
                    raise RuntimeError("server exited: " + self._collect_output()) from None
                time.sleep(0.1)
        raise RuntimeError("server did not answer within 30 s")

    def stop(self) -> str:
        """Stop the server (SIGTERM) and return what it printed."""
        if self.process is None:
            return ""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self._collect_output()

    def kill(self) -> str:
        """SIGKILL: no shutdown handlers, as a crash or power cut would leave it."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        return self._collect_output()

    def _collect_output(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        if not self.process.stdout.closed:
            self.output.append(self.process.stdout.read())
            self.process.stdout.close()
        return "".join(self.output)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie-keeping HTTP client that does not follow redirects, like a test client for a real server."""

    # Seconds to wait for an answer; a test that measures long waits sets more.
    timeout = 10

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect())

    def request(self, path: str, data: dict | None = None, headers: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            with self.opener.open(req, timeout=self.timeout) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def form_tokens(self, path: str) -> dict[str, str]:
        _status, _headers, html = self.request(path)
        return dict(re.findall(r'name="(csrf_token|idempotency_key)" type="hidden" value="([^"]+)"', html))
