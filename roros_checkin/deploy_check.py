"""`flask check-deploy`: the settings and files of a deployment, checked like Django's `check --deploy`."""
from __future__ import annotations

import ipaddress
import os
import re
import sqlite3
import stat
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Config

from . import db, queries
from .config import ENV_PREFIX, _coerce

SECRET_KEY_MIN = 32
# Where scripts/install-server puts the server processes' units and the nginx site.
SYSTEMD_DIR = Path("/etc/systemd/system")
NGINX_SITE = Path("/etc/nginx/sites-enabled/roros-checkin")
INSTALL = "sudo scripts/install-server HOST EMAIL (again)"


@dataclass(frozen=True)
class Problem:
    problem: str
    fix: str


def _not_public(host: str | None) -> bool:
    """A host name guests' phones cannot reach: none, localhost, or a loopback or private address."""
    if not host or host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified or address.is_private or address.is_link_local


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def check_secret_key(config: Mapping[str, Any], instance: Path) -> list[Problem]:
    key = config.get("SECRET_KEY") or ""
    key_file = instance / "secret_key"
    from_file = key_file.is_file() and key_file.read_text(encoding="ascii", errors="replace").strip() == key
    problems = []
    if len(key) < SECRET_KEY_MIN or len(set(key)) < 10:
        problems.append(Problem(
            "SECRET_KEY is missing or weak (shorter than 32 characters or repetitive)",
            "remove SECRET_KEY from instance/config.py and ROROS_SECRET_KEY so one is generated into "
            "instance/secret_key, or set a long random one: python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'"))
    if from_file and _mode(key_file) & 0o077:
        problems.append(Problem(f"{key_file} is readable by others (mode {_mode(key_file):o})",
                                f"chmod 600 {key_file}"))
    return problems


def configured_debug(config: Mapping[str, Any], instance: Path) -> bool:
    """DEBUG as the server (app.py) will see it.

    Under `flask`, app.debug follows FLASK_DEBUG instead of the configuration, so the
    deployment's own sources are read again: instance/config.py, then ROROS_DEBUG (unless the
    app was built from a test config, which reads no environment).
    """
    sources = Config(str(instance))
    sources.from_pyfile("config.py", silent=True)
    debug = bool(sources.get("DEBUG"))
    raw = os.environ.get(ENV_PREFIX + "DEBUG") if config.get("CONFIG_FROM_ENVIRONMENT") else None
    if raw is not None:
        debug = bool(_coerce("DEBUG", raw, False))
    return debug or bool(config.get("DEBUG"))


def check_settings(config: Mapping[str, Any], debug: bool) -> list[Problem]:
    problems = []
    if debug:
        problems.append(Problem("DEBUG is on: tracebacks and the debugger would reach the browser",
                                "remove DEBUG from instance/config.py and ROROS_DEBUG / FLASK_DEBUG"))
    if config.get("TESTING"):
        problems.append(Problem("TESTING is on", "remove TESTING from instance/config.py and ROROS_TESTING"))
    url = urllib.parse.urlsplit(config.get("PUBLIC_URL", ""))
    if not config.get("PUBLIC_URL"):
        problems.append(Problem("PUBLIC_URL is not set: QR posters cannot be printed (flask venues qr refuses)",
                                'set PUBLIC_URL = "https://checkin.roros.kommune.no" (your host) in '
                                "instance/config.py"))
    elif url.scheme != "https" or _not_public(url.hostname):
        problems.append(Problem(
            f"PUBLIC_URL {config.get('PUBLIC_URL')!r} is not a public https address; "
            "every QR poster prints it",
            'set PUBLIC_URL = "https://checkin.roros.kommune.no" (your host) in instance/config.py'))
    elif url.path not in ("", "/") or url.query:
        problems.append(Problem(f"PUBLIC_URL {config.get('PUBLIC_URL')!r} has a path or query",
                                "set PUBLIC_URL to the scheme and host only"))
    problems.extend(check_proxy(config.get("TRUSTED_PROXY") or ""))
    problems.extend(check_sms(config))
    if not config.get("RATELIMIT_ENABLED"):
        problems.append(Problem("RATELIMIT_ENABLED is off: the public form takes unlimited posts",
                                "remove RATELIMIT_ENABLED / ROROS_RATELIMIT_ENABLED (it is on by default)"))
    if not config.get("TWO_FACTOR_ENABLED"):
        problems.append(Problem("TWO_FACTOR_ENABLED is off: a stolen password opens the tracing pages",
                                "remove TWO_FACTOR_ENABLED / ROROS_TWO_FACTOR_ENABLED (it is on by default)"))
    if config.get("RETENTION_DAYS", 14) > 14:
        problems.append(Problem(f"RETENTION_DAYS is {config['RETENTION_DAYS']}: a guest register for contact "
                                "tracing keeps its data 14 days at most", "set RETENTION_DAYS = 14"))
    if config.get("BACKUP_RETENTION_DAYS", 14) > config.get("RETENTION_DAYS", 14):
        problems.append(Problem("BACKUP_RETENTION_DAYS is longer than RETENTION_DAYS",
                                "set BACKUP_RETENTION_DAYS to RETENTION_DAYS or less"))
    if not config.get("BACKUP_DIR"):
        problems.append(Problem("BACKUP_DIR is not set: the purge cannot delete expired visits inside the backups",
                                'set BACKUP_DIR = "/var/backups/roros-checkin" (the folder of flask backup) '
                                "in instance/config.py"))
    return problems


