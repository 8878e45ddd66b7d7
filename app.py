"""Serve Røros check-in with waitress: `python app.py [--host 127.0.0.1] [--port 8080] [--demo] [--no-background]`.

Production runs one such process per core on the one database (scripts/server/roros-checkin@.service,
one port each, nginx in front); the background tasks (the hourly purge) run in one of them only.

`flask` finds create_app here, so `flask venues ...` and the other commands work from this folder.
"""
from __future__ import annotations

import argparse
import logging
import sqlite3

from roros_checkin import create_app  # noqa: F401  (flask's entry point)

DEMO_SLUG = "demo-kafe"
DEMO_NAME = "Demo-kafé"
DEMO_ADDRESS = "Kjerkgata 1, 7374 Røros"


def prepare(app, demo: bool) -> None:
    """Create or migrate the database; with demo, add the demo venue and say what to do next."""
    from roros_checkin import db, queries, times
    from roros_checkin.db import write_transaction

    with app.app_context():
        conn = db.get_db()
        db.upgrade(conn)
        if not demo:
            return
        try:
            with write_transaction(conn):
                queries.insert_venue(conn, DEMO_SLUG, DEMO_NAME, DEMO_ADDRESS, times.now())
        except sqlite3.IntegrityError:
            pass  # the demo venue is already there from an earlier run
        poster = demo_poster(app, queries.venue_by_slug(conn, DEMO_SLUG))
    base = app.config["PUBLIC_URL"]
    print(f"""
Demo venue ready: {DEMO_NAME}
  Guest check-in page:   {base}/v/{DEMO_SLUG}
  Venue tablet (kiosk):  {base}/kiosk/{DEMO_SLUG}
  Start page:            {base}/
  QR poster to print:    {poster}
Next steps:
  A staff account for the tracing pages:  .venv/bin/flask staff add kari --role admin
  (it shows a QR code for an authenticator app; to look around locally without one,
  start the demo with ROROS_TWO_FACTOR_ENABLED=false, a switch check-deploy flags)
  then log in at {base}/tracing/login
  Stop the server with Ctrl+C.
""", flush=True)


def demo_poster(app, venue) -> str:
    """Draw the demo venue's A4 poster beside the database; its path, or why there is none."""
    from pathlib import Path

    from roros_checkin import posters

    out_dir = Path(app.config["DATABASE"]).parent / "demo-poster"
    try:
        _pngs, pdf = posters.write_posters(posters.posters_for([venue], app.config["PUBLIC_URL"], None),
                                           out_dir, Path(app.config["POSTER_FONT_DIR"]),
                                           app.config["RETENTION_DAYS"])
    except posters.PosterError as error:
        return f"not drawn ({error})"
    return str(pdf)


def waitress_options(config, host: str, port: int, threads: int) -> dict:
    """Waitress settings; forwarded headers are trusted from the configured proxy only, and only here."""
    options = {"host": host, "port": port, "threads": threads, "ident": "roros-checkin",
               "clear_untrusted_proxy_headers": True}
    if config["TRUSTED_PROXY"]:
        options.update(trusted_proxy=config["TRUSTED_PROXY"], trusted_proxy_count=1,
                       trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"})
    return options


def start_background(app):
    """The background tasks, in whichever server process of this database holds the background lock.

    The server purges by itself (hourly), so the 14 days hold even where no timer was set up; with
    several processes on one database (one per core) only one of them purges, and another takes
    over within a minute when it stops.
    """
    from roros_checkin.background import Leader
    from roros_checkin.retention import BackgroundPurge

    def start_tasks() -> None:
        BackgroundPurge(app.config, app.config["CLOCK"]).start()

    return Leader(app.config["DATABASE"], start_tasks, app.config["BACKGROUND_RETRY_SECONDS"]).start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve Røros check-in with waitress.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    parser.add_argument("--threads", type=int, default=4, help="waitress worker threads (default 4)")
    parser.add_argument("--demo", action="store_true", help="add a demo venue and print its URLs")
    parser.add_argument("--no-background", dest="background", action="store_false",
                        help="never run the background tasks (the hourly purge) in this process; by default "
                             "the one process that holds the database's background lock runs them")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Under load waitress warns for nearly every queued request; that is not news worth a log line.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)

    app = create_app()
    if args.demo and app.config["PUBLIC_URL"] == "http://127.0.0.1:8080":
        app.config["PUBLIC_URL"] = f"http://{args.host}:{args.port}"
    prepare(app, args.demo)
    if args.background:
        start_background(app)

    import waitress

    waitress.serve(app, **waitress_options(app.config, args.host, args.port, args.threads))

if __name__ == "__main__":
    main()
