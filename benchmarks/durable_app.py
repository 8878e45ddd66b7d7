"""The bare durable POST: a minimal Flask app that stores a form the way the project must, and nothing more.

`python benchmarks/durable_app.py --port 8082 --database /tmp/durable.sqlite3 [--threads 4]`.

POST / parses an urlencoded form (name, phone, idempotency_key), inserts one row and commits it with
`synchronous=FULL` in WAL mode (one connection per serving thread, `BEGIN IMMEDIATE`), then answers 303
as the project's check-in does. No validation, no CSRF, no session, no template: the floor of any
check-in POST that keeps an acknowledged row through a power loss. GET / answers "ok" (health check).
Served by waitress with the settings app.py uses, so the only difference is the application.
"""
from __future__ import annotations

import argparse
import logging
import sqlite3
import threading

from flask import Flask, Response, request

SCHEMA = ("CREATE TABLE IF NOT EXISTS visits (id INTEGER PRIMARY KEY, name TEXT NOT NULL, phone TEXT NOT NULL,"
          " arrived_at INTEGER NOT NULL DEFAULT (unixepoch()), idempotency_key TEXT NOT NULL UNIQUE)")


def create_app(database: str) -> Flask:
    app = Flask(__name__)
    local = threading.local()

    def connection() -> sqlite3.Connection:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = sqlite3.connect(database, isolation_level=None, timeout=5,
                                                check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA busy_timeout = 5000")
        return conn

    setup = connection()
    setup.execute(SCHEMA)

    @app.get("/")
    def health() -> str:
        return "ok\n"

    @app.post("/")
    def store() -> Response:
        form = request.form
        conn = connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("INSERT INTO visits (name, phone, idempotency_key) VALUES (?, ?, ?)",
                         (form["name"], form["phone"], form["idempotency_key"]))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return Response(status=303, headers={"Location": "/"})

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database", required=True)
    args = parser.parse_args(argv)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    import waitress

    waitress.serve(create_app(args.database), host=args.host, port=args.port, threads=args.threads,
                   ident="durable", clear_untrusted_proxy_headers=True)


if __name__ == "__main__":
    main()
