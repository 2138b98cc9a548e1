"""The process layer: conversations that span aggregates, built on the write and read sides.

* :mod:`.commands`: commands with ids and a :class:`CommandBus` that handles each id once in effect;
* :mod:`.process_manager`: :class:`ProcessManager` (orchestration): state and checkpoint in one
  commit, deterministic command ids, deadlines fired by an injected clock;
* :mod:`.reactions`: :class:`Reactor` (choreography): services reacting to each other's events;
* :mod:`.outbox`: integration events relayed from the log (:class:`OutboxRelay`) to a
  :class:`MessageBus`, and an :class:`Inbox` that drops duplicates;
* :mod:`.errors`: what this layer raises.

Correlation and causation ids, which every saved event carries, live in
:mod:`esdemo.write.context`; reading a conversation back in :mod:`esdemo.read.conversation`.
"""

from .commands import CommandBus, CommandResult, Envelope
from .errors import CommandProducedNothingError, ProcessError, UnknownCommandError
from .outbox import Inbox, IntegrationEvent, MessageBus, OutboxRelay, integration_event
from .process_manager import Crash, Deadline, ProcessManager
from .reactions import Reactor, run_until_quiet

__all__ = [
    "CommandBus",
    "CommandProducedNothingError",
    "CommandResult",
    "Crash",
    "Deadline",
    "Envelope",
    "Inbox",
    "IntegrationEvent",
    "MessageBus",
    "OutboxRelay",
    "ProcessError",
    "ProcessManager",
    "Reactor",
    "UnknownCommandError",
    "integration_event",
    "run_until_quiet",
]
