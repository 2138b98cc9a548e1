"""The decider: an aggregate written as three plain functions.

The functional style much of the field now teaches (Jérémie Chassaing's
"functional event sourcing"): no class with hidden state, just

* ``decide(command, state) -> events``: validate the command against the
  state, and return the events it causes (or raise ``DomainError``);
* ``evolve(state, event) -> state``: the state after one event (a pure fold step);
* ``initial_state``: the state before any event.

Loading is ``fold(evolve, events, initial_state)``; handling a command is
``decide(command, fold(...))``. Compare :class:`~esdemo.write.aggregate.Aggregate`,
where a command method checks and ``record``\\ s, and ``apply`` mutates ``self``:
the same two rules, written as methods. A decider's commands are data
(``Deposit("123", Decimal("5"))``), which makes them easy to log, queue and test.

:class:`DeciderRepository` loads and saves a decider's streams in an
:class:`~esdemo.store.event_store.EventStore`, with the same expected-version
check as :class:`~esdemo.write.repository.Repository`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..store.events import NO_STREAM, AppendResult

if TYPE_CHECKING:
    from ..store.event_store import EventStore
    from .domain import EventRegistry

C = TypeVar("C")
S = TypeVar("S")
E = TypeVar("E")


@dataclass(frozen=True)
class Decider(Generic[C, S, E]):
    """``decide``, ``evolve`` and ``initial_state``, with a ``name`` for messages (e.g. ``"Account"``)."""

    decide: Callable[[C, S], Sequence[E]]
    evolve: Callable[[S, E], S]
    initial_state: S
    name: str = "decider"

    def __post_init__(self) -> None:
        if not callable(self.decide) or not callable(self.evolve):
            raise TypeError("a Decider needs two functions: decide(command, state) -> events and "
                            "evolve(state, event) -> state")

    def fold(self, events: Iterable[E], state: S | None = None) -> S:
        """The state after ``events``, starting from ``state`` (default: the initial state)."""
        current = self.initial_state if state is None else state
        for event in events:
            current = self.evolve(current, event)
        return current

    def handle(self, command: C, events: Iterable[E] = ()) -> list[E]:
        """``decide(command, fold(events))``: the new events ``command`` causes after ``events``."""
        return list(self.decide(command, self.fold(events)))


@dataclass(frozen=True)
class Loaded(Generic[S]):
    """A decider's state as loaded: the state and the stream version it was folded to."""

    state: S
    version: int


class DeciderRepository(Generic[C, S, E]):
    """Loads and saves one decider's streams: ``f"{stream_prefix}-{id}"``.

    ::

        accounts = DeciderRepository(store, account_decider, stream_prefix="Account")
        accounts.handle("123", OpenAccount("123", "Ada"))     # load, decide, append (expected version)
        accounts.load("123").state.balance

    The events are stored exactly as the aggregate's would be (same registry,
    same types), so an aggregate and a decider can read each other's streams.
    """

    def __init__(self, store: EventStore, decider: Decider, *, stream_prefix: str,
                 registry: EventRegistry | None = None, id_factory: Callable[[], uuid.UUID] | None = None):
        from ..store.event_store import EventStore
        from .domain import default_registry

        if not isinstance(store, EventStore):
            raise TypeError(f"store must be an EventStore, got {type(store).__name__}")
        if not isinstance(decider, Decider):
            raise TypeError(f"decider must be a Decider, got {type(decider).__name__}")
        if not isinstance(stream_prefix, str) or not stream_prefix.strip():
            raise ValueError(f"stream_prefix must name the streams, such as 'Account', got {stream_prefix!r}")
        self.store, self.decider, self.stream_prefix = store, decider, stream_prefix
        self.registry = registry if registry is not None else default_registry
        self._id_factory = id_factory

    def stream_id_for(self, id: str | int) -> str:
        """``"Account-123"`` for id 123."""
        if isinstance(id, bool) or not isinstance(id, (str, int)) or not str(id).strip():
            raise ValueError(f"an id must be a non-empty string (or an int), got {id!r}")
        return f"{self.stream_prefix}-{id}"

    def load(self, id: str | int) -> Loaded[S]:
        """Fold the stream's events into the decider's state (the initial state if there are none)."""
        stored = self.store.read(self.stream_id_for(id))
        decode = self.registry.decode
        return Loaded(self.decider.fold(decode(r) for r in stored), len(stored) and stored[-1].version)

    def save(self, id: str | int, events: Sequence[Any], expected_version: int, *,
             metadata: dict[str, Any] | None = None) -> AppendResult | None:
        """Append ``events`` expecting the stream at ``expected_version`` (0: a new stream); ``None`` if no events."""
        if not events:
            return None
        encode, next_id = self.registry.encode, self._id_factory
        new = [encode(e, event_id=next_id() if next_id else None, metadata=metadata) for e in events]
        return self.store.append(self.stream_id_for(id), new, expected_version=expected_version or NO_STREAM)

    def handle(self, id: str | int, command: C, *, metadata: dict[str, Any] | None = None) -> list[E]:
        """Load, decide, save: the whole command handler. Returns the new events.

        A concurrent writer makes the append raise ``ConflictError`` and nothing
        is written: call ``handle`` again, it decides on the new state.
        """
        loaded = self.load(id)
        events = list(self.decider.decide(command, loaded.state))
        self.save(id, events, loaded.version, metadata=metadata)
        return events

    def __repr__(self) -> str:
        return f"DeciderRepository({self.store!r}, {self.decider.name}, stream_prefix={self.stream_prefix!r})"
