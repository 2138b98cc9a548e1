"""Correlation and causation: which conversation an event belongs to, and what caused it.

Every event a :class:`~esdemo.write.repository.Repository` saves carries two ids
in its metadata, so the log can answer "what happened to this order, and why?":

* ``correlation_id``: the conversation. Every message caused, directly or not,
  by the same first command shares it;
* ``causation_id``: the message that caused this one (the command, or the
  event a process reacted to).

Nobody threads them by hand. Whoever handles a message opens a context, and
every save inside it is stamped::

    with handling_command(command_id):          # a user's command starts (or joins) a conversation
        orders.save(order)                      # correlation_id = causation_id = command_id

    with reacting_to(recorded):                 # a reaction to a stored event
        warehouse.save(stock)                   # causation_id = recorded.event_id, same correlation_id

A save outside any context starts a conversation of its own: its correlation
and causation ids are the id of its first event (the convention "the first
message is its own cause"). A context that names a ``command_id`` also gives
the events it saves *deterministic* ids (``uuid5(command_id, "0")``, ``"1"``...),
so handling the same command twice produces the same events, which the
store's idempotent append stores once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ..store.events import RecordedEvent

CORRELATION_ID, CAUSATION_ID, COMMAND_ID = "correlation_id", "causation_id", "command_id"


@dataclass
class MessageContext:
    """The ids of the message being handled; saves inside it are stamped with them.

    ``command_id`` (optional) also fixes the ids of the events saved:
    :meth:`next_event_id` derives them from it, in order.
    """

    correlation_id: str
    causation_id: str
    command_id: str | None = None
    saved: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        for name in ("correlation_id", "causation_id"):
            value = getattr(self, name)
            if isinstance(value, uuid.UUID):
                setattr(self, name, str(value))
            elif not isinstance(value, str) or not value.strip():
                raise ValueError(f"MessageContext.{name} must be a non-empty string or UUID, got {value!r}")
        if isinstance(self.command_id, uuid.UUID):
            self.command_id = str(self.command_id)
        elif self.command_id is not None:
            _as_uuid(self.command_id, "command_id")

    def metadata(self) -> dict[str, str]:
        """What every event saved in this context carries."""
        meta = {CORRELATION_ID: self.correlation_id, CAUSATION_ID: self.causation_id}
        if self.command_id is not None:
            meta[COMMAND_ID] = self.command_id
        return meta

    def next_event_id(self) -> uuid.UUID | None:
        """The next deterministic event id of this command (``None`` without a ``command_id``)."""
        if self.command_id is None:
            return None
        event_id = event_id_for(self.command_id, self.saved)
        self.saved += 1
        return event_id


_current: ContextVar[MessageContext | None] = ContextVar("esdemo_message_context", default=None)


def current_context() -> MessageContext | None:
    """The context of the message being handled in this thread (``None`` outside any)."""
    return _current.get()


@contextmanager
def in_context(context: MessageContext) -> Iterator[MessageContext]:
    """Handle a message in ``context``: every save inside the block is stamped with its ids."""
    if not isinstance(context, MessageContext):
        raise TypeError(f"in_context needs a MessageContext, got {type(context).__name__}")
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def handling_command(command_id: uuid.UUID | str, *, correlation_id: uuid.UUID | str | None = None,
                     causation_id: uuid.UUID | str | None = None) -> Any:
    """Context for handling one command: its events get deterministic ids derived from ``command_id``.

    Without ``correlation_id`` the command starts a conversation (its own id is
    the correlation id); without ``causation_id`` the command is the cause.
    """
    command = str(_as_uuid(command_id, "command_id"))
    return in_context(MessageContext(correlation_id=str(correlation_id or command),
                                     causation_id=str(causation_id or command), command_id=command))


def reacting_to(recorded: RecordedEvent, *, command_id: uuid.UUID | str | None = None) -> Any:
    """Context for a reaction to ``recorded``: it is the cause, and its conversation continues."""
    if not isinstance(recorded, RecordedEvent):
        raise TypeError(f"reacting_to needs the RecordedEvent being reacted to, got {type(recorded).__name__}")
    return in_context(MessageContext(correlation_id=correlation_of(recorded), causation_id=str(recorded.event_id),
                                     command_id=None if command_id is None else str(command_id)))


def correlation_of(recorded: RecordedEvent) -> str:
    """The conversation ``recorded`` belongs to (its own id if it was stored without one)."""
    return str(recorded.metadata.get(CORRELATION_ID) or recorded.event_id)


def event_id_for(command_id: uuid.UUID | str, index: int) -> uuid.UUID:
    """The id of the ``index``-th event a command produces: ``uuid5(command_id, str(index))``."""
    return uuid.uuid5(_as_uuid(command_id, "command_id"), str(index))


def step_id(cause_id: uuid.UUID | str, step: str) -> uuid.UUID:
    """A deterministic message id for ``step`` taken because of ``cause_id``: ``uuid5(cause_id, step)``.

    A process manager names each command it sends in reaction to an event by
    the event's id and the step, so a redelivered event yields the same ids.
    """
    if not isinstance(step, str) or not step.strip():
        raise ValueError(f"a step must be a non-empty name such as 'reserve-stock', got {step!r}")
    return uuid.uuid5(_as_uuid(cause_id, "cause_id"), step)


def _as_uuid(value: object, name: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise ValueError(f"{name} must be a UUID (or its string form), got {value!r}")
