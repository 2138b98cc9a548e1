"""Choreography: services reacting to each other's events, with no one in charge of the flow.

Each service runs a :class:`Reactor`: a subscription with its own checkpoint
that maps event types to *reactions*. A reaction looks at one event and
returns the commands to send, each named by a step::

    warehouse = Reactor(store, bus, "warehouse", {
        "OrderPlaced": lambda e: [("reserve", ReserveStock(e.order_id, e.lines))],
        "OrderCancelled": lambda e: [("release", ReleaseStock(e.order_id))],
    })

The same rules as a process manager keep it exactly once in effect: command
ids are ``uuid5(event id, step)``, so redelivery after a crash resends the
same commands, which the :class:`~esdemo.process.commands.CommandBus` handles
once. What a reactor does *not* have is a memory of the conversation: each
reaction sees one event, and nobody holds the flow (or its deadlines) as a whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..store.event_store import EventStore
from ..store.events import RecordedEvent
from ..write.context import step_id
from ..write.domain import default_registry
from .commands import CommandBus
from .errors import ProcessError
from .process_manager import TABLES, UPSERT_CHECKPOINT

Reaction = Callable[[Any], Iterable[tuple[str, Any]]]


class Reactor:
    """Run ``reactions`` (event type -> function(event) -> [(step, command), ...]) over the log, once each."""

    def __init__(self, store: EventStore, bus: CommandBus, name: str, reactions: Mapping[str, Reaction], *,
                 registry: Any = default_registry, fault: Callable[[str], None] | None = None):
        if not isinstance(bus, CommandBus) or bus.store is not store:
            raise TypeError("bus must be a CommandBus on the same store")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"a reactor needs a name (its checkpoint's), got {name!r}")
        if not isinstance(reactions, Mapping) or not all(callable(r) for r in reactions.values()):
            raise TypeError("reactions must map event type names to functions event -> [(step, command), ...]")
        self.store, self.bus, self.name, self.registry, self.fault = store, bus, name, registry, fault
        self.reactions = dict(reactions)
        with store.transaction() as cur:
            for sql in TABLES:
                cur.execute(sql)

    @property
    def position(self) -> int:
        rows = self.store.query("SELECT position FROM process_checkpoints WHERE name = ?", [self.name])
        return rows[0][0] if rows else 0

    def react(self, recorded: RecordedEvent) -> int:
        """Send the commands ``recorded`` calls for; return how many."""
        reaction = self.reactions.get(recorded.type)
        if reaction is None:
            return 0
        event = self.registry.decode(recorded) if self.registry is not None else recorded
        commands = list(reaction(event))
        steps = [step for step, _ in commands]
        if len(set(steps)) != len(steps):
            raise ProcessError(f"{self.name}: a reaction to {recorded.type} repeats a step name ({steps}); name each")
        for step, command in commands:
            self.bus.send(command, command_id=step_id(recorded.event_id, step), cause=recorded)
            if self.fault is not None:
                self.fault(f"command:{step}")
        return len(commands)

    def poll(self) -> int:
        """React to everything new, moving the checkpoint after each event; return how many events were read."""
        events = self.store.read_all(self.position + 1)
        for recorded in events:
            self.react(recorded)
            with self.store.transaction() as cur:
                cur.execute(UPSERT_CHECKPOINT, [self.name, recorded.position])
        return len(events)


def run_until_quiet(reactors: Iterable[Reactor], max_rounds: int = 100) -> int:
    """Poll every reactor in turn until none has anything new; return the rounds it took."""
    reactors = list(reactors)
    for round_ in range(1, max_rounds + 1):
        head = reactors[0].store.head() if reactors else 0
        for reactor in reactors:
            reactor.poll()
        if not reactors or reactors[0].store.head() == head:
            return round_
    raise ProcessError(f"the reactors were still producing events after {max_rounds} rounds: a reaction loop?")
