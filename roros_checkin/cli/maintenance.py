"""`flask purge` and `flask backup`: retention and backups, as the operator runs them."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import backup as backups
from .. import maintenance, times
from .common import database


@click.command("purge")
@with_appcontext
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
def purge(dry_run: bool) -> None:
    """Delete visits, staff sessions, login attempts and audit entries past their retention.

    Prints counts only. Safe while guests check in, and safe to run twice.
    """
    result = maintenance.purge(database(), current_app.config, times.now(), dry_run=dry_run)
    click.echo(("Dry run: " if dry_run else "Purge: ") + result.summary() + ".")
    if result.checkpoint_busy:
        raise click.ClickException("the WAL could not be truncated (long-running readers); "
                                   "deleted rows may linger in checkin.sqlite3-wal: run flask purge again")


@click.command("backup")
@with_appcontext
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def backup(directory: Path) -> None:
    """Back up the database into DIRECTORY (online backup API), check it, delete old backups.

    Backups are written 0600 into a 0700 folder and removed after BACKUP_RETENTION_DAYS.
    """
    try:
        result = backups.make_backup(database(), directory, current_app.config, times.now())
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Wrote {result.path} ({result.size} bytes, integrity ok).")
    for path in result.removed:
        click.echo(f"Deleted old backup {path}")
