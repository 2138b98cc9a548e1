"""Several views over one log, kept up to date together.

A domain's read side is usually more than one view (the seed's orders have
three). :class:`RunnerGroup` gives each projection its runner and drives
them as one: ``catch_up()``, ``start()``/``stop()``, ``wait_for(position)``
(read-your-writes across all of them) and ``lag()``. The example read
sides (``OrderViews``, ``CatalogViews``) are groups with their queries added.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from ..store.errors import StillRunningError
from .lag import Lag
from .projection import Projection
from .projection_runner import ProjectionRunner

if TYPE_CHECKING:
    from ..store.event_store import EventStore


class RunnerGroup:
    """One :class:`~esdemo.read.projection_runner.ProjectionRunner` per projection, driven together.

    >>> views = RunnerGroup(store, [OrderSummary(), CustomerOrders()])
    >>> views.catch_up()
    """

    def __init__(self, store: EventStore, projections: Iterable[Projection], *, batch_size: int = 1000,
                 clock: Callable[[], datetime] | None = None):
        self.store = store
        self.runners = [ProjectionRunner(store, projection, batch_size=batch_size, clock=clock)
                        for projection in projections]
        if not self.runners:
            raise ValueError("a RunnerGroup needs at least one projection")

    def catch_up(self) -> int:
        """Bring every view up to the head; returns how many events the slowest one processed."""
        return max(runner.catch_up() for runner in self.runners)

    def start(self) -> RunnerGroup:
        """Follow the log in the background, one thread per view."""
        for runner in self.runners:
            runner.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every background thread; if some are still busy after ``timeout``, raise the first such error.

        Every runner is asked to stop even when an earlier one is stuck.
        """
        stuck: list[BaseException] = []
        for runner in self.runners:
            try:
                runner.stop(timeout)
            except StillRunningError as exc:
                stuck.append(exc)
        if stuck:
            raise stuck[0]

    def wait_for(self, position: int, timeout: float = 5.0) -> None:
        """Read-your-writes: wait until every view has applied ``position`` (each within ``timeout``)."""
        for runner in self.runners:
            runner.wait_for(position, timeout)

    def lag(self) -> list[Lag]:
        """Each view's lag, in the order of the projections."""
        return [runner.lag() for runner in self.runners]

    def __enter__(self) -> RunnerGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {', '.join(runner.name for runner in self.runners)}>"
