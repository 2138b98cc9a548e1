"""Event schema evolution: reading old events without ever rewriting them.

Stored events are immutable facts, but the code that reads them changes. The
seed's example: ``OrderPaid`` V1 was ``{order_id, amount}``; V2 adds
``currency``. Events written in 2023 are still V1 in the log, forever. The
seed names three ways to cope, and all three are here:

1. **Upcasting** (this module's :class:`Upcasters`): a small function per
   ``(event type, from_version)`` turns the data of version *n* into
   version *n + 1*. On read, the steps are chained (V1 -> V2 -> V3) before
   any aggregate or projection sees the event, so the rest of the code only
   knows the current version::

       upcasters = Upcasters()

       @upcasters.upcaster("OrderPaid", from_version=1)
       def add_currency(data):
           return {**data, "currency": "USD"}   # V1 payments were all in dollars

       upcasters.upcast("OrderPaid", 1, {"order_id": "12345", "amount": Decimal("25")})
       # -> (2, {"order_id": "12345", "amount": Decimal("25"), "currency": "USD"})

2. **Versioned handlers**: the reader itself accepts several versions
   (``match recorded.schema_version``); see ``examples.orders.payment_of``.
3. **Copy-and-transform** (:func:`copy_and_transform`): write a new stream
   of current-version events and leave the old stream exactly as it was.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Callable
from decimal import Decimal
from types import CodeType
from typing import TYPE_CHECKING, Any, Protocol

from ..store.events import NO_STREAM, AppendResult, NewEvent

if TYPE_CHECKING:
    from ..store.event_store import EventStore

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UpcastError(ValueError):
    """An upcaster failed or returned something that is not a data dict."""


class Upcasters:
    """The upcaster chain: one function per ``(event_type, from_version)``.

    A step takes the data dict of version ``from_version`` and returns the
    data of version ``from_version + 1``. It receives a copy (nested dicts and
    lists included), so it may build a new dict or change the one it gets. Steps are chained as far as
    they go: with steps from 1 and from 2, a V1 event comes out as V3.
    """

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Upcaster] = {}
        self._keys: dict[tuple[str, int], str] = {}
        self.changes = 0  # counts registrations, so fingerprints can be cached until the chain changes

    def register(self, event_type: str, from_version: int, step: Upcaster, *,
                 fingerprint: str | None = None) -> Upcaster:
        """Add the step ``event_type`` V``from_version`` -> V``from_version + 1``; returns ``step``.

        ``fingerprint`` (optional, e.g. ``"add-currency/2"``) names this version of
        the step for snapshots; without it the step's code is its fingerprint
        (see :func:`upcaster_fingerprint`).
        """
        if not isinstance(event_type, str) or not event_type.strip():
            raise ValueError(f"event_type must be a type name such as 'OrderPaid', got {event_type!r}")
        if isinstance(from_version, bool) or not isinstance(from_version, int) or from_version < 1:
            raise ValueError(f"from_version must be an int >= 1 (the version the step reads), got {from_version!r}")
        if not callable(step):
            raise TypeError(f"an upcaster must be a function data -> data, got {type(step).__name__}")
        if fingerprint is not None and (not isinstance(fingerprint, str) or not fingerprint.strip()):
            raise ValueError(f"fingerprint must be a non-empty name such as 'add-currency/2', got {fingerprint!r}")
        key = (event_type, from_version)
        existing = self._steps.get(key)
        if existing is not None and _identity(existing) != _identity(step):
            raise ValueError(
                f"{event_type} V{from_version} -> V{from_version + 1} already has the upcaster {_name(existing)}; "
                "there can be only one step per version. Chain a step from the next version instead."
            )
        self._steps[key] = step  # same name again: a notebook cell run twice, keep the newest
        self.changes += 1
        self._keys.pop(key, None)
        if fingerprint is not None:
            self._keys[key] = "name:" + fingerprint
        return step

    def upcaster(self, event_type: str, *, from_version: int,
                 fingerprint: str | None = None) -> Callable[[Upcaster], Upcaster]:
        """Decorator form of :meth:`register`: ``@upcasters.upcaster("OrderPaid", from_version=1)``."""

        def decorate(step: Upcaster) -> Upcaster:
            return self.register(event_type, from_version, step, fingerprint=fingerprint)

        return decorate

    def upcast(self, event_type: str, schema_version: int, data: dict[str, Any], *,
               where: str = "") -> tuple[int, dict[str, Any]]:
        """Run every step that applies, in order; return ``(new_version, new_data)``.

        An event with no step for its version comes back unchanged. ``where``
        (e.g. ``"at position 7"``) is added to error messages.
        """
        version, context = schema_version, f" {where}" if where else ""
        step = self._steps.get((event_type, version))
        if step is not None:  # a step may change nested values in place: never those of the stored event
            data = copy.deepcopy(data)
        while step is not None:
            try:
                result = step(dict(data))
            except Exception as exc:
                raise UpcastError(
                    f"The upcaster {_name(step)} ({event_type} V{version} -> V{version + 1}) failed on the event"
                    f"{context} with data {data!r}: {exc!r}"
                ) from exc
            if not isinstance(result, dict):
                raise UpcastError(
                    f"The upcaster {_name(step)} ({event_type} V{version} -> V{version + 1}) returned "
                    f"{type(result).__name__} for the event{context}; it must return the new data dict."
                )
            data, version = result, version + 1
            step = self._steps.get((event_type, version))
        return version, data

    def chain(self, event_type: str) -> list[tuple[int, str]]:
        """The steps for ``event_type`` as ``(from_version, function name)``, for display."""
        return sorted((version, _name(step)) for (name, version), step in self._steps.items() if name == event_type)

    def fingerprint(self, event_type: str) -> list[tuple[int, str]]:
        """The steps for ``event_type`` as ``(from_version, fingerprint)``: what snapshots record.

        Two chains with the same fingerprints decode old events the same way.
        """
        return sorted((version, self._keys.get((name, version)) or upcaster_fingerprint(step))
                      for (name, version), step in self._steps.items() if name == event_type)

    def __len__(self) -> int:
        return len(self._steps)

    def __repr__(self) -> str:
        steps = ", ".join(f"{t} V{v}->V{v + 1}" for t, v in sorted(self._steps))
        return f"Upcasters({steps})"


class _Upcasting(Protocol):
    def upcast(self, event_type: str, schema_version: int, data: dict[str, Any], *,
               where: str = "") -> tuple[int, dict[str, Any]]: ...


def copy_and_transform(store: EventStore, source_stream: str, target_stream: str, upcasters: _Upcasting, *,
                       transform: Callable[[str, int, dict[str, Any]], tuple[str, int, dict[str, Any]] | None]
                       | None = None) -> AppendResult:
    """Migrate ``source_stream`` into a new ``target_stream`` of current-version events.

    Every event is read, upcast (``upcasters`` is an :class:`Upcasters`, or an
    ``EventRegistry``, which also checks that each event reaches its class's
    current version) and then passed to ``transform(type, version, data)``,
    which may return a changed ``(type, version, data)`` or ``None`` to drop
    the event. The result is appended in one atomic append to a stream that
    must not exist yet. The source stream is left exactly as it was.

    Each copy's metadata says where it came from (``copied_from``), and its
    id is derived from the original's id, so running the same migration
    again is a harmless retry rather than a second copy.
    """
    originals = store.read(source_stream)
    if not originals:
        raise ValueError(f"stream {source_stream!r} has no events, so there is nothing to copy")
    if target_stream == source_stream:
        raise ValueError("copy-and-transform writes a NEW stream; choose a target_stream other than the source")
    copies = []
    for recorded in originals:
        version, data = upcasters.upcast(recorded.type, recorded.schema_version, recorded.data,
                                         where=f"at position {recorded.position}")
        changed = (recorded.type, version, data) if transform is None else transform(recorded.type, version, data)
        if changed is None:
            continue
        type_, version, data = changed
        origin = {"stream_id": recorded.stream_id, "version": recorded.version,
                  "event_id": recorded.event_id, "schema_version": recorded.schema_version}
        copies.append(NewEvent(type_, data, {**recorded.metadata, "copied_from": origin},
                               uuid.uuid5(recorded.event_id, target_stream), version))
    return store.append(target_stream, copies, expected_version=NO_STREAM)


def _name(step: Callable[..., Any]) -> str:
    return getattr(step, "__qualname__", None) or repr(step)


def _identity(step: Callable[..., Any]) -> tuple[str, str]:
    return getattr(step, "__module__", None) or "", _name(step)


def upcaster_fingerprint(step: Callable[..., Any]) -> str:
    """A short hash of what an upcaster *does*: its code, not its name.

    Snapshots record it (see :mod:`esdemo.write.snapshots`): a snapshot whose
    state was decoded through other upcasters is ignored and replaced.

    Why the code by default: a name must be bumped by hand, and forgetting to
    bump it is exactly the silent bug fingerprints exist to catch (a snapshot
    says balance 400 where a replay says 4.0). The code cannot be forgotten.
    It covers the bytecode (``co_code``), the constants (``co_consts``: the
    ``"USD"`` in ``{**data, "currency": "USD"}``), the names the code calls
    (``co_names``: ``float`` versus ``Decimal``), nested functions and
    comprehensions, default arguments and simple closure values; the
    docstring is left out. It errs on the safe side: a cosmetic edit, or
    another Python version, makes snapshots look stale, which costs one full
    replay (a snapshot is a cache), never a wrong state. What it cannot see is
    a change in a function the step *calls*: when the step delegates, register
    it with ``fingerprint="name/2"`` and bump the name when the behaviour changes.
    """
    target = step.func if hasattr(step, "func") and hasattr(step, "args") else step  # functools.partial
    code = getattr(target, "__code__", None) or getattr(getattr(target, "__call__", None), "__code__", None)
    if code is None:  # a builtin or a C function: its name is all there is
        return "name:" + ".".join(_identity(target))
    parts: list[str] = []
    _code_parts(code, parts, getattr(target, "__doc__", None))
    parts.append(repr([_stable(value) for value in getattr(target, "__defaults__", None) or ()]))
    for cell in getattr(target, "__closure__", None) or ():
        try:
            parts.append(_stable(cell.cell_contents))
        except ValueError:  # an empty cell
            parts.append("<empty>")
    if target is not step:
        parts.append(repr([_stable(value) for value in step.args]))
        parts.append(repr(sorted((k, _stable(v)) for k, v in step.keywords.items())))
    return "code:" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def _code_parts(code: CodeType, parts: list[str], doc: str | None) -> None:
    parts.append(code.co_code.hex())
    parts.append(",".join(code.co_names))
    for const in code.co_consts:
        if isinstance(const, CodeType):
            _code_parts(const, parts, None)
        elif doc is not None and const == doc:
            continue
        else:
            parts.append(_stable(const))


def _stable(value: Any) -> str:
    """``repr`` for values whose repr is the same in every process; the type name for the others."""
    if value is None or isinstance(value, (bool, int, float, str, bytes, Decimal)):
        return repr(value)
    if isinstance(value, (tuple, frozenset)):
        items = [_stable(v) for v in value]
        return f"{type(value).__name__}({', '.join(sorted(items) if isinstance(value, frozenset) else items)})"
    if isinstance(value, CodeType):
        inner: list[str] = []
        _code_parts(value, inner, None)
        return "|".join(inner)
    if callable(value):
        return upcaster_fingerprint(value)
    return f"<{type(value).__qualname__}>"
