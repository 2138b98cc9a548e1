"""The event store's vocabulary: what you append and what you read back.

* :class:`NewEvent` is what a caller appends: a type name, a data dict and an
  id that is fixed when the object is made, so a retry of the same object is
  recognisably the same event.
* :class:`RecordedEvent` is what the store gives back: the same event plus
  where it sits (its global ``position`` and its ``version`` in its stream)
  and when it was recorded.
* ``ANY``, ``NO_STREAM`` and ``STREAM_EXISTS`` are the expected versions that
  are not a number.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import ConflictError, ValueOutOfRangeError

# The largest numbers every backend stores: positions and versions are 64-bit, schema versions 32-bit.
MAX_POSITION = 2**63 - 1
MAX_SCHEMA_VERSION = 2**31 - 1


class ExpectedVersion(enum.Enum):
    """Expected versions that are not a plain number."""

    ANY = "any version (no check)"
    NO_STREAM = "no stream (version 0)"
    STREAM_EXISTS = "an existing stream (version >= 1)"

    @property
    def description(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return self.name


ANY = ExpectedVersion.ANY
NO_STREAM = ExpectedVersion.NO_STREAM
STREAM_EXISTS = ExpectedVersion.STREAM_EXISTS


def check_expected(stream_id: str, expected: int | ExpectedVersion, current: int) -> None:
    """The rule behind every expected version: raise ConflictError unless ``current`` satisfies ``expected``.

    ``ANY`` accepts every version, ``NO_STREAM`` only 0 (the stream does not
    exist), ``STREAM_EXISTS`` anything from 1, and a number only itself.
    """
    if expected is ANY:
        return
    if expected is NO_STREAM:
        ok = current == 0
    elif expected is STREAM_EXISTS:
        ok = current > 0
    else:
        ok = current == expected
    if not ok:
        raise ConflictError(stream_id, expected, current)


@dataclass(frozen=True)
class NewEvent:
    """An event to append: ``NewEvent("MoneyDeposited", {"amount": Decimal("200")})``.

    ``event_id`` defaults to a fresh UUID chosen *now*, when the object is
    constructed. Appending the same ``NewEvent`` twice is therefore a retry,
    which the store recognises and does not duplicate.
    """

    type: str
    data: dict[str, Any]
    metadata: dict[str, Any] | None = None
    event_id: uuid.UUID | None = None
    schema_version: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.type, str) or not self.type.strip():
            raise ValueError(f"NewEvent.type must be a non-empty string such as 'OrderCreated', got {self.type!r}")
        if not isinstance(self.data, dict):
            raise TypeError(f"NewEvent.data must be a dict, got {type(self.data).__name__}")
        if self.metadata is None:
            object.__setattr__(self, "metadata", {})
        elif not isinstance(self.metadata, dict):
            raise TypeError(f"NewEvent.metadata must be a dict or None, got {type(self.metadata).__name__}")
        if self.event_id is None:
            object.__setattr__(self, "event_id", uuid.uuid4())
        elif isinstance(self.event_id, str):
            try:
                object.__setattr__(self, "event_id", uuid.UUID(self.event_id))
            except ValueError:
                raise ValueError(f"NewEvent.event_id must be a UUID, got {self.event_id!r}") from None
        elif not isinstance(self.event_id, uuid.UUID):
            raise TypeError(f"NewEvent.event_id must be a uuid.UUID, got {type(self.event_id).__name__}")
        version = self.schema_version
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(f"NewEvent.schema_version must be an int >= 1, got {version!r}")
        if version > MAX_SCHEMA_VERSION:
            raise ValueOutOfRangeError(
                f"NewEvent.schema_version is {version}, above {MAX_SCHEMA_VERSION} (2**31 - 1), the largest every "
                "backend can store. Schema versions count 1, 2, 3, ... as an event type changes.")


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored: immutable, with its place in the log.

    ``position`` is global (1, 2, 3... across all streams, gapless, in commit
    order); ``version`` counts events within ``stream_id`` from 1.
    """

    position: int
    stream_id: str
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    event_id: uuid.UUID
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append returns: the stream's new ``version`` and the global
    ``position`` of the last event written (use it for read-your-writes)."""

    version: int
    position: int
