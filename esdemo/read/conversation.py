"""A conversation: every event of one correlation id, in log order.

The write side stamps each event with ``correlation_id`` and ``causation_id``
(:mod:`esdemo.write.context`). Reading a conversation back is a plain query
over the log's metadata, the same SQL on DuckDB and SQLite::

    SELECT position FROM events WHERE metadata ->> '$.correlation_id' = ? ORDER BY position

It answers "what happened to this order, across all its streams, and why?":
each event's ``causation_id`` points at the message that caused it, so the
list is a causal tree (drawn by :func:`esdemo.plots_sagas.plot_swimlanes`).
A scan of the metadata is fine for a course; a production store indexes the
correlation id (a column of its own, or an expression index).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ..store.events import RecordedEvent

if TYPE_CHECKING:
    from ..store.event_store import EventStore

CONVERSATION_SQL = "SELECT position FROM events WHERE metadata ->> '$.correlation_id' = ? ORDER BY position"


def read_conversation(store: EventStore, correlation_id: uuid.UUID | str) -> list[RecordedEvent]:
    """Every event whose metadata carries ``correlation_id``, ordered by global position."""
    if isinstance(correlation_id, uuid.UUID):
        correlation_id = str(correlation_id)
    if not isinstance(correlation_id, str) or not correlation_id.strip():
        raise ValueError(f"correlation_id must be a non-empty string or UUID, got {correlation_id!r}")
    positions = [row[0] for row in store.query(CONVERSATION_SQL, [correlation_id])]
    if not positions:
        return []
    wanted = set(positions)
    # One read of the range the conversation spans, then keep its events (positions have no holes).
    span = store.read_all(positions[0], limit=positions[-1] - positions[0] + 1)
    return [event for event in span if event.position in wanted]
