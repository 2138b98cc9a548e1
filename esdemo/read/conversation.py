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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Node:
    """One event on the chart: its column (``step``, 0-based, in log order) and its lane (stream).

    ``command_id`` is the command that produced it, when its metadata names one."""

    step: int
    lane: int
    position: int
    stream_id: str
    type: str
    event_id: str
    command_id: str | None = None


@dataclass(frozen=True)
class Arrow:
    """Cause -> effect between two nodes (by step). ``source`` is ``None`` when the cause is not an
    event of the conversation (a user's command): the node starts a branch."""

    source: int | None
    target: int


@dataclass(frozen=True)
class Swimlane:
    """A conversation laid out for drawing: one lane per stream (in order of first appearance)."""

    lanes: list[str]
    nodes: list[Node]
    arrows: list[Arrow]

    def caption(self, step: int) -> str:
        """One line about node ``step``: what happened, where, and what caused it."""
        node = self.nodes[step]
        arrow = next(a for a in self.arrows if a.target == step)
        cause = "a command from outside" if arrow.source is None else self.nodes[arrow.source].type
        return f"{step + 1}. {node.type} in {node.stream_id} (position {node.position}), caused by {cause}"


def swimlane(events: list[RecordedEvent]) -> Swimlane:
    """Lay out ``events`` (one conversation, in log order) as lanes, nodes and cause -> effect arrows.

    A pure function of the events' streams and metadata: no drawing here
    (:func:`esdemo.plots_sagas.plot_swimlane` draws it).
    """
    ordered = sorted(events, key=lambda e: e.position)
    lanes: list[str] = []
    step_of: dict[str, int] = {}
    nodes, arrows = [], []
    for step, event in enumerate(ordered):
        if event.stream_id not in lanes:
            lanes.append(event.stream_id)
        command = event.metadata.get("command_id")
        nodes.append(Node(step, lanes.index(event.stream_id), event.position, event.stream_id, event.type,
                          str(event.event_id), None if command is None else str(command)))
        arrows.append(Arrow(step_of.get(str(event.metadata.get("causation_id"))), step))
        step_of[str(event.event_id)] = step
    return Swimlane(lanes, nodes, arrows)
