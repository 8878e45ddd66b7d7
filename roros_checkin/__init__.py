"""Røros check-in: a guest register for contact tracing, for Røros kommune."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect

ROOT = Path(__file__).resolve().parent.parent

csrf = CSRFProtect()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: config, database, extensions, blueprints, command line, errors."""
    app = Flask(__name__, instance_path=str(ROOT / "instance"), instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    if test_config and "INSTANCE_PATH" in test_config:
        app.instance_path = str(test_config["INSTANCE_PATH"])
        app.config.root_path = app.instance_path

    from . import config
    config.load_config(app, test_config)

    from . import db
    db.init_app(app)

    from . import i18n, pages, times
    i18n.init_app(app)
    pages.init_app(app)
    csrf.init_app(app)
    app.jinja_env.globals["show_time"] = times.show

    from . import checkin, tracing
    app.register_blueprint(checkin.bp)
    app.register_blueprint(tracing.bp)
    # The check-in form checks its own CSRF token, so an expired one re-renders the form
    # with what the guest typed instead of an error page.
    csrf.exempt(checkin.venue_form)
    csrf.exempt(checkin.kiosk)

    from . import cli
    cli.init_app(app)

    from . import errors
    errors.init_app(app)

    # Operations: background purge and the like are started by app.py, not here.

    # Security: headers on every response, the host names served, the public form's rate limits.
    from . import ratelimit, security
    security.init_app(app)
    ratelimit.init_app(app)

    return app
