"""Aggregates: the write model of event sourcing.

An aggregate is one consistency boundary (one bank account, one order) whose
state is never stored, only derived from its events. Two rules make it work:

* **Commands validate, then record.** A command method checks the business
  rules against the current state and raises a :class:`DomainError` if one
  is broken (nothing is recorded). Otherwise it calls :meth:`Aggregate.record`.
* **State changes only in** :meth:`Aggregate.apply`. ``record`` calls
  ``apply`` for a new event; loading calls the same ``apply`` for every stored
  event. One code path, so a replayed account ends exactly where it was::

    class Account(Aggregate):
        def __init__(self, id):
            super().__init__(id)
            self.balance = Decimal("0")

        def deposit(self, amount):                      # a command
            if amount <= 0:
                raise DomainError("a deposit must be positive")
            self.record(MoneyDeposited(self.id, amount))

        def apply(self, event):                         # the only place state changes
            match event:
                case MoneyDeposited(amount=amount):
                    self.balance += amount
                case _:
                    super().apply(event)                # unknown event: a clear error

``version`` is the stream version the aggregate was loaded at (0 for a new
one); ``pending_events`` are recorded but not yet saved. A ``Repository``
saves them with ``version`` as the expected version.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar


class DomainError(Exception):
    """A command broke a business rule; the aggregate recorded nothing.

    Subclass it for rules callers want to catch by name (``InsufficientFundsError``).
    """


class Aggregate:
    """Base class for event-sourced aggregates; see the module docstring.

    Class attributes a subclass may set:

    * ``stream_prefix``: the stream id is ``f"{stream_prefix}-{id}"``
      (default: the class name, so ``Account`` -> ``"Account-123"``);
    * ``snapshot_version``: bump it whenever the shape of the state changes,
      so snapshots taken by older code are ignored instead of loaded wrong.

    A subclass's ``__init__`` takes the id alone and sets the empty state: the
    repository builds a blank aggregate that way and then replays into it.
    """

    stream_prefix: ClassVar[str | None] = None
    snapshot_version: ClassVar[int] = 1

    def __init__(self, id: str | int):
        self.id = _check_id(id)
        self.version = 0
        self._pending: list[Any] = []

    # -- identity --------------------------------------------------------------------
    @classmethod
    def stream_id_for(cls, id: str | int) -> str:
        """The stream that holds this aggregate's events: ``Account.stream_id_for(123) == "Account-123"``."""
        return f"{cls.stream_prefix or cls.__name__}-{_check_id(id)}"

    @property
    def stream_id(self) -> str:
        """This aggregate's stream, e.g. ``"Account-123"``."""
        return self.stream_id_for(self.id)

    # -- events ------------------------------------------------------------------------
    def apply(self, event: Any) -> None:
        """Change the state for one event. Subclasses ``match`` on their event classes.

        The base version is the fallback for an event no ``case`` handles: a
        stream should only hold events its aggregate understands.
        """
        raise TypeError(
            f"{type(self).__name__}.apply has no case for {type(event).__name__}; "
            f"add one to {type(self).__name__}.apply (event: {event!r})"
        )

    def record(self, event: Any) -> None:
        """Record a new event: apply it now, save it later. Called by commands, after validation."""
        self.apply(event)
        self._pending.append(event)

    @property
    def pending_events(self) -> tuple[Any, ...]:
        """Events recorded since the aggregate was loaded or saved, oldest first."""
        return tuple(self._pending)

    def mark_saved(self, version: int) -> None:
        """Called by the repository after a successful save: the pending events are now at ``version``."""
        self.version = version
        self._pending.clear()

    def replay(self, events: Sequence[Any], version: int) -> None:
        """Apply stored ``events`` (already decoded) and move to ``version``.

        Plain dispatch, no reflection: this loop is what a 10,000-event load costs.
        """
        if self._pending:
            raise RuntimeError("cannot replay into an aggregate that has unsaved events")
        apply = self.apply
        for event in events:
            apply(event)
        self.version = version

    # -- snapshots ---------------------------------------------------------------------
    def snapshot_state(self) -> dict[str, Any]:
        """The state to put in a snapshot: every public attribute except ``id`` and ``version``.

        It must survive ``esdemo.store.serialization`` (Decimal, str, int, lists,
        dicts...). Override this and :meth:`restore_state` when the state holds
        other objects (tuples come back as lists; sets are refused).
        """
        return {k: v for k, v in vars(self).items() if not k.startswith("_") and k not in ("id", "version")}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Put back what :meth:`snapshot_state` returned (on a blank aggregate)."""
        vars(self).update(state)

    def __repr__(self) -> str:
        pending = f", {len(self._pending)} pending" if self._pending else ""
        return f"<{type(self).__name__} {self.id!r} v{self.version}{pending}>"


def _check_id(id: object) -> str:
    if isinstance(id, bool) or not isinstance(id, (str, int)) or not str(id).strip():
        raise ValueError(f"an aggregate id must be a non-empty string (or an int), got {id!r}")
    return str(id)
