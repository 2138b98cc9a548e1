"""Errors raised by the event store.

Every error says what went wrong *and* what to do about it, because the
person reading it is usually a learner in a notebook.
"""

from __future__ import annotations


class EventStoreError(Exception):
    """Base class for everything the event store raises on purpose."""


class ConflictError(EventStoreError):
    """Optimistic concurrency failed: the stream is not at the expected version.

    The seed's ``ConflictException``. Someone else appended to the stream
    between your read and your append. Nothing of yours was written.
    """

    def __init__(self, stream_id: str, expected: object, actual: int):
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"Conflict on stream {stream_id!r}: expected {_describe(expected)}, "
            f"but it is at version {actual}. Another writer appended first; "
            "nothing of yours was written. Reload the stream (or aggregate), "
            "apply your command to the new state, and append again."
        )


class DuplicateEventError(EventStoreError):
    """An event id is already stored, but not as an exact retry of this append."""


class SerializationError(EventStoreError, TypeError):
    """A value in ``data`` or ``metadata`` cannot be stored faithfully."""


class StoreLockedError(EventStoreError):
    """Another process holds the DuckDB file open for writing."""


class StoreUnavailableError(EventStoreError):
    """The database server cannot be reached, or the connection to it was lost.

    Raised by server backends (PostgreSQL): the server is down, the address is
    wrong, or the network dropped in the middle of a call. The message names
    the URL (without its password) and what to check.
    """


class StoreAuthenticationError(StoreUnavailableError):
    """The server refused the user name or password in the URL."""


class BackendNotInstalledError(EventStoreError, ImportError):
    """The driver a backend needs (e.g. psycopg for PostgreSQL) is not installed."""


class StoreClosedError(EventStoreError):
    """The store was closed; open a new ``EventStore`` to keep working."""


class StillRunningError(EventStoreError):
    """``stop(timeout)`` gave up waiting: the background thread is still busy (a handler that hangs).

    The thread is not killed (Python cannot do that safely): ``running`` stays
    true and ``start()`` will not create a second thread while it lives.
    """


def _describe(expected: object) -> str:
    # Sentinels describe themselves (see events.ExpectedVersion).
    description = getattr(expected, "description", None)
    if description is not None:
        return description
    return f"version {expected}"


class SpecError(EventStoreError, ValueError):
    """A given/when/then spec cannot run as written (an unknown event type, ``then`` without ``when``...).

    The spec is wrong, not the code it tests: the message says what to change.
    Raised by ``esdemo.write.testing`` and ``esdemo.read.testing``.
    """


class SpecFailed(AssertionError):
    """A given/when/then spec ran, and the code did something else; the message is a readable diff.

    An ``AssertionError``, so pytest reports it as a failed test.
    """


class ImmutableEventsError(EventStoreError):
    """SQL tried to change the log itself: the ``events`` or ``streams`` table, or what guards them.

    Events are facts; only :meth:`EventStore.append` (and ``restore``) add to
    them, and nothing changes or removes them. To correct a mistake, append a
    correcting event. The tables *next to* the log (views, checkpoints,
    snapshots) are yours to write through ``store.transaction()``.
    """


class ReadOnlyQueryError(EventStoreError):
    """``store.query()`` / ``store.sql()`` were given a statement that writes.

    They are for reading. Write the tables next to the log with
    ``store.transaction()``; add events with ``store.append()``.
    """


class StoreFileError(EventStoreError):
    """The path given to ``EventStore`` is not a store this backend can open (or create)."""


class ValueOutOfRangeError(EventStoreError, ValueError):
    """A number or a nesting depth is beyond what the store can keep on every backend; nothing was written."""