def check_sms(config: Mapping[str, Any]) -> list[Problem]:
    """SMS_PROVIDER: off, console (development) or http to a gateway over https with a token."""
    provider = config.get("SMS_PROVIDER") or ""
    if provider not in ("", "console", "http"):
        return [Problem(f"SMS_PROVIDER {provider!r} is not known", 'set SMS_PROVIDER to "", "console" or "http"')]
    if provider == "console":
        return [Problem("SMS_PROVIDER is console: no SMS reaches anyone (development only)",
                        'set SMS_PROVIDER = "http" with SMS_HTTP_URL and SMS_HTTP_TOKEN, or "" for off')]
    if provider != "http":
        return []
    problems = []
    url = urllib.parse.urlsplit(config.get("SMS_HTTP_URL") or "")
    if url.scheme != "https" or not url.hostname:
        problems.append(Problem("SMS_HTTP_URL is not an https address: phone numbers and texts would travel "
                                "in the clear", 'set SMS_HTTP_URL = "https://..." (the gateway or its proxy)'))
    if not config.get("SMS_HTTP_TOKEN"):
        problems.append(Problem("SMS_HTTP_TOKEN is not set: the gateway cannot tell the municipality's "
                                "messages from anyone's", "set SMS_HTTP_TOKEN (ROROS_SMS_HTTP_TOKEN) to the "
                                "gateway's API token"))
    return problems


def check_proxy(proxy: str) -> list[Problem]:
    """TRUSTED_PROXY: the one address whose X-Forwarded-* headers waitress believes."""
    if not proxy:
        return [Problem("TRUSTED_PROXY is not set: behind nginx every guest looks like 127.0.0.1 "
                        "(one rate limit for all) and https is not recognised",
                        'set TRUSTED_PROXY = "127.0.0.1" (nginx on the same server) in instance/config.py')]
    try:
        address = ipaddress.ip_address(proxy)
    except ValueError:
        return [Problem(f"TRUSTED_PROXY {proxy!r} is not one IP address (a '*' would trust anyone's headers)",
                        'set TRUSTED_PROXY to the proxy\'s address, e.g. "127.0.0.1"')]
    if address.is_unspecified or address.is_multicast:
        return [Problem(f"TRUSTED_PROXY {proxy!r} is not a proxy's address",
                        'set TRUSTED_PROXY to the proxy\'s address, e.g. "127.0.0.1"')]
    return []


def check_files(instance: Path, database: Path) -> list[Problem]:
    problems = []
    checks = {instance: 0o700, database.parent: 0o700, database: 0o600}
    for path, wanted in checks.items():
        if not path.exists():
            if path == database:
                problems.append(Problem(f"{database} does not exist", "run flask db upgrade"))
            continue
        mode = _mode(path)
        if mode & 0o077:
            problems.append(Problem(f"{path} is open to group or others (mode {mode:o})",
                                    f"chmod {wanted:o} {path}"))
    for suffix in ("-wal", "-shm"):
        side = Path(f"{database}{suffix}")
        if side.exists() and _mode(side) & 0o077:
            problems.append(Problem(f"{side} is open to group or others (mode {_mode(side):o})",
                                    f"chmod 600 {side}; run the service with UMask=0077"))
    return problems


