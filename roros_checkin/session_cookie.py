"""The signed session cookie: the tracing forms' CSRF secret. Guests' pages never set it."""
from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its serializer built once per set of keys.

    Flask builds a new serializer to read and again to write the cookie of every request: about
    3 % of the server's CPU under check-in load (py-spy). The serializer keeps no state between
    calls, so one per key set serves every thread.
    """

    def __init__(self) -> None:
        # (keys, serializer) in one attribute, so a thread never pairs new keys with an old serializer.
        self._cached: tuple[tuple, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = self._cached
        if cached is None or cached[0] != keys:
            cached = self._cached = (keys, super().get_signing_serializer(app))
        return cached[1]

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure over HTTPS: waitress sets the scheme from the trusted proxy's X-Forwarded-Proto."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure
