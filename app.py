"""Serve the check-in guest register with waitress: `python app.py [--host 127.0.0.1] [--port 8080] [--demo] [--no-background]`.

Production runs one such process per core on the one database (scripts/server/roros-checkin@.service,
one port each, nginx in front); the background tasks (the hourly purge, the SMS sender) run in one of them only.

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
                                           app.config["RETENTION_DAYS"], app.config["MUNICIPALITY_NAME"])
    except posters.PosterError as error:
        return f"not drawn ({error})"
    return str(pdf)


def own_url(host: str, port: int) -> str:
    """The address of this server on this machine: a browser cannot open 0.0.0.0 or ::."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


# Request headers waitress reads before it answers 431: a browser's headers and cookies are a few
# kB, nginx's own default stops at 8 kB a line; waitress's 256 kB default is room for abuse only.
MAX_HEADER_BYTES = 16 * 1024
# An idle connection is closed after this long (waitress: 120 s), so slow clients that open many
# connections and send nothing hold the server's 100 connection slots for a short while only.
IDLE_CONNECTION_SECONDS = 30


def waitress_options(config, host: str, port: int, threads: int) -> dict:
    """Waitress settings; forwarded headers are trusted from the configured proxy only, and only here.

    Waitress refuses a body over MAX_CONTENT_LENGTH itself (413): on the Content-Length header
    before reading any of it, or as soon as a chunked body grows past it, so nobody makes the
    server read 200 MB only to refuse them (its default limit is 1 GB).
    """
    options = {"host": host, "port": port, "threads": threads, "ident": "roros-checkin",
               "clear_untrusted_proxy_headers": True,
               # Waitress refuses a body of this size or more; MAX_CONTENT_LENGTH itself is allowed.
               "max_request_body_size": config["MAX_CONTENT_LENGTH"] + 1,
               "max_request_header_size": MAX_HEADER_BYTES,
               "channel_timeout": IDLE_CONNECTION_SECONDS}
    if config["TRUSTED_PROXY"]:
        options.update(trusted_proxy=config["TRUSTED_PROXY"], trusted_proxy_count=1,
                       trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"})
    return options


def start_background(app):
    """The background tasks, in whichever server process of this database holds the background lock.

    The server purges by itself (hourly), so RETENTION_DAYS holds even where no timer was set up, and
    sends the SMS to contacts from the durable outbox; with several processes on one database (one per
    core) only one of them does, and another takes over within a minute when it stops.
    """
    from roros_checkin import sms
    from roros_checkin.background import Leader
    from roros_checkin.maintenance import BackgroundPurge

    def start_tasks() -> None:
        BackgroundPurge(app.config, app.config["CLOCK"]).start()
        if sms.enabled(app.config):
            app.extensions["sms_sender"] = sms.BackgroundSender(app.config, app.config["CLOCK"]).start()

    return Leader(app.config["DATABASE"], start_tasks, app.config["BACKGROUND_RETRY_SECONDS"]).start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the check-in guest register with waitress.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    parser.add_argument("--threads", type=int, default=4, help="waitress worker threads (default 4)")
    parser.add_argument("--demo", action="store_true", help="add a demo venue and print its URLs")
    parser.add_argument("--no-background", dest="background", action="store_false",
                        help="never run the background tasks (the hourly purge) in this process; by default "
                             "the one process that holds the database's background lock runs them")
    args = parser.parse_args(argv)

    from roros_checkin import logs

    # One record, one line: what a client chose is escaped where a record becomes text.
    logs.configure(logging.INFO)
    # Under load waitress warns for nearly every queued request; that is not news worth a log line.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)

    app = create_app()
    if not app.config["PUBLIC_URL"]:
        # Unset (a first run, the demo): what this server answers to, for the demo's printed URLs
        # and poster. Posters for real venues need PUBLIC_URL itself (flask venues qr refuses).
        app.config["PUBLIC_URL"] = own_url(args.host, args.port)
    prepare(app, args.demo)
    if args.background:
        start_background(app)

    import waitress

    waitress.serve(app, **waitress_options(app.config, args.host, args.port, args.threads))

if __name__ == "__main__":
    main()
