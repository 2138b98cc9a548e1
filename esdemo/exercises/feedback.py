"""What every exercise check returns, and the small helpers the checks share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ..store.clock import FakeClock
from ..store.event_store import EventStore


@dataclass(frozen=True)
class Feedback:
    """The result of a check: truthy when passed, and a message for the learner."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return ("✅ Correct: " if self.passed else "❌ Not yet: ") + self.message


def _ok(message: str) -> Feedback:
    return Feedback(True, message)


def _no(message: str) -> Feedback:
    return Feedback(False, message)


def _fresh_store() -> EventStore:
    return EventStore(clock=FakeClock(datetime(2024, 1, 1, 9, tzinfo=timezone.utc), timedelta(minutes=1)))


def _not_done(value: Any) -> bool:
    return value is ... or value is None

class _RunawayLoop(Exception):
    """Raised inside a check to stop a learner's function that would loop forever."""
    pass
