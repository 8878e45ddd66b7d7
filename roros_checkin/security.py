"""Response headers on every page (errors too) and the host names the app answers to."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request

# No inline script anywhere; the kiosk's return to the form is a <meta refresh>, which CSP allows.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
                           "frame-ancestors 'none'; form-action 'self'")
# Two years, the value HSTS preload lists ask for; only sent over HTTPS (browsers ignore it on http).
HSTS = "max-age=63072000; includeSubDomains"
# Names a request may carry in Host besides PUBLIC_URL's: the server itself, for the demo,
# health checks from the machine and the waitress tests. The proxy forwards the public name.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")

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
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    # Flask checks Host against this list and answers 400 for any other name, before routing.
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config["PUBLIC_URL"], app.config.get("TRUSTED_HOSTS"))
    app.after_request(add_security_headers)
