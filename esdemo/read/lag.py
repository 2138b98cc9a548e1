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
