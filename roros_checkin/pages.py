"""Guest pages rendered once and filled in per request.

Rendering the check-in form or a receipt through Jinja is most of what a check-in costs (the form
macro, the translated strings, the language switch's URLs). Yet these pages differ between
requests in a few values only: the CSRF token and idempotency key of the form, the details of a
receipt. So a page is rendered once per *shape* (template, language, the venue, which optional
parts are shown) with a marker in place of each value, kept split at the markers, and each
request joins the pieces with its own values, HTML-escaped. The markup still comes from the same
templates and the same form macro; the test `tests/test_pages.py` compares every shape with a
plain render.

Rules for a value (a "hole"): the template writes it straight into the output (`{{ name }}`, an
attribute, a URL segment), never through a filter, because the template only ever sees the marker;
a condition may ask only whether a value is given, and the shape must say so. A value that lands
inside a URL must need no URL-encoding.
"""
from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from flask import current_app, render_template, request
from markupsafe import escape

from . import i18n

# Shapes kept per process: a venue's form in each language is one shape, so this holds the
# form pages of a few hundred venues; each is about 10 kB.
CACHE_SIZE = 1024


class PageCache:
    """A bounded, thread-safe map from a page's shape to its pieces."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        # Only letters and digits, so neither HTML-escaping nor URL-building changes a marker,
        # and random, so no text a guest sends can pose as one.
        self.mark = "h" + secrets.token_hex(8)
        self._pieces: OrderedDict[Hashable, tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def marker(self, name: str) -> str:
        return f"{self.mark}{name}{self.mark}"

    def get(self, key: Hashable) -> tuple[str, ...] | None:
        with self._lock:
            pieces = self._pieces.get(key)
            if pieces is not None:
                self._pieces.move_to_end(key)
            return pieces

    def put(self, key: Hashable, pieces: tuple[str, ...]) -> None:
        with self._lock:
            self._pieces[key] = pieces
            self._pieces.move_to_end(key)
            while len(self._pieces) > self.size:
                self._pieces.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pieces)


def cache() -> PageCache:
    return cache_of(current_app)


def cache_of(app) -> PageCache:
    return app.extensions["roros_pages"]


def render(template: str, shape: Hashable, values: Mapping[str, str],
           context: Callable[[Mapping[str, str]], dict[str, Any]]) -> str:
    """The page `template` with `values` filled in.

    `shape` is everything besides the language that decides the page's markup; `context(holes)`
    gives the template's variables, with `holes[name]` standing for each value.
    """
    if not current_app.extensions.get("roros_pages_enabled", True):
        return render_template(template, **context(dict(values)))
    pages = cache()
    key = (template, i18n.current_locale(), request.script_root, shape)
    pieces = pages.get(key)
    if pieces is None:
        holes = {name: pages.marker(name) for name in values}
        pieces = tuple(render_template(template, **context(holes)).split(pages.mark))
        names = pieces[1::2]
        # Each value exactly where the template put it, and no marker left over.
        if len(pieces) % 2 != 1 or not set(names) <= set(values):
            raise RuntimeError(f"{template}: a value went through a filter or a condition")
        pages.put(key, pieces)
    parts = list(pieces)
    for index in range(1, len(parts), 2):
        parts[index] = escape(values[parts[index]])
    return "".join(parts)


def init_app(app) -> None:
    app.extensions["roros_pages"] = PageCache()
    # PAGE_CACHE_ENABLED (config.py) switches it off; and templates edited while the server runs
    # (debug) are read anew on every request.
    app.extensions["roros_pages_enabled"] = app.config["PAGE_CACHE_ENABLED"] and not app.jinja_env.auto_reload
