"""The command line for municipal IT: `flask db`, `venues`, `staff`, `purge`, `backup`, `check-deploy`.

One module per command group: db.py, venues.py (venues, the CSV import and the QR posters),
staff.py (accounts, two-factor, the audit's person check), maintenance.py (purge, backup) and
deploy.py (check-deploy). Each command is thin: it parses, calls the package, and prints with
click.echo; every one that touches the register opens it through common.database(), which
applies pending migrations first. Two do not, on purpose: `db upgrade` applies them itself to
report what it applied, and `check-deploy` only looks (an old schema is one of its findings).
"""
from __future__ import annotations

from flask import Flask

from . import db, deploy, maintenance, staff, venues


def init_app(app: Flask) -> None:
    """Register every command group and command on app.cli."""
    for group in (db.db_cli, venues.venues_cli, staff.staff_cli):
        app.cli.add_command(group)
    for command in (maintenance.purge, maintenance.backup, deploy.check_deploy):
        app.cli.add_command(command)
