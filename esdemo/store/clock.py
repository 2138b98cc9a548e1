"""Clocks: the real one, and a fake one that makes notebooks reproducible.

The store asks its clock for "now" once per append. Pass ``clock=FakeClock(...)``
and every run records the same timestamps, so committed notebook outputs can
be compared exactly.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


class FakeClock:
    """A clock you drive by hand: ``clock()`` returns the current fake time.

    ``step`` is added after every reading, so successive appends get distinct,
    increasing timestamps without any manual ``advance``.

    >>> clock = FakeClock(datetime(2024, 1, 1, 9, tzinfo=timezone.utc), step=timedelta(minutes=1))
    >>> clock().isoformat(), clock().isoformat()
    ('2024-01-01T09:00:00+00:00', '2024-01-01T09:01:00+00:00')
    """

    def __init__(self, start: datetime, step: timedelta = timedelta(0)):
        self._now = _aware(start, "start")
        if not isinstance(step, timedelta) or step < timedelta(0):
            raise ValueError(f"step must be a timedelta >= 0, got {step!r}")
        self.step = step

    def __call__(self) -> datetime:
        now = self._now
        self._now = now + self.step
        return now

    def peek(self) -> datetime:
        """The time the next reading will return, without advancing."""
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (it may not go backwards: a log's clock only moves on)."""
        when = _aware(when, "when")
        if when < self._now:
            raise ValueError(f"cannot move the clock back from {self._now.isoformat()} to {when.isoformat()}")
        self._now = when

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by ``delta`` or by ``timedelta(**kwargs)``; returns the new time."""
        delta = delta if delta is not None else timedelta(**kwargs)
        self.set(self._now + delta)
        return self._now


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value
