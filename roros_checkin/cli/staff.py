"""`flask staff`: the tracing team's accounts, their two-factor seeds, and who searched for a person."""
from __future__ import annotations

import getpass
import sys
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from .. import audit, queries, staff, times, two_factor, validation
from ..passwords import password_problem
from ..validation import InvalidInput
from .common import database, note_unset_public_url, public_url

staff_cli = AppGroup("staff", help="Manage the tracing team's accounts.")


def read_new_password(from_stdin: bool, username: str = "") -> str:
    """A new password from stdin or a hidden prompt, checked against the password rules."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, username, current_app.config["MUNICIPALITY_NAME"])
    if problem:
        raise click.ClickException(problem)
    return password


def echo_enrolment(username: str, secret: str) -> None:
    """Show the two-factor seed once, as a URI and a terminal QR code, for the authenticator app."""
    uri = two_factor.provisioning_uri(username, secret, current_app.config["MUNICIPALITY_NAME"])
    if not current_app.config["TWO_FACTOR_ENABLED"]:
        click.echo("Two-factor login is switched off in this configuration (TWO_FACTOR_ENABLED).")
    click.echo("Scan this code with the authenticator app (or enter the URI), then clear the screen:")
    click.echo(two_factor.terminal_qr(uri))
    click.echo(uri)


def _existing_account(username: str) -> None:
    try:
        staff.existing_account(database(), username)
    except staff.StaffRefused as refused:
        raise click.ClickException(str(refused)) from None


@staff_cli.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(staff.ROLES), default="tracer", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def staff_add(username: str, role: str, password_stdin: bool) -> None:
    """Add a tracing-team account (the password is prompted, or read from stdin).

    Prints the account's two-factor enrolment (otpauth:// URI and QR code) once: scan it into
    the person's authenticator app, then clear the terminal.
    """
    try:
        staff.check_username(username)
        password = read_new_password(password_stdin, username)
        secret = staff.add_staff(database(), username, password, role, times.now())
    except staff.StaffRefused as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(f"Added {role} {username}. Log in at {public_url('/tracing/login')}")
    note_unset_public_url()
    echo_enrolment(username, secret)


@staff_cli.command("list")
def staff_list() -> None:
    """List the tracing-team accounts."""
    for account in queries.list_staff(database()):
        state = "active" if account["active"] else "disabled"
        click.echo(f"{account['username']}\t{account['role']}\t{state}")


@staff_cli.command("disable")
@click.argument("username")
def staff_disable(username: str) -> None:
    """Disable an account and end all its sessions at once."""
    _existing_account(username)
    ended = staff.disable(database(), username)
    click.echo(f"Disabled {username} ({ended} session(s) ended).")


@staff_cli.command("enable")
@click.argument("username")
def staff_enable(username: str) -> None:
    """Allow a disabled account to log in again."""
    _existing_account(username)
    staff.enable(database(), username)
    click.echo(f"Enabled {username}.")


@staff_cli.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def staff_passwd(username: str, password_stdin: bool) -> None:
    """Set a new password for an account; its open sessions end."""
    _existing_account(username)
    password = read_new_password(password_stdin, username)
    ended = staff.set_password(database(), username, password)
    click.echo(f"New password set for {username} ({ended} session(s) ended).")


@staff_cli.command("reset-2fa")
@click.argument("username")
def staff_reset_2fa(username: str) -> None:
    """Give an account a new two-factor seed (lost phone); the old codes stop working."""
    _existing_account(username)
    secret = staff.reset_two_factor(database(), username)
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
    raw = sys.stdin.readline().strip() if from_stdin else click.prompt("Phone number or name", hide_input=True)
    try:
        person = ({"phone": validation.clean_phone(raw)} if any(ch.isdigit() for ch in raw)
                  else {"name": validation.clean_name(raw)})
    except InvalidInput:
        raise click.ClickException("that is neither a phone number nor a name the check-in form accepts") from None
    reason = " ".join(reason.split())
    if not any(ch.isdigit() for ch in reason) or len(reason) > 40:
        raise click.ClickException("--reason must be a case or journal number (with a digit, at most 40 characters)")
    conn = database()
    secret = current_app.config["SECRET_KEY"]
    entries = audit.person_searches(conn, secret, **person)
    for entry in entries:
        when = datetime.fromtimestamp(entry["at"], times.local_zone()).strftime("%Y-%m-%d %H:%M")
        click.echo(f"{when}  {entry['staff']}  {audit.ACTIONS.get(entry['action'], entry['action'])}"
                   f"  sak {entry['case_ref'] or '-'}  {entry['result_count'] if entry['result_count'] is not None else ''}")
    click.echo(f"{len(entries)} entries")
    audit.record_person_lookup(conn, secret, "flask:" + getpass.getuser(), reason, times.now(), len(entries),
                               person.get("phone"), person.get("name"))