def check_database(conn: sqlite3.Connection, config: Mapping[str, Any], now: int) -> list[Problem]:
    problems = []
    if db.schema_version(conn) < db.latest_version():
        problems.append(Problem("the database schema is not up to date", "run flask db upgrade"))
        return problems
    max_age = config["MAINTENANCE_MAX_AGE_HOURS"] * 3600
    for task, fix in (("purge", "run flask purge; the running server purges hourly, so check that "
                                "the server processes are running (systemctl status 'roros-checkin@*')"),
                      ("backup", "run flask backup DIR and check the timer "
                                 "(systemctl list-timers roros-checkin-backup.timer)")):
        run = queries.last_maintenance_run(conn, task)
        if run is None:
            problems.append(Problem(f"no {task} has ever run", fix))
        elif now - run["ran_at"] > max_age:
            hours = (now - run["ran_at"]) // 3600
            problems.append(Problem(f"the last {task} ran {hours} hours ago", fix))
    return problems


def _instance_ports(systemd: Path) -> set[int]:
    wants = systemd / "roros-checkin.target.wants"
    found = (re.fullmatch(r"roros-checkin@(\d+)\.service", path.name) for path in wants.glob("roros-checkin@*"))
    return {int(match.group(1)) for match in found if match}


def _upstream_ports(site: str) -> set[int]:
    """The ports nginx sends guests to: the upstream's servers, or a plain proxy_pass (the older site)."""
    block = re.search(r"upstream\s+roros_checkin\s*\{(.*?)\}", site, re.S)
    text = block.group(1) if block else site
    pattern = r"^\s*server\s+127\.0\.0\.1:(\d+)\b" if block else r"proxy_pass\s+http://127\.0\.0\.1:(\d+)\b"
    return {int(port) for port in re.findall(pattern, text, re.M)}


def check_processes(systemd: Path = SYSTEMD_DIR, site_path: Path = NGINX_SITE,
                    cores: int | None = None) -> list[Problem]:
    """One server process per core (roros-checkin@<port>.service), every one of them in nginx's upstream.

    Checked only on a server set up with these units or this site (not on a developer's machine).
    """
    single = systemd / "multi-user.target.wants" / "roros-checkin.service"
    ports = _instance_ports(systemd)
    site = site_path.read_text(encoding="utf-8", errors="replace") if site_path.is_file() else None
    if not ports and site is None and not single.exists():
        return []
    cores = cores or len(os.sched_getaffinity(0))
    problems = []
    if single.exists():
        problems.append(Problem("the single-process unit roros-checkin.service is still enabled "
                                "(one process, and it takes port 8080 from roros-checkin@8080)",
                                f"systemctl disable --now roros-checkin.service, or run {INSTALL}"))
    if len(ports) < cores:
        missing = sorted(set(range(8080, 8080 + cores)) - ports)[: cores - len(ports)]
        problems.append(Problem(f"{len(ports)} server process(es) for {cores} cores: the others stay idle",
                                f"run {INSTALL}, or systemctl enable --now "
                                + " ".join(f"roros-checkin@{port}.service" for port in missing)
                                + " and add their ports to the nginx upstream"))
    if site is not None and ports and _upstream_ports(site) != ports:
        upstream = ", ".join(map(str, sorted(_upstream_ports(site)))) or "none"
        problems.append(Problem(f"nginx sends guests to port(s) {upstream}, but the server processes listen "
                                f"on {', '.join(map(str, sorted(ports)))}",
                                f"run {INSTALL}, or list one 'server 127.0.0.1:PORT;' per process in "
                                f"the upstream of {site_path}"))
    return problems


def deploy_problems(config: Mapping[str, Any], instance: Path, now: int) -> list[Problem]:
    """Everything wrong with this deployment, each with its fix; empty when all is well."""
    database = Path(config["DATABASE"])
    problems = (check_secret_key(config, instance) + check_settings(config, configured_debug(config, instance))
                + check_files(instance, database) + check_processes())
    if database.exists():
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            problems += check_database(conn, config, now)
        finally:
            conn.close()
    return problems
