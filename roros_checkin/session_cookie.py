"""The signed session cookie: the tracing forms' CSRF secret. Guests' pages never set it."""
from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, Secure whenever the request came over HTTPS.

    (Its serializer made once per key set measured 2.1 % of a check-in's CPU, under the 5 % bar of
    benchmarks/README.md's speed-ups, and was removed.)
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure over HTTPS: waitress sets the scheme from the trusted proxy's X-Forwarded-Proto."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure
