"""Projection workers in several OS processes: one owner per projection at a time, failover when it dies.

On a PostgreSQL store, start the same :class:`ProjectionWorker` in several
processes (or machines). A worker *owns* a projection while it holds a
session-level advisory lock named after it; the others stand by, trying again
every ``standby_interval`` seconds. The server releases the lock the moment the
owner's connection ends, also when its process is killed with SIGKILL, and
the next standby to try becomes the owner. It resumes from the checkpoint, so
no event is skipped.

Ownership saves work; correctness does not rest on it. Every batch locks the
view's checkpoint row (``SELECT ... FOR UPDATE``, see :mod:`.sql_views`) and
commits the view's rows together with the new checkpoint, so a batch that
died with its process left nothing behind, and even two workers that both
believed they owned the view (an old owner cut off by the network, say)
would still apply each event exactly once: the second waits for the first's
commit, then starts from the first's checkpoint.

DuckDB and SQLite need none of this: a DuckDB file belongs to one process,
and a single :class:`~esdemo.read.projection_runner.ProjectionRunner` follows it.
"""

from __future__ import annotations

import threading
import zlib
from typing import TYPE_CHECKING

from .projection import Projection, ProjectionError
from .projection_runner import ProjectionRunner

if TYPE_CHECKING:
    from ..store.event_store import EventStore


class ProjectionWorker:
    """Run ``projection`` from whichever worker process holds its lock; see the module docstring."""

    def __init__(self, store: EventStore, projection: Projection, *, batch_size: int = 100,
                 standby_interval: float = 0.1):
        if store.backend != "postgres":
            raise ProjectionError(
                f"ProjectionWorker needs a PostgreSQL store (its owner is chosen with an advisory lock); this store "
                f"is {store.backend}. On one file, run a single ProjectionRunner instead.")
        if isinstance(standby_interval, bool) or not isinstance(standby_interval, (int, float)) or standby_interval <= 0:
            raise ValueError(f"standby_interval must be a number of seconds > 0, got {standby_interval!r}")
        self.store = store
        self.runner = ProjectionRunner(store, projection, batch_size=batch_size)
        self.standby_interval = standby_interval
        # A 31-bit key: pg_locks then shows it as objid with classid 0, which owns() looks for. Advisory locks
        # are database-wide, so the key names the store's schema too: the same projection over two stores
        # (two schemas of one database) has two owners, not one.
        schema = store.query("SELECT current_schema()")[0][0]
        self.lock_key = zlib.crc32(f"esdemo-projection:{schema}:{projection.name}".encode()) & 0x7FFFFFFF

    def owns(self) -> bool:
        """Does this worker (its connection to the server, on this thread) hold the projection's lock?"""
        return bool(self.store.query(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
            "AND granted AND classid = 0 AND objid::bigint = ? AND objsubid = 1)", [self.lock_key])[0][0])

    def try_to_own(self) -> bool:
        """Take the projection's lock if nobody holds it (never blocks); True if this worker owns it now."""
        if self.owns():
            return True
        return bool(self.store.query("SELECT pg_try_advisory_lock(?)", [self.lock_key])[0][0])

    def step(self) -> int:
        """If this worker owns the projection (or can take it), catch up; return how many events it applied."""
        if not self.try_to_own():
            return 0
        return self.runner.catch_up()

    def run(self, stop: threading.Event, *, on_owner: object = None) -> None:
        """Stand by or work until ``stop`` is set; ``on_owner()`` is called each time this worker becomes owner."""
        owned = False
        while not stop.is_set():
            now_owner = self.try_to_own()
            if now_owner and not owned and callable(on_owner):
                on_owner()
            owned = now_owner
            if owned:
                self.runner.catch_up()
            stop.wait(self.standby_interval)

    def release(self) -> None:
        """Give the projection up (a clean shutdown): a standby takes it at its next try."""
        self.store.query("SELECT pg_advisory_unlock_all()")
