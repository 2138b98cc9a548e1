"""How stale a view is: :class:`Lag`, and answers that carry their staleness, :class:`AsOf`.

Projections are eventually consistent: a view is always some events, and
some seconds, behind the log. Measuring it is the first step to living
with it (see :mod:`esdemo.read.projection_runner` for the seed's three answers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Lag:
    """How far a view is behind the log.

    ``events`` is ``head - position``; ``seconds`` is the age of the oldest
    event the view has not applied yet (0.0 when caught up): the view has
    been missing that change for that long.
    """

    view: str
    position: int
    head: int
    seconds: float

    @property
    def events(self) -> int:
        """How many events the view has not applied yet."""
        return self.head - self.position

    def __str__(self) -> str:
        if not self.events:
            return f"{self.view}: caught up at position {self.position}"
        noun = "event" if self.events == 1 else "events"
        return (f"{self.view}: {self.events} {noun} behind (at {self.position} of {self.head}); "
                f"the oldest unapplied event is {self.seconds:.1f} s old")


@dataclass(frozen=True)
class AsOf(Generic[T]):
    """An answer read from a view, with how stale the view was: "accept eventual consistency".

    The answer reflects at least every event up to ``position``.
    """

    value: T
    position: int
    lag: Lag


@dataclass(frozen=True)
class Health:
    """A view's health report: its :class:`Lag`, and what its failure policy is going through.

    ``state`` is ``"ok"``, ``"retrying"`` (an event failed; the runner will try
    it again in ``next_try_in`` seconds) or ``"stopped"`` (the policy gave up,
    or too many events were parked: ``error`` says why). ``stuck_seconds`` is
    how long the event at ``failing_position`` has been failing, ``attempts``
    how often; ``parked`` how many events wait in the parked list.
    """

    lag: Lag
    state: str
    parked: int = 0
    failing_position: int | None = None
    attempts: int = 0
    stuck_seconds: float = 0.0
    next_try_in: float | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Nothing failing now (the view may still lag, and may have parked events)."""
        return self.state == "ok"

    def __str__(self) -> str:
        parked = f"; {self.parked} parked event{'s' * (self.parked != 1)}" if self.parked else ""
        if self.state == "ok":
            return f"{self.lag}{parked}"
        head = (f"{self.lag.view}: {self.state} at position {self.failing_position}"
                if self.failing_position is not None else f"{self.lag.view}: {self.state}")
        if self.attempts:
            head += f" after {self.attempts} failed attempt{'s' * (self.attempts != 1)}, stuck for {self.stuck_seconds:.1f} s"
        if self.state == "retrying" and self.next_try_in is not None:
            head += f", next try in {self.next_try_in:.1f} s"
        head += f" ({self.lag.events} events behind){parked}"
        return head + (f". {self.error}" if self.error and self.state == "stopped" else "")
