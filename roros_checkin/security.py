"""Response headers on every page (errors too), the host names served, guest POSTs by origin, local paths."""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, current_app, request
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


# --- Guest form security: the guest forms work without cookies, so they are protected by origin.
#
# A POST is refused when Sec-Fetch-Site says cross-site, or when its Origin (without one, its
# Referer) is not this site: PUBLIC_URL's origin, or the origin the request itself was made to
# (scheme from waitress, https when the trusted proxy says so; host checked by TRUSTED_HOSTS).
# "Origin: null" (sandboxed frames, data: pages) is another site.
#
# A POST with neither Origin nor Referer is let through. Every browser of the last years sends
# Origin on a POST, so only old browsers, privacy settings or extensions that strip both, and
# non-browser clients send neither; refusing them would lock exactly those guests out again.
# Letting them through gives an attacker nothing: the check-in form is public, so a forged POST
# can store nothing an attacker could not store from their own machine, and a browser sending
# Sec-Fetch-Site (any current one) is still refused by that header when the POST is cross-site.

def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL, default ports filled in; None otherwise."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def own_origins() -> set[tuple[str, str, int]]:
    """The origins a guest form of this site is sent from."""
    found = {_origin(current_app.config["PUBLIC_URL"]), _origin(f"{request.scheme}://{request.host}/")}
    return {origin for origin in found if origin is not None}


def cross_site_reason() -> str | None:
    """Why this POST comes from another site ("Sec-Fetch-Site", "Origin", "Referer"), or None."""
    if request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
        return "Sec-Fetch-Site"
    origin = request.headers.get("Origin")
    if origin is not None:
        return None if _origin(origin) in own_origins() else "Origin"
    referer = request.headers.get("Referer")
    if referer is not None:
        return None if _origin(referer) in own_origins() else "Referer"
    return None


def local_path(target: str, parameters: dict[str, str] | None = None) -> str:
    """A path on this site built from `target` (a path, no query), or "/".

    The target is parsed, never passed on: each segment must be plain URL-safe text (no control
    characters, spaces of any kind, backslashes, encoded slashes, dot segments or empty segments),
    and the result is rebuilt as "/" + segments, so it can never name another host (no "//",
    "/\\", "https:", tab or newline tricks). The query is rebuilt from `parameters` only (the
    caller validated them), never echoed.
    """
    # Not urlsplit: it reads "///host" as an empty host and the path "/host", which a browser
    # follows to that host. The raw text is checked segment by segment instead.
    if len(target) > 512 or not target.startswith("/"):
        return "/"
    segments = target[1:].split("/")
    if segments == [""]:
        segments = []
    for segment in segments:
        if not segment or segment in (".", "..") or not all(ch in _SEGMENT_CHARACTERS for ch in segment):
            return "/"
    path = "/" + "/".join(segments)
    return f"{path}?{urlencode(parameters)}" if parameters else path


# Letters, digits and "-._~" (RFC 3986 unreserved): every slug, token and route of the guest site.
_SEGMENT_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")


def untrusted_host_page(_error: SecurityError) -> Response:
    # Plain page: with an untrusted Host Flask builds no URL adapter, so templates using
    # url_for cannot render. The name that was sent is not echoed.
    body = ("<!doctype html><html lang=\"nb\"><meta charset=\"utf-8\"><title>400</title>"
            "<h1>Ukjent adresse</h1><p>Denne tjenesten svarer ikke på dette navnet. "
            "/ This service does not answer to this host name.</p></html>")
    return Response(body, 400, mimetype="text/html")


def refuse_cross_site_guest_post() -> Response | None:
    """Before anything else (the rate limits too): a guest POST from another site stores nothing."""
    if request.blueprint != "checkin" or request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    reason = cross_site_reason()
    if reason is None:
        return None
    current_app.logger.warning("guest POST from another site refused (%s, endpoint %s)", reason, request.endpoint)
    from . import errors

    return errors.cross_site_page()


def init_app(app: Flask) -> None:
    # Flask checks Host against TRUSTED_HOSTS (when routing); others get the 400 page below.
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config["PUBLIC_URL"], app.config.get("TRUSTED_HOSTS"))
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_untrusted_host)
    app.before_request_funcs[None].insert(1, refuse_cross_site_guest_post)
    app.register_error_handler(SecurityError, untrusted_host_page)
    app.after_request(add_security_headers)
