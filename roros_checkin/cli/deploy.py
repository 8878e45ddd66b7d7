"""`flask check-deploy`: a deployment's settings and files, checked (see deploy_check.py)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import times
from ..deploy_check import deploy_problems


@click.command("check-deploy")
@with_appcontext
def check_deploy() -> None:
    """Check this deployment's settings and files; print each problem with its fix.

    Exits non-zero when anything is found.
    """
    problems = deploy_problems(current_app.config, Path(current_app.instance_path), times.now())
    for problem in problems:
        click.echo(f"PROBLEM: {problem.problem}\n    fix: {problem.fix}")
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) found")
    click.echo("No problems found.")
