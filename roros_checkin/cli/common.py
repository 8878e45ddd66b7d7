"""What every command shares: the database with its schema current, and printed addresses."""
from __future__ import annotations

import sqlite3

import click
from flask import current_app

from ..db import get_db, upgrade


def database() -> sqlite3.Connection:
    """The app's connection, with pending migrations applied first: every command on the register starts here."""
    conn = get_db()
    upgrade(conn)
    return conn


def public_url(path: str) -> str:
    """The full address of a path under PUBLIC_URL; without PUBLIC_URL, the path alone."""
    return f"{current_app.config['PUBLIC_URL']}{path}"


def venue_url(slug: str) -> str:
    return public_url(f"/v/{slug}")


def note_unset_public_url() -> None:
    """Say (on stderr) why printed addresses are paths only."""
    if not current_app.config["PUBLIC_URL"]:
        click.echo("PUBLIC_URL is not set: addresses are shown as paths on the server; "
                   "set PUBLIC_URL in instance/config.py (or ROROS_PUBLIC_URL) for full addresses.", err=True)
