"""`flask venues`: add, edit, list, open and close venues, import them from CSV, print QR posters."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .. import queries, times, venues
from ..db import write_transaction
from .common import database, note_unset_public_url, venue_url

venues_cli = AppGroup("venues", help="Add, list, open and close venues.")


@venues_cli.command("add")
@click.argument("slug")
@click.argument("name")
@click.option("--address", default="", help="Street address, shown to the tracing team.")
def venues_add(slug: str, name: str, address: str) -> None:
    """Add a venue. SLUG is the short name in its URL, e.g. kaffestuggu."""
    try:
        venues.add_venue(database(), slug, name, address, times.now())
    except venues.VenueRefused as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(f"Added {slug}: {venue_url(slug)}")
    note_unset_public_url()


@venues_cli.command("edit")
@click.argument("slug")
@click.option("--name", help="The venue's new name, as guests see it on the form and the poster.")
@click.option("--address", help="The venue's new street address (an empty text removes it).")
def venues_edit(slug: str, name: str | None, address: str | None) -> None:
    """Rename a venue or change its address; its slug, posters and stored visits stay as they are."""
    if name is None and address is None:
        raise click.ClickException("give --name, --address or both")
    try:
        venue = venues.edit_venue(database(), slug, name, address)
    except venues.VenueRefused as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(f"Changed {slug}: {venue['name']}, {venue['address'] or '(no address)'}")


@venues_cli.command("list")
def venues_list() -> None:
    """List venues with their check-in URLs."""
    for venue in queries.list_venues(database()):
        state = "open" if venue["active"] else "closed"
        click.echo(f"{venue['slug']}\t{state}\t{venue['name']}\t{venue_url(venue['slug'])}")
    note_unset_public_url()


def _set_active(slug: str | None, every: bool, active: bool) -> None:
    if bool(slug) == every:
        raise click.ClickException("give either one SLUG or --all")
    conn = database()
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


@venues_cli.command("import")
@click.argument("csv_file", type=click.File("rb"))
def venues_import(csv_file) -> None:
    """Add venues from a CSV file with a header row: slug, name, address (; or , separated, UTF-8).

    Rows that cannot be added are reported with the reason; slugs already there are reported as
    such and left as they are (change one with flask venues edit), so running the same file
    again is safe.
    """
    try:
        result = venues.import_venues(database(), csv_file.read(), times.now())
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    reports = [(line, f"already there: {slug}") for line, slug in result.already_there]
    reports += [(line, f"refused: {reason}") for line, reason in result.refused]
    for line, report in sorted(reports):
        click.echo(f"line {line}: {report}")
    click.echo(f"Added {len(result.added)} venues, {len(result.already_there)} already there, "
               f"refused {len(result.refused)} rows.")


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
    from .. import posters  # drawing libraries: loaded only for the posters

    if not current_app.config["PUBLIC_URL"]:
        raise click.ClickException(
            "PUBLIC_URL is not set, so the posters would lead nowhere: set PUBLIC_URL = "
            '"https://<your host>" in instance/config.py (or ROROS_PUBLIC_URL)')
    conn = database()
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
                                          out_dir, Path(config["POSTER_FONT_DIR"]), config["RETENTION_DAYS"],
                                          config["MUNICIPALITY_NAME"])
    except posters.PosterError as error:
        raise click.ClickException(str(error)) from None
    for png in pngs:
        click.echo(f"Wrote {png}")
    click.echo(f"Wrote {pdf} ({len(pngs)} pages). Print at 100 % (actual size) on A4.")
