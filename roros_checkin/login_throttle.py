"""Login throttling, kept in SQLite (login_attempts) so a restart forgets nothing.

Failures are counted in three scopes, each over the last hour and only since that scope's last
successful login:

- one account from one address (a guessing script): 5 free failures;
- one account from any address (a distributed attack on one account): 10 free failures,
  but not counted against an address this account logged in from in the last 30 days, so
  an attacker elsewhere cannot keep its owner out; from a new address the owner waits at
  most MAX_DELAY between tries;
- one address against any account (password spraying): 20 free failures.

Past the free failures each further attempt must wait BASE_DELAY, doubling per failure up to
MAX_DELAY after the latest failure. Attempts refused for waiting are logged but not counted,
so hammering does not stretch the wait.

An attempt is reserved before its password is hashed (about 0.4 s): one write transaction checks
the wait and records the attempt as a failure, and a correct password turns it into a success
afterwards. Parallel guesses therefore queue on the write lock and each sees the ones before it,
however many the server takes at once (and whichever process takes them). An hour allows at most about 20 failures per account,
well inside ASVS's 100. Delays, not a lock: nobody is locked out for good.
"""
from __future__ import annotations

import sqlite3

from . import queries, retention
from .db import write_transaction

WINDOW = 3600
BASE_DELAY = 15
MAX_DELAY = 15 * 60
FREE = {"pair": 5, "account": 10, "client": 20}
GOOD_ADDRESS_DAYS = 30


def delay_after(failures: int, free: int) -> int:
    """Seconds to wait after the latest failure, given the failures counted so far."""
    if failures < free:
        return 0
    return min(MAX_DELAY, BASE_DELAY * 2 ** min(failures - free, 16))


def retry_after(conn: sqlite3.Connection, username: str, client: str, now: int) -> int:
    """Seconds until this username may be tried from this address; 0 means now."""
    since = now - WINDOW
    scopes = [("pair", (username, client)), ("client", (client,))]
    if not queries.has_logged_in_from(conn, username, client, retention.not_before(now, GOOD_ADDRESS_DAYS)):
        scopes.append(("account", (username,)))
    wait = 0
    for scope, keys in scopes:
        failures, latest = queries.login_failures(conn, scope, keys, since)
        if latest is not None:
            wait = max(wait, latest + delay_after(failures, FREE[scope]) - now)
    return max(0, wait)


def reserve_attempt(conn: sqlite3.Connection, username: str, client: str, now: int,
                    forget_before: int) -> tuple[int | None, int]:
    """Check and record an attempt at once: (attempt id, 0), or (None, seconds to wait) and nothing recorded.

    The attempt is recorded as a failure; record_success turns it into a success. Attempts
    before forget_before (the authentication log's retention, LOGIN_ATTEMPT_RETENTION_HOURS, from
    retention.login_attempts_not_before) are deleted on the way.
    """
    with write_transaction(conn):
        wait = retry_after(conn, username, client, now)
        if wait:
            return None, wait
        attempt = queries.insert_login_attempt(conn, username, client, now, False)
        queries.delete_login_attempts_before(conn, forget_before)
    return attempt, 0


def record_success(conn: sqlite3.Connection, attempt: int) -> None:
    with write_transaction(conn):
        queries.mark_login_attempt_success(conn, attempt)
