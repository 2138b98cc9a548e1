"""Leaving the system: an outbox relay, an in-process message bus, and an inbox.

Domain events are private to this service; other services get *integration
events*, a published contract (``"order.confirmed"`` with the fields a
partner may rely on). Two writes, "store the event" and "tell the broker",
cannot share a transaction, which is the dual-write problem.

**The log is the outbox.** In an event-sourced system the events are already
written in one transaction, and nothing else is: :class:`OutboxRelay` derives
the integration events from the log, after a checkpoint of its own. So the
"outbox row" is committed in the same transaction as the event, because it
*is* the event. (Without event sourcing you add an ``outbox`` table written
in the state's transaction; the notebook "CQRS" shows that form.) The relay
publishes, then moves its checkpoint: a crash in between publishes again on
restart. Delivery is therefore **at least once**: duplicates happen, loss does not.

**The inbox drops duplicates.** A consumer remembers the message ids it has
applied, in the same transaction as the effect of applying them
(:meth:`Inbox.receive`). A duplicate finds its id and changes nothing.
Message ids are the events' ids, the same on every publication.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..store.event_store import EventStore
from ..store.events import RecordedEvent
from ..write.context import correlation_of
from .process_manager import TABLES, UPSERT_CHECKPOINT


@dataclass(frozen=True)
class IntegrationEvent:
    """A message for other services: ``topic`` (``"order.confirmed"``), a ``payload`` and a stable ``message_id``."""

    message_id: str
    topic: str
    payload: dict[str, Any]
    correlation_id: str
    occurred_at: datetime


Translate = Callable[[RecordedEvent], "IntegrationEvent | None"]


def integration_event(recorded: RecordedEvent, topic: str, payload: dict[str, Any]) -> IntegrationEvent:
    """The integration event published for ``recorded``: its id and time, its conversation, a public payload."""
    return IntegrationEvent(str(recorded.event_id), topic, dict(payload), correlation_of(recorded), recorded.recorded_at)


class MessageBus:
    """An in-process message bus: ``publish`` calls every handler subscribed to the topic, in order.

    A stand-in for a broker (Kafka, RabbitMQ...). ``published`` keeps every
    message it carried, duplicates included.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, list[Callable[[IntegrationEvent], object]]] = {}
        self.published: list[IntegrationEvent] = []

    def subscribe(self, topic: str, handler: Callable[[IntegrationEvent], object]) -> None:
        if not isinstance(topic, str) or not topic.strip():
            raise ValueError(f"topic must be a non-empty string such as 'order.confirmed', got {topic!r}")
        if not callable(handler):
            raise TypeError("handler must be callable (it receives each IntegrationEvent)")
        self._handlers.setdefault(topic, []).append(handler)

    def publish(self, message: IntegrationEvent) -> None:
        if not isinstance(message, IntegrationEvent):
            raise TypeError(f"publish an IntegrationEvent, got {type(message).__name__}")
        self.published.append(message)
        for handler in self._handlers.get(message.topic, []):
            handler(message)


class OutboxRelay:
    """Publish the integration events derived from the log, then move the checkpoint (at least once).

    ``translate(recorded)`` returns the :class:`IntegrationEvent` for a domain
    event that leaves the system, or ``None`` for one that stays private.
    ``fault`` is called with ``"published"`` after each publication, before the
    checkpoint moves: raise there to simulate a crash (the next run republishes).
    """

    def __init__(self, store: EventStore, bus: MessageBus, translate: Translate, *, name: str = "outbox",
                 fault: Callable[[str], None] | None = None):
        if not isinstance(store, EventStore):
            raise TypeError(f"store must be an EventStore, got {type(store).__name__}")
        if not isinstance(bus, MessageBus):
            raise TypeError(f"bus must be a MessageBus, got {type(bus).__name__}")
        if not callable(translate):
            raise TypeError("translate must be a function RecordedEvent -> IntegrationEvent | None")
        self.store, self.bus, self.translate, self.name, self.fault = store, bus, translate, name, fault
        with store.transaction() as cur:
            for sql in TABLES:
                cur.execute(sql)

    @property
    def position(self) -> int:
        rows = self.store.query("SELECT position FROM process_checkpoints WHERE name = ?", [self.name])
        return rows[0][0] if rows else 0

    def relay(self, limit: int = 1000) -> int:
        """Publish what is new (at most ``limit`` events read); return how many messages were published."""
        events = self.store.read_all(self.position + 1, limit=limit)
        published = 0
        for recorded in events:
            message = self.translate(recorded)
            if message is not None:
                self.bus.publish(message)
                published += 1
                if self.fault is not None:
                    self.fault("published")
            with self.store.transaction() as cur:
                cur.execute(UPSERT_CHECKPOINT, [self.name, recorded.position])
        return published


class Inbox:
    """A consumer's memory of the messages it applied: a duplicate is dropped, by message id.

    ``receive(message, apply)`` runs ``apply(cursor, message)`` and records the
    message id in one transaction of the consumer's database (here the store's),
    so "applied" and "remembered" cannot part: a crash leaves neither.
    """

    TABLE = ("CREATE TABLE IF NOT EXISTS inbox (consumer VARCHAR NOT NULL, message_id VARCHAR NOT NULL, "
             "topic VARCHAR NOT NULL, PRIMARY KEY (consumer, message_id))")

    def __init__(self, store: EventStore, consumer: str):
        if not isinstance(consumer, str) or not consumer.strip():
            raise ValueError(f"consumer must name the consumer, e.g. 'loyalty', got {consumer!r}")
        self.store, self.consumer = store, consumer
        self.dropped: list[IntegrationEvent] = []
        with store.transaction() as cur:
            cur.execute(self.TABLE)

    def receive(self, message: IntegrationEvent, apply: Callable[[Any, IntegrationEvent], object]) -> bool:
        """Apply ``message`` once: ``True`` if applied now, ``False`` if it was a duplicate (dropped)."""
        if not isinstance(message, IntegrationEvent):
            raise TypeError(f"an inbox receives IntegrationEvent messages, got {type(message).__name__}")
        with self.store.transaction() as cur:
            seen = cur.execute("SELECT 1 FROM inbox WHERE consumer = ? AND message_id = ?",
                               [self.consumer, message.message_id]).fetchall()
            if seen:
                self.dropped.append(message)
                return False
            apply(cur, message)
            cur.execute("INSERT INTO inbox VALUES (?, ?, ?)", [self.consumer, message.message_id, message.topic])
        return True

    def received(self) -> list[str]:
        """The message ids applied so far, sorted."""
        return [row[0] for row in self.store.query(
            "SELECT message_id FROM inbox WHERE consumer = ? ORDER BY message_id", [self.consumer])]


