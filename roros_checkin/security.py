"""Response headers on every page (errors too) and the host names the app answers to."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.exceptions import SecurityError

# No inline script anywhere: the guest pages' scripts are static files (remember.js, kiosk.js).
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
                           "frame-ancestors 'none'; form-action 'self'")
# Two years, the value HSTS preload lists ask for; only sent over HTTPS (browsers ignore it on http).
HSTS = "max-age=63072000; includeSubDomains"
# Names a request may carry in Host besides PUBLIC_URL's: the server itself, for the demo,
# health checks from the machine and the waitress tests. The proxy forwards the public name.
# (Werkzeug's host check cannot match an IPv6 literal; the server listens on 127.0.0.1.)
LOCAL_HOSTS = ("localhost", "127.0.0.1")

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: Flask-WTF's strict HTTPS check needs the same-origin Referer.
    "Referrer-Policy": "same-origin",
    # Legacy twin of frame-ancestors for old browsers.
    "X-Frame-Options": "DENY",
    # Nothing here uses these; a malicious page injected into ours gets none of them.
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def trusted_hosts(public_url: str, configured: list[str] | None) -> list[str]:
    """TRUSTED_HOSTS when set explicitly, else PUBLIC_URL's host name and the local names."""
    if configured:
        return list(configured)
    public_host = urlsplit(public_url).hostname
    return [host for host in (public_host, *LOCAL_HOSTS) if host]


def add_security_headers(response: Response) -> Response:
    # A header the view set itself is kept. (Adding them all in one pass instead measured 2.5 % of a
    # check-in's CPU, benchmarks/speedups.py, within the noise, and was removed.)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def refuse_untrusted_host() -> None:
    """First of all before-request steps: a request for another host name goes no further."""
    if isinstance(request.routing_exception, SecurityError):
        raise request.routing_exception


def untrusted_host_page(_error: SecurityError) -> Response:
    # Plain page: with an untrusted Host Flask builds no URL adapter, so templates using
    # url_for cannot render. The name that was sent is not echoed.
    body = ("<!doctype html><html lang=\"nb\"><meta charset=\"utf-8\"><title>400</title>"
            "<h1>Ukjent adresse</h1><p>Denne tjenesten svarer ikke på dette navnet. "
            "/ This service does not answer to this host name.</p></html>")
    return Response(body, 400, mimetype="text/html")


def init_app(app: Flask) -> None:
    # Flask checks Host against TRUSTED_HOSTS (when routing); others get the 400 page below.
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config["PUBLIC_URL"], app.config.get("TRUSTED_HOSTS"))
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_untrusted_host)
    app.register_error_handler(SecurityError, untrusted_host_page)
    app.after_request(add_security_headers)
