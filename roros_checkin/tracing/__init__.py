"""The tracing team's blueprint: everything under /tracing/, behind a staff login."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tracing", __name__, url_prefix="/tracing")

# Routes a visitor may reach without a staff session. Every other /tracing/ route
# requires one: the check is on the blueprint, so a new route cannot be left open.
PUBLIC_ENDPOINTS = frozenset({"tracing.login"})

from . import auth, refusals, views  # noqa: E402,F401  (registers the routes and handlers on bp)
