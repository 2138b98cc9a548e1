"""What a projection does when one event breaks its handler: stop, retry, park.

One *poison event* (a handler bug, an upcaster that chokes on old data)
must not stop a view for good. A :class:`FailurePolicy` says, per runner:

* ``FailurePolicy.stop()`` (the default, and the behaviour before this
  policy existed): the first failure stops the runner; fix and run again;
* ``FailurePolicy.retry(3, backoff=1.0)``: commit what came before the
  failing event, then try the event again after 1 s, 2 s, 4 s (the runner's
  clock decides when, so a ``FakeClock`` makes it deterministic: nothing
  sleeps), then stop;
* ``FailurePolicy.park(retries=3, backoff=1.0, max_parked=10)``: the same
  retries, then *park* the event (recorded with its error in the view's
  parked events, committed with the batch) and go on with the next ones.
  :meth:`~esdemo.read.projection_runner.ProjectionRunner.replay_parked`
  applies parked events after the fix, in order, exactly once. A view that
  parks more than ``max_parked`` events stops and says why: many poison
  events are a bug to fix, not events to set aside.

A parked event is applied late, after events that came after it: only park
for views that can live with that (most counters and lists can; a balance
with overdraft rules may not).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class FailurePolicy:
    """``retries`` more tries after the first failure, waiting ``backoff * factor**n`` seconds
    (at most ``max_backoff``), then stop (``park=False``) or park the event and go on."""

    retries: int = 0
    backoff: float = 1.0
    factor: float = 2.0
    max_backoff: float = 300.0
    park: bool = False
    max_parked: int | None = None

    def __post_init__(self) -> None:
        _check_int("retries", self.retries, minimum=0)
        for name in ("backoff", "factor", "max_backoff"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
                raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")
        if self.factor < 1:
            raise ValueError(f"factor must be >= 1 (each wait at least as long as the last), got {self.factor!r}")
        if self.max_parked is not None:
            _check_int("max_parked", self.max_parked, minimum=0)
            if not self.park:
                raise ValueError("max_parked is the ceiling of parked events: it needs park=True")

    @classmethod
    def stop(cls) -> FailurePolicy:
        """Stop at the first failure (the default)."""
        return cls()

    @classmethod
    def retry(cls, retries: int, *, backoff: float = 1.0, factor: float = 2.0, max_backoff: float = 300.0) -> FailurePolicy:
        """Retry ``retries`` times with backoff, then stop."""
        return cls(retries=retries, backoff=backoff, factor=factor, max_backoff=max_backoff)

    @classmethod
    def parking(cls, retries: int = 3, *, backoff: float = 1.0, factor: float = 2.0, max_backoff: float = 300.0,
                max_parked: int | None = None) -> FailurePolicy:
        """Retry ``retries`` times with backoff, then park the event and go on (at most ``max_parked``)."""
        return cls(retries=retries, backoff=backoff, factor=factor, max_backoff=max_backoff, park=True,
                   max_parked=max_parked)

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failure before the next try."""
        return min(self.backoff * self.factor ** (failures - 1), self.max_backoff)

    def __str__(self) -> str:
        if not self.retries and not self.park:
            return "stop at the first failure"
        retry = f"retry {self.retries} time{'s' * (self.retries != 1)} (backoff {self.backoff:g} s x{self.factor:g})"
        if not self.park:
            return f"{retry}, then stop"
        ceiling = "" if self.max_parked is None else f", stop beyond {self.max_parked} parked"
        return f"{retry}, then park{ceiling}"


@dataclass(frozen=True)
class ParkedEvent:
    """An event a view set aside because its handler kept failing; kept with the view until replayed."""

    view: str
    position: int
    stream_id: str
    event_id: str
    event_type: str
    error_type: str
    error_message: str
    attempts: int
    parked_at: datetime
    replayed_at: datetime | None = None

    def __str__(self) -> str:
        state = "parked" if self.replayed_at is None else f"replayed {self.replayed_at.isoformat()}"
        return (f"{self.view} #{self.position} {self.event_type} ({self.stream_id}): {self.error_type}: "
                f"{self.error_message} [{self.attempts} attempt{'s' * (self.attempts != 1)}, {state}]")


@dataclass
class Failing:
    """The runner's memory of the event that fails now: how often, since when, when to try again."""

    position: int
    since: datetime
    attempts: int = 0
    next_try: datetime | None = None
    error: BaseException | None = None
    stopped: bool = False


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
