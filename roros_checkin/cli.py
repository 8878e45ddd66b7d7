"""Commands for municipal IT: `flask db`, `flask venues`, `flask staff`."""
from __future__ import annotations

import re
import sqlite3
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from . import queries, times, venues
from .db import get_db, schema_version, upgrade, write_transaction

db_cli = AppGroup("db", help="Create and upgrade the database.")
venues_cli = AppGroup("venues", help="Add, list, open and close venues.")
staff_cli = AppGroup("staff", help="Manage the tracing team's accounts.")


def venue_url(slug: str) -> str:
    return f"{current_app.config['PUBLIC_URL']}/v/{slug}"


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations to the database."""
    conn = get_db()
    applied = upgrade(conn)
    click.echo(f"Database {current_app.config['DATABASE']} is at schema version {schema_version(conn)}"
               + (f" (applied {', '.join(map(str, applied))})." if applied else " (nothing to apply)."))


def add_venue(slug: str, name: str, address: str) -> None:
    """Add a venue; a ClickException explains a refused slug, name or address."""
    conn = get_db()
    upgrade(conn)
    try:
        venues.add_venue(conn, slug, name, address, times.now())
    except venues.VenueRefused as refused:
        raise click.ClickException(str(refused)) from None


@venues_cli.command("add")
@click.argument("slug")
@click.argument("name")
@click.option("--address", default="", help="Street address, shown to the tracing team.")
def venues_add(slug: str, name: str, address: str) -> None:
    """Add a venue. SLUG is the short name in its URL, e.g. kaffestuggu."""
    add_venue(slug, name, address)
    click.echo(f"Added {slug}: {venue_url(slug)}")


@venues_cli.command("list")
def venues_list() -> None:
    """List venues with their check-in URLs."""
    conn = get_db()
    upgrade(conn)
    for venue in queries.list_venues(conn):
        state = "open" if venue["active"] else "closed"
        click.echo(f"{venue['slug']}\t{state}\t{venue['name']}\t{venue_url(venue['slug'])}")


def _set_active(slug: str | None, every: bool, active: bool) -> None:
    if bool(slug) == every:
        raise click.ClickException("give either one SLUG or --all")
    conn = get_db()
    upgrade(conn)
    with write_transaction(conn):
        changed = queries.set_venue_active(conn, None if every else slug, active)
    if not every and changed == 0 and queries.venue_by_slug(conn, slug) is None:
        raise click.ClickException(f"no venue with slug {slug!r}")
    word = "Opened" if active else "Closed"
    click.echo(f"{word} {'all venues' if every else slug} ({changed} changed).")


@venues_cli.command("deactivate")
@click.argument("slug", required=False)
@click.option("--all", "every", is_flag=True, help="Close registration at every venue (standby).")
def venues_deactivate(slug: str | None, every: bool) -> None:
    """Stop registrations at a venue, or everywhere with --all; posters can stay up."""
    _set_active(slug, every, False)


@venues_cli.command("activate")
@click.argument("slug", required=False)
@click.option("--all", "every", is_flag=True, help="Open registration at every venue.")
def venues_activate(slug: str | None, every: bool) -> None:
    """Resume registrations at a venue, or everywhere with --all."""
    _set_active(slug, every, True)


def read_new_password(from_stdin: bool, username: str = "") -> str:
    """A new password from stdin or a hidden prompt, checked against the password rules."""
    from .passwords import password_problem

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, username, current_app.config.get("MUNICIPALITY_NAME") or "Røros kommune")
    if problem:
        raise click.ClickException(problem)
    return password


@staff_cli.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["tracer", "admin"]), default="tracer", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def staff_add(username: str, role: str, password_stdin: bool) -> None:
    """Add a tracing-team account (the password is prompted, or read from stdin).

    Prints the account's two-factor enrolment (otpauth:// URI and QR code) once: scan it into
    the person's authenticator app, then clear the terminal.
    """
    from .passwords import hash_password
    from .tracing import two_factor

    if not re.fullmatch(r"[A-Za-z0-9._-]{2,64}", username):
        raise click.ClickException("the username must be 2-64 letters a-z, digits, . _ or -")
    password = read_new_password(password_stdin, username)
    secret = two_factor.new_secret()
    conn = get_db()
    upgrade(conn)
    try:
        with write_transaction(conn):
            queries.insert_staff(conn, username, hash_password(password), role, secret, times.now())
    except sqlite3.IntegrityError:
        raise click.ClickException(f"an account named {username!r} already exists") from None
    click.echo(f"Added {role} {username}. Log in at {current_app.config['PUBLIC_URL']}/tracing/login")
    echo_enrolment(username, secret)


@staff_cli.command("list")
def staff_list() -> None:
    """List the tracing-team accounts."""
    conn = get_db()
    upgrade(conn)
    for staff in queries.list_staff(conn):
        state = "active" if staff["active"] else "disabled"
        click.echo(f"{staff['username']}\t{staff['role']}\t{state}")


# --- operations: QR posters, venue import, purge, backup, check-deploy --------------------

@venues_cli.command("qr")
@click.argument("slugs", nargs=-1)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the PNG posters and posters.pdf.")
@click.option("--areas", help="One poster per table or area: a range (1-12), a list (1,2,Bar) or both.")
def venues_qr(slugs: tuple[str, ...], out_dir: Path, areas: str | None) -> None:
    """Write printable A4 QR posters (300 dpi PNG each, and all in one PDF).

    Without SLUGs, one for every open venue. The code leads to PUBLIC_URL/v/SLUG, with --areas to
    PUBLIC_URL/v/SLUG?area=N, which fills in the table on the form.
    """
    from . import posters

    conn = get_db()
    upgrade(conn)
    if slugs:
        chosen = []
        for slug in dict.fromkeys(slugs):
            venue = queries.venue_by_slug(conn, slug)
            if venue is None:
                raise click.ClickException(f"no venue with slug {slug!r}")
            chosen.append(venue)
    else:
        chosen = queries.list_venues(conn, active_only=True)
        if not chosen:
            raise click.ClickException("there is no open venue; add one with flask venues add")
    config = current_app.config
    try:
        area_list = posters.parse_areas(areas) if areas is not None else None
        pngs, pdf = posters.write_posters(posters.posters_for(chosen, config["PUBLIC_URL"], area_list),
                                          out_dir, Path(config["POSTER_FONT_DIR"]), config["RETENTION_DAYS"])
    except posters.PosterError as error:
        raise click.ClickException(str(error)) from None
    for png in pngs:
        click.echo(f"Wrote {png}")
    click.echo(f"Wrote {pdf} ({len(pngs)} pages). Print at 100 % (actual size) on A4.")


@venues_cli.command("import")
@click.argument("csv_file", type=click.File("rb"))
def venues_import(csv_file) -> None:
    """Add venues from a CSV file with a header row: slug, name, address (; or , separated, UTF-8).

    Rows that cannot be added are reported with the reason; slugs already there are left as they
    are, so running the same file again is safe.
    """
    conn = get_db()
    upgrade(conn)
    try:
        result = venues.import_venues(conn, csv_file.read(), times.now())
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    for line, reason in result.refused:
        click.echo(f"line {line}: refused: {reason}")
    click.echo(f"Added {len(result.added)} venues, refused {len(result.refused)} rows.")


@click.command("purge")
@with_appcontext
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
def purge(dry_run: bool) -> None:
    """Delete visits, staff sessions, login attempts and audit entries past their retention.

    Prints counts only. Safe while guests check in, and safe to run twice.
    """
    from . import retention

    conn = get_db()
    upgrade(conn)
    result = retention.purge_expired(conn, current_app.config, times.now(), dry_run=dry_run)
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
    from . import backup as backups

    conn = get_db()
    upgrade(conn)
    try:
        result = backups.make_backup(conn, directory, current_app.config, times.now())
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Wrote {result.path} ({result.size} bytes, integrity ok).")
    for path in result.removed:
        click.echo(f"Deleted old backup {path}")


@click.command("check-deploy")
@with_appcontext
def check_deploy() -> None:
    """Check this deployment's settings and files; print each problem with its fix.

    Exits non-zero when anything is found.
    """
    from .deploy_check import deploy_problems

    problems = deploy_problems(current_app.config, Path(current_app.instance_path), times.now())
    for problem in problems:
        click.echo(f"PROBLEM: {problem.problem}\n    fix: {problem.fix}")
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) found")
    click.echo("No problems found.")



# --- security: staff disable and passwd, two-factor enrolment ----------------------------

def echo_enrolment(username: str, secret: str) -> None:
    """Show the two-factor seed once, as a URI and a terminal QR code, for the authenticator app."""
    from .tracing import two_factor

    uri = two_factor.provisioning_uri(username, secret)
    if not current_app.config["TWO_FACTOR_ENABLED"]:
        click.echo("Two-factor login is switched off in this configuration (TWO_FACTOR_ENABLED).")
    click.echo("Scan this code with the authenticator app (or enter the URI), then clear the screen:")
    click.echo(two_factor.terminal_qr(uri))
    click.echo(uri)


def _existing_account(username: str) -> None:
    conn = get_db()
    upgrade(conn)
    if queries.staff_by_username(conn, username) is None:
        raise click.ClickException(f"no account named {username!r}")


@staff_cli.command("disable")
@click.argument("username")
def staff_disable(username: str) -> None:
    """Disable an account and end all its sessions at once."""
    _existing_account(username)
    conn = get_db()
    with write_transaction(conn):
        queries.set_staff_active(conn, username, False)
        ended = queries.delete_sessions_of(conn, username)
    click.echo(f"Disabled {username} ({ended} session(s) ended).")


@staff_cli.command("enable")
@click.argument("username")
def staff_enable(username: str) -> None:
    """Allow a disabled account to log in again."""
    _existing_account(username)
    conn = get_db()
    with write_transaction(conn):
        queries.set_staff_active(conn, username, True)
    click.echo(f"Enabled {username}.")


@staff_cli.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def staff_passwd(username: str, password_stdin: bool) -> None:
    """Set a new password for an account; its open sessions end."""
    from .passwords import hash_password

    _existing_account(username)
    password = read_new_password(password_stdin, username)
    conn = get_db()
    with write_transaction(conn):
        queries.set_staff_password(conn, username, hash_password(password))
        ended = queries.delete_sessions_of(conn, username)
    click.echo(f"New password set for {username} ({ended} session(s) ended).")


@staff_cli.command("reset-2fa")
@click.argument("username")
def staff_reset_2fa(username: str) -> None:
    """Give an account a new two-factor seed (lost phone); the old codes stop working."""
    from .tracing import two_factor

    _existing_account(username)
    secret = two_factor.new_secret()
    conn = get_db()
    with write_transaction(conn):
        queries.set_staff_totp_secret(conn, username, secret)
        queries.delete_sessions_of(conn, username)
    click.echo(f"New two-factor seed for {username}; its sessions ended.")
    echo_enrolment(username, secret)


@staff_cli.command("searched")
@click.option("--reason", required=True, help="Why you check (a case or journal number); it is logged.")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the phone number or name from stdin.")
def staff_searched(reason: str, from_stdin: bool) -> None:
    """Who searched for a person, when, and for which case (from the audit log).

    The phone number or name is prompted (or read from stdin), never an argument, so it stays out
    of the shell history; it is compared by its keyed hash. The check is itself logged.
    """
    import getpass
    from datetime import datetime

    from . import audit, validation
    from .validation import InvalidInput

    raw = sys.stdin.readline().strip() if from_stdin else click.prompt("Phone number or name", hide_input=True)
    try:
        person = ({"phone": validation.clean_phone(raw)} if any(ch.isdigit() for ch in raw)
                  else {"name": validation.clean_name(raw)})
    except InvalidInput:
        raise click.ClickException("that is neither a phone number nor a name the check-in form accepts") from None
    reason = " ".join(reason.split())
    if not any(ch.isdigit() for ch in reason) or len(reason) > 40:
        raise click.ClickException("--reason must be a case or journal number (with a digit, at most 40 characters)")
    conn = get_db()
    secret = current_app.config["SECRET_KEY"]
    entries = audit.person_searches(conn, secret, **person)
    for entry in entries:
        when = datetime.fromtimestamp(entry["at"], times.local_zone()).strftime("%Y-%m-%d %H:%M")
        click.echo(f"{when}  {entry['staff']}  {audit.ACTIONS.get(entry['action'], entry['action'])}"
                   f"  sak {entry['case_ref'] or '-'}  {entry['result_count'] if entry['result_count'] is not None else ''}")
    click.echo(f"{len(entries)} entries")
    audit.record(conn, queries.AuditEntry(
        at=times.now(), staff="flask:" + getpass.getuser(), action="person_lookup", case_ref=reason,
        result_count=len(entries), detail="telefon " + audit.masked_phone(person["phone"]) if "phone" in person
        else "navn", **audit.person_hashes(secret, person.get("phone"), person.get("name"))))


def init_app(app: Flask) -> None:
    for group in (db_cli, venues_cli, staff_cli):
        app.cli.add_command(group)
    for command in (purge, backup, check_deploy):
        app.cli.add_command(command)
