"""Background tasks (the hourly purge) in one server process per database, however many serve it.

Production runs one server process per core on the one database (scripts/server/roros-checkin@.service).
Each would otherwise run its own purge thread. Instead, the process that holds an exclusive flock on
"<database>-background" runs the tasks; the others try again every BACKGROUND_RETRY_SECONDS (a minute), so when that process
stops (restart, crash: the kernel drops its lock) another one takes over within a minute. No instance
needs to be configured differently from the others.
"""
from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

LOCK_SUFFIX = "-background"


def lock_path(database: str) -> str:
    return f"{database}{LOCK_SUFFIX}"


class Leader:
    """Runs `start_tasks()` once this process holds the database's background lock; until then, retries."""

    def __init__(self, database: str, start_tasks: Callable[[], object], retry_seconds: float) -> None:
        self.path = lock_path(database)
        self.start_tasks = start_tasks
        self.retry_seconds = retry_seconds
        self.stopped = threading.Event()
        self.leading = threading.Event()
        self._fd: int | None = None
        self.thread = threading.Thread(target=self.run, name="background-leader", daemon=True)

    def start(self) -> "Leader":
        self.thread.start()
        return self

    def try_lock(self) -> bool:
        """Take the lock if no other process has it; kept (fd open) for the life of this process."""
        fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                got = self.try_lock()
            except OSError:
                log.exception("background lock %s could not be opened", self.path)
                got = False
            if got:
                log.info("this process runs the background tasks (pid %d)", os.getpid())
                self.start_tasks()
                self.leading.set()
                return
            self.stopped.wait(self.retry_seconds)

    def stop(self) -> None:
        """For tests: stop trying, and let go of the lock (the tasks themselves are stopped by their owner)."""
        self.stopped.set()
        self.thread.join(timeout=10)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
