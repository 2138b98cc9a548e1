"""The event store: the bottom layer, which knows nothing of aggregates or views.

An append-only log of immutable events, grouped in streams, with one global
order. Everything above (``esdemo.write``, ``esdemo.read``) is built on these
names; this package imports neither of them.

* :mod:`.events`: what goes in (:class:`NewEvent`) and what comes out
  (:class:`RecordedEvent`), and the expected versions ``ANY`` / ``NO_STREAM`` /
  ``STREAM_EXISTS`` with the rule that checks them;
* :mod:`.serialization`: tagged JSON that gives Decimal, datetime and UUID back exactly;
* :mod:`.errors`: the store's errors, each saying what to do;
* :mod:`.event_store`: :class:`EventStore`: append, read, read_all (iter_all to stream it), subscribe;
* :mod:`.subscription`: catch up, then follow live;
* :mod:`.clock`, :mod:`.ids`: a fake clock and seeded ids for reproducible runs;
* :mod:`.backends`: one module per database, each written against
  :class:`~esdemo.store.backends.contract.Backend`.
"""

from .clock import FakeClock, utc_now
from .errors import (
    ConflictError,
    DuplicateEventError,
    EventStoreError,
    ImmutableEventsError,
    ReadOnlyQueryError,
    SerializationError,
    StillRunningError,
    SpecError,
    SpecFailed,
    StoreAuthenticationError,
    StoreClosedError,
    StoreFileError,
    StoreLockedError,
    StoreUnavailableError,
    ValueOutOfRangeError,
)
from .event_store import EventStore
from .events import ANY, NO_STREAM, STREAM_EXISTS, AppendResult, ExpectedVersion, NewEvent, RecordedEvent
from .ids import seeded_ids
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
    "ImmutableEventsError",
    "NewEvent",
    "ReadOnlyQueryError",
    "RecordedEvent",
    "SerializationError",
    "StillRunningError",
    "SpecError",
    "SpecFailed",
    "StoreAuthenticationError",
    "StoreClosedError",
    "StoreFileError",
    "StoreLockedError",
    "StoreUnavailableError",
    "Subscription",
    "ValueOutOfRangeError",
    "seeded_ids",
    "utc_now",
]
