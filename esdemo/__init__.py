"""esdemo: CQRS and Event Sourcing, small enough to read, real enough to trust.

The public names, grouped by layer:

* the event store: :class:`EventStore`, :class:`NewEvent`, :class:`RecordedEvent`,
  :class:`AppendResult`, the expected versions ``ANY``, ``NO_STREAM``,
  ``STREAM_EXISTS``, and its errors;
* clocks and ids for reproducible runs: :class:`FakeClock`, :func:`seeded_ids`.
"""

from .clock import FakeClock, utc_now
from .errors import (
    ConflictError,
    DuplicateEventError,
    EventStoreError,
    SerializationError,
    StoreClosedError,
    StoreLockedError,
)
from .events import ANY, NO_STREAM, STREAM_EXISTS, AppendResult, ExpectedVersion, NewEvent, RecordedEvent
from .ids import seeded_ids
from .store import EventStore
from .subscription import Subscription

__all__ = [
    "ANY",
    "NO_STREAM",
    "STREAM_EXISTS",
    "AppendResult",
    "ConflictError",
    "DuplicateEventError",
    "EventStore",
    "EventStoreError",
    "ExpectedVersion",
    "FakeClock",
    "NewEvent",
    "RecordedEvent",
    "SerializationError",
    "StoreClosedError",
    "StoreLockedError",
    "Subscription",
    "seeded_ids",
    "utc_now",
]
