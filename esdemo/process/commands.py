"""Commands with ids, and a bus that handles each command id once in effect.

A command is a plain frozen dataclass (``ReserveStock(order_id, items)``); the
:class:`CommandBus` wraps it in an :class:`Envelope` carrying three ids:

* ``command_id``: names this request forever. A process manager derives it
  from the event it reacts to and the step (``uuid5(event_id, "reserve-stock")``),
  so a redelivered event sends the *same* command again, not a new one;
* ``correlation_id`` and ``causation_id``: copied onto every event the command
  produces (:mod:`esdemo.write.context`).

**Once in effect.** The handler runs inside :func:`~esdemo.write.context.handling_command`,
so the events it saves get ids derived from the command id (the first is
``uuid5(command_id, "0")``). Before running a command the bus asks the store
whether that first event exists (:meth:`~esdemo.store.event_store.EventStore.find_event`):
if so the command was already handled and nothing runs again. If two
deliveries race past that check, the store's unique event ids let only one
append win; the loser's :class:`~esdemo.store.errors.DuplicateEventError` is
recognised as "already handled" too. This is why every handler must save at
least one event, also when the answer is no (``PaymentDeclined``, not an exception).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, is_dataclass
from typing import Any

from ..store.errors import DuplicateEventError
from ..store.event_store import EventStore
from ..store.events import RecordedEvent
from ..write.context import correlation_of, event_id_for, handling_command
from .errors import CommandProducedNothingError, ProcessError, UnknownCommandError

Handler = Callable[[Any], object]


@dataclass(frozen=True)
class Envelope:
    """A command with its ids. ``causation_id`` and ``correlation_id`` default to the command's own id."""

    command: Any
    command_id: uuid.UUID
    correlation_id: str
    causation_id: str

    @property
    def name(self) -> str:
        """The command's type name, e.g. ``"ReserveStock"``."""
        return type(self.command).__name__


@dataclass(frozen=True)
class CommandResult:
    """What handling an envelope did: the events it produced, or found already produced (``duplicate``)."""

    envelope: Envelope
    events: list[RecordedEvent] = field(default_factory=list)
    duplicate: bool = False


class CommandBus:
    """Routes each command type to one handler; handles each ``command_id`` once in effect.

    ``id_factory`` gives fresh command ids to commands sent without one (a
    user's request); pass ``seeded_ids(n)`` for a reproducible notebook.
    ``sent`` lists every envelope handled, duplicates included (for teaching).
    """

    def __init__(self, store: EventStore, *, id_factory: Callable[[], uuid.UUID] | None = None):
        if not isinstance(store, EventStore):
            raise TypeError(f"store must be an EventStore, got {type(store).__name__}")
        if id_factory is not None and not callable(id_factory):
            raise TypeError("id_factory must be a callable returning a uuid.UUID, e.g. seeded_ids(7)")
        self.store = store
        self._id_factory = id_factory or uuid.uuid4
        self._handlers: dict[type, Handler] = {}
        self.sent: list[CommandResult] = []

    def register(self, command_type: type, handler: Handler) -> None:
        """Handle commands of ``command_type`` with ``handler(command)`` (it loads, decides and saves)."""
        if not isinstance(command_type, type) or not is_dataclass(command_type):
            raise TypeError(f"a command type must be a dataclass class, got {command_type!r}")
        if not callable(handler):
            raise TypeError(f"the handler of {command_type.__name__} must be callable")
        if command_type in self._handlers:
            raise ProcessError(f"{command_type.__name__} already has a handler; one command type, one handler")
        self._handlers[command_type] = handler

    def envelope(self, command: Any, *, command_id: uuid.UUID | None = None, cause: RecordedEvent | None = None,
                 correlation_id: str | None = None) -> Envelope:
        """Wrap ``command``: in reaction to ``cause`` (its conversation continues) or as a new request."""
        if type(command) not in self._handlers:
            known = ", ".join(sorted(t.__name__ for t in self._handlers)) or "none"
            raise UnknownCommandError(f"no handler for {type(command).__name__}; register one with "
                                      f"bus.register({type(command).__name__}, handler) (known: {known})")
        command_id = command_id if command_id is not None else self._id_factory()
        if not isinstance(command_id, uuid.UUID):
            raise TypeError(f"command_id must be a uuid.UUID, got {type(command_id).__name__}")
        if cause is not None:
            return Envelope(command, command_id, correlation_of(cause), str(cause.event_id))
        correlation = correlation_id or str(command_id)
        return Envelope(command, command_id, correlation, str(command_id))

    def send(self, command: Any, *, command_id: uuid.UUID | None = None, cause: RecordedEvent | None = None,
             correlation_id: str | None = None) -> CommandResult:
        """Handle ``command`` now (see :meth:`envelope` for the ids); returns what it produced."""
        return self.dispatch(self.envelope(command, command_id=command_id, cause=cause, correlation_id=correlation_id))

    def already_handled(self, envelope: Envelope) -> RecordedEvent | None:
        """The first event ``envelope``'s command produced, if it was handled before."""
        return self.store.find_event(event_id_for(envelope.command_id, 0))

    def dispatch(self, envelope: Envelope) -> CommandResult:
        """Handle ``envelope`` unless its command id was already handled."""
        handler = self._handlers.get(type(envelope.command))
        if handler is None:
            raise UnknownCommandError(f"no handler for {envelope.name}; register one first")
        if self.already_handled(envelope) is not None:
            result = CommandResult(envelope, self._produced(envelope), duplicate=True)
        else:
            head = self.store.head()
            try:
                with handling_command(envelope.command_id, correlation_id=envelope.correlation_id,
                                      causation_id=envelope.causation_id) as context:
                    handler(envelope.command)
            except DuplicateEventError:
                # Another delivery of the same command won the race; its events stand, ours were not written.
                if self.already_handled(envelope) is None:
                    raise
                result = CommandResult(envelope, self._produced(envelope), duplicate=True)
            else:
                if context.saved == 0:
                    raise CommandProducedNothingError(
                        f"{envelope.name} (command {envelope.command_id}) saved no event. Every command must record "
                        "at least one event, also a refusal (e.g. PaymentDeclined), so that a redelivery is "
                        "recognised as a duplicate.")
                ids = {event_id_for(envelope.command_id, i) for i in range(context.saved)}
                fresh = self.store.read_all(head + 1)
                result = CommandResult(envelope, [e for e in fresh if e.event_id in ids])
        self.sent.append(result)
        return result

    def _produced(self, envelope: Envelope) -> list[RecordedEvent]:
        events, index = [], 0
        while (event := self.store.find_event(event_id_for(envelope.command_id, index))) is not None:
            events.append(event)
            index += 1
        return events
