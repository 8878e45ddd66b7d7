"""`flask db upgrade`: apply pending migrations."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..db import get_db, schema_version, upgrade

db_cli = AppGroup("db", help="Create and upgrade the database.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations to the database."""
    conn = get_db()
    applied = upgrade(conn)
    click.echo(f"Database {current_app.config['DATABASE']} is at schema version {schema_version(conn)}"
               + (f" (applied {', '.join(map(str, applied))})." if applied else " (nothing to apply)."))
