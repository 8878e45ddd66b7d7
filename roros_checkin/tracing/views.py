"""The tracing team's pages: case search, venue search, exports, paper lists, audit log."""
from __future__ import annotations

from flask import render_template

from . import bp


@bp.get("/")
def index() -> str:
    return render_template("tracing/index.html")
