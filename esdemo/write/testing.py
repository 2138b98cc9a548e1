"""Given / when / then: specs for the write side, readable by people who don't read code.

An event-sourced model is tested the way it is described: *given* these
events happened, *when* this command runs, *then* these events are recorded
(or the command is refused)::

    given(OrderCreated("12345", "c-42"), ItemAdded("12345", "BOOK-1", Decimal("25"), 2, Decimal("50")),
          OrderSubmitted("12345", at), aggregate=Order) \\
        .when(lambda order: order.pay()) \\
        .then(OrderPaid("12345", Decimal("50"), "USD"))

    given(aggregate=Order).when(lambda order: order.submit()).then_raises(DomainError, match="not been created")

No store, no repository: the given events are applied to a blank aggregate
(after a round trip through the registry, as a load would decode them), the
command runs, and its *new* events are compared with the expected ones, by
type and fields. The same spec runs against a :class:`~esdemo.write.decider.Decider`
(``decider=...``), whose commands are data: ``.when(Deposit("123", Decimal("5")))``.

A failing spec raises :class:`SpecFailed`, an ``AssertionError``, so pytest
reports it like any assert, and a notebook cell shows it like any error. Its
message is a diff, the first difference marked ``>>``. A spec that cannot be
run (an event the registry does not know, ``then`` without ``when``) raises
:class:`SpecError` instead: the spec is wrong, not the model.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from ..store.errors import SpecError, SpecFailed
from ..store.events import NewEvent, RecordedEvent
from ..store.serialization import dumps, loads
from .aggregate import Aggregate
from .decider import Decider
from .domain import EventRegistry, default_registry

_EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
_WIDTH = 38  # longest value shown in a diff column


# -- the spec objects ---------------------------------------------------------------------------------

def given(*events: Any, aggregate: type[Aggregate] | None = None, decider: Decider | None = None,
          handler: Callable[[Any, Any], Any] | None = None, id: str | int | None = None,
          registry: EventRegistry | None = None) -> Given:
    """Start a spec from the events that already happened (none: a new aggregate).

    * ``events``: domain events (or a list of them), oldest first; a ``NewEvent``
      (e.g. an old schema version) is decoded through the registry's upcasters.
    * ``aggregate=Order`` or ``decider=account_decider``: what the spec tests.
    * ``handler(aggregate, command)``: lets an aggregate take command *objects*
      (so one suite runs against an aggregate and a decider); without it,
      ``when`` takes a function of the aggregate: ``lambda order: order.pay()``.
    * ``id``: the aggregate's id (default: the first field of the first event,
      such as ``order_id``).
    * ``registry``: the registry the events belong to (default: ``default_registry``).
    """
    if len(events) == 1 and isinstance(events[0], (list, tuple)):
        events = tuple(events[0])
    return Given(list(events), aggregate=aggregate, decider=decider, handler=handler, id=id, registry=registry)


class Given:
    """``given(...)``: the history. Next comes :meth:`when`."""

    def __init__(self, events: list[Any], *, aggregate: type[Aggregate] | None = None, decider: Decider | None = None,
                 handler: Callable[[Any, Any], Any] | None = None, id: str | int | None = None,
                 registry: EventRegistry | None = None):
        self.events = events
        self.aggregate, self.decider, self.handler, self.id = aggregate, decider, handler, id
        self.registry = registry if registry is not None else default_registry

    def when(self, command: Any) -> When:
        """Run ``command`` against the state the given events lead to. Nothing runs until ``then...``."""
        return When(self, command)

    def then(self, *expected: Any) -> Any:
        raise SpecError("then() needs a command first: write given(events).when(command).then(expected_events). "
                        "To check a projection instead, use then_view(...).")

    def then_raises(self, error_type: type[BaseException], match: str | None = None) -> Any:
        raise SpecError("then_raises() needs a command first: write "
                        "given(events).when(command).then_raises(ErrorType, match='...').")

    # -- running -------------------------------------------------------------------------------
    def _subject(self) -> tuple[str, Callable[[Any], list[Any]]]:
        """(a name for messages, a function command -> new events)."""
        if (self.aggregate is None) == (self.decider is None):
            raise SpecError("say what the spec tests: given(events, aggregate=Order) for an aggregate class, "
                            "or given(events, decider=account_decider) for a Decider (one of the two).")
        history = self.history()
        if self.decider is not None:
            if not isinstance(self.decider, Decider):
                raise SpecError(f"decider must be a Decider, got {type(self.decider).__name__}")
            decider = self.decider
            try:
                state = decider.fold(history)
            except Exception as exc:
                raise SpecError(f"the given events do not evolve {decider.name}'s state: "
                                f"{type(exc).__name__}: {exc}") from exc
            return decider.name, lambda command: list(decider.decide(command, state))
        cls = self.aggregate
        if not (isinstance(cls, type) and issubclass(cls, Aggregate)):
            raise SpecError(f"aggregate must be an Aggregate subclass such as Order, got {cls!r}")
        id = self.id if self.id is not None else _id_of(history)
        aggregate = cls(id)
        try:
            aggregate.replay(history, len(history))
        except Exception as exc:
            raise SpecError(f"the given events do not apply to a blank {cls.__name__}: "
                            f"{type(exc).__name__}: {exc}") from exc
        handler = self.handler

        def run(command: Any) -> list[Any]:
            if handler is not None:
                result = handler(aggregate, command)
            elif callable(command):
                result = command(aggregate)
            else:
                raise SpecError(f"{cls.__name__} has no handler for the command object {command!r}: pass a function "
                                f"of the aggregate (lambda {cls.__name__.lower()}: ...), or handler=... to given().")
            if isinstance(result, Aggregate) and result is not aggregate:  # a factory: Order.create(...)
                return list(result.pending_events)
            return list(aggregate.pending_events)

        return f"{cls.__name__}-{id}", run

    def history(self) -> list[Any]:
        """The given events as the code under test will see them: stored and decoded by the registry."""
        return [self._round_trip(event, f"given event {n}") for n, event in enumerate(self.events, start=1)]

    def _round_trip(self, event: Any, where: str) -> Any:
        registry = self.registry
        if isinstance(event, NewEvent):
            new = event
            if new.type not in registry:
                raise SpecError(f"{where} has the type {new.type!r}, which the registry does not know "
                                f"(it knows {registry.types}). Register its class, or import its module.")
        else:
            new = _encode(registry, event, where)
        data = loads(dumps(new.data, f"the data of {where}"))  # what the store gives back
        recorded = RecordedEvent(0, "given", 0, new.type, new.schema_version, data, {}, uuid.UUID(int=0), _EPOCH)
        return registry.decode(recorded)


class When:
    """``given(...).when(command)``: finish with :meth:`then` or :meth:`then_raises`."""

    def __init__(self, given: Given, command: Any):
        self.given, self.command = given, command

    def when(self, command: Any) -> When:
        raise SpecError("a spec runs one command: given(events).when(command).then(...). For a second command, "
                        "add the first one's events to given(...) and write another spec.")

    def then(self, *expected: Any) -> list[Any]:
        """Expect exactly these new events (none: the command records nothing). Returns them."""
        __tracebackhide__ = True  # pytest shows the spec line, not the kit's insides
        if len(expected) == 1 and isinstance(expected[0], (list, tuple)):
            expected = tuple(expected[0])
        for n, event in enumerate(expected, start=1):
            _encode(self.given.registry, event, f"expected event {n}")
        name, run = self.given._subject()
        try:
            actual = run(self.command)
        except SpecError:
            raise
        except Exception as exc:
            raise SpecFailed(
                f"{self._headline(name)}\n  then:  expected {_count(len(expected))}, but the command raised "
                f"{type(exc).__name__}: {exc}\n\nExpected:\n{_listing(expected)}\n"
                f"If refusing is right, write .then_raises({type(exc).__name__}, match=...) instead."
            ) from exc
        if list(expected) != actual:
            summary, table = _event_diff(list(expected), actual)
            raise SpecFailed(f"{self._headline(name)}\n  then:  {summary}\n\n{table}")
        return actual

    def then_raises(self, error_type: type[BaseException], match: str | None = None) -> BaseException:
        """Expect the command to be refused with ``error_type`` (a subclass counts), its message
        matching the regular expression ``match`` (searched, not anchored). Returns the error."""
        __tracebackhide__ = True
        if not (isinstance(error_type, type) and issubclass(error_type, BaseException)):
            raise SpecError(f"then_raises takes an exception class such as DomainError, got {error_type!r}")
        name, run = self.given._subject()
        try:
            actual = run(self.command)
        except SpecError:
            raise
        except Exception as exc:
            if not isinstance(exc, error_type):
                raise SpecFailed(f"{self._headline(name)}\n  then:  expected {error_type.__name__}, but the command "
                                 f"raised {type(exc).__name__}: {exc}") from exc
            if match is not None and not re.search(match, str(exc)):
                raise SpecFailed(f"{self._headline(name)}\n  then:  {type(exc).__name__} as expected, but its "
                                 f"message does not match {match!r}:\n         {exc}") from exc
            return exc
        raise SpecFailed(f"{self._headline(name)}\n  then:  expected {error_type.__name__}, but the command was "
                         f"accepted and recorded {_count(len(actual))}:\n\n{_listing(actual)}")

    def _headline(self, name: str) -> str:
        history = self.given.events
        told = ", ".join(_type_name(e) for e in history) if history else "no events"
        return f"Spec failed for {name}\n  given: {told}\n  when:  {describe_command(self.command)}"


# -- the diff -------------------------------------------------------------------------------------------

def event_diff(expected: Sequence[Any], actual: Sequence[Any]) -> str:
    """A table of expected vs actual events, field by field, the first difference marked ``>>``."""
    summary, table = _event_diff(expected, actual)
    return f"{summary}\n\n{table}"


def _event_diff(expected: Sequence[Any], actual: Sequence[Any], *, noun: str = "event",
                producer: str = "the command recorded", same: str = "recorded as many") -> tuple[str, str]:
    rows: list[tuple[str, str, str, str, str]] = []  # (event number, field, expected, actual, mark)
    first: str | None = None
    for n in range(max(len(expected), len(actual))):
        want = expected[n] if n < len(expected) else _MISSING
        got = actual[n] if n < len(actual) else _MISSING
        fields = _fields(want)
        fields += [f for f in _fields(got) if f not in fields]
        label = str(n + 1)
        lines = [("(type)", _type_name(want), _type_name(got), _type_name(want) != _type_name(got))]
        lines += [(f, _value(want, f), _value(got, f), _raw(want, f) != _raw(got, f)) for f in fields]
        for field_name, w, g, differs in lines:
            mark = ""
            if differs and first is None:
                first = f"{noun} {n + 1}" + ("" if field_name == "(type)" else f", field {field_name!r}")
                mark = ">>"
            rows.append((label, field_name, w, g, mark))
            label = ""
    head = (f"expected {_count(len(expected), noun)}, {producer} {len(actual)}"
            if len(expected) != len(actual) else f"expected {_count(len(actual), noun)}, {same}, but they differ")
    head += f"; first difference: {first}" if first else ""
    return head, _table((noun, "field", "expected", "actual"), rows)


class _Missing:
    def __repr__(self) -> str:
        return "(nothing)"


_MISSING = _Missing()


def _table(header: tuple[str, ...], rows: list[Any]) -> str:
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(len(header))]
    def line(mark: str, cells: Sequence[str]) -> str:
        return f"  {mark:2} " + "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line("", header)] + [line(r[-1], r[:-1]) for r in rows])


def _fields(event: Any) -> list[str]:
    if dataclasses.is_dataclass(event) and not isinstance(event, type):
        return [f.name for f in dataclasses.fields(event)]
    return []


def _value(event: Any, name: str) -> str:
    if event is _MISSING or not hasattr(event, name):
        return "-"
    text = repr(getattr(event, name))
    return text if len(text) <= _WIDTH else text[:_WIDTH - 3] + "..."


def _raw(event: Any, name: str) -> Any:
    return getattr(event, name, _MISSING) if event is not _MISSING else _MISSING


def _type_name(event: Any) -> str:
    if event is _MISSING:
        return "(nothing)"
    return event.type if isinstance(event, NewEvent) else type(event).__name__


def _count(n: int, noun: str = "event") -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _listing(events: Sequence[Any]) -> str:
    if not events:
        return "    (no events)"
    return "\n".join(f"    {n}. {e!r}" for n, e in enumerate(events, start=1))


def describe_command(command: Any) -> str:
    """``pay()`` for ``lambda order: order.pay()``; the repr of a command object."""
    if not callable(command) or isinstance(command, type):
        return repr(command)
    name = getattr(command, "__name__", "")
    if name and name != "<lambda>":
        return f"{name}(...)"
    try:
        lines, start = inspect.getsourcelines(command)
    except (OSError, TypeError):
        return "a lambda"
    code = command.__code__
    source = "".join(lines[max(0, code.co_firstlineno - start):])
    first = code.co_varnames[0] if code.co_argcount else ""
    pattern = r"lambda\s+" + first + r"\b[^:]*:" if first else r"lambda\s*:"
    found = re.search(pattern, source)  # this lambda (by its first parameter), not an outer one
    if found is None:
        return "a lambda"
    body = _balanced(source[found.end():].strip())
    return re.sub(r"^\w+\.", "", body) or "a lambda"


def _balanced(text: str) -> str:
    """The lambda's body up to where its enclosing call closes (``.when(lambda o: o.pay())`` -> ``o.pay()``)."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                return text[:i].strip()
            depth -= 1
        elif ch in ",\n" and depth == 0:
            return text[:i].strip()
    return text.strip()


def _encode(registry: EventRegistry, event: Any, where: str) -> NewEvent:
    if isinstance(event, NewEvent):
        return event
    try:
        return registry.encode(event)
    except TypeError:
        if isinstance(event, type):
            raise SpecError(f"{where} is the class {event.__name__}, not an event: write {event.__name__}(...)") from None
        raise SpecError(f"{where} is {type(event).__name__}, which is not an event type the registry knows "
                        f"(it knows {registry.types}). Decorate its class with @domain_event, or pass "
                        f"registry=... to given().") from None


def _id_of(history: list[Any]) -> str:
    if history:
        fields = _fields(history[0])
        if fields and isinstance(getattr(history[0], fields[0]), (str, int)):
            return str(getattr(history[0], fields[0]))
    return "1"


# -- properties learners should trust ---------------------------------------------------------------------

def assert_snapshot_plus_tail_equals_replay(repository: Any, id: str | int, snapshot_at: int) -> dict[str, Any]:
    """Take a snapshot of ``id`` at version ``snapshot_at``; loading (snapshot + tail) must give the
    state of a full replay: every public attribute, not only what ``snapshot_state`` keeps.
    Returns that state; raises :class:`SpecFailed` with the attributes that differ if not."""
    repository.take_snapshot(repository.load(id, at_version=snapshot_at))
    with_snapshot = repository.load(id)
    cls = repository.aggregate_class
    replayed = cls(id)
    stored = repository.store.read(cls.stream_id_for(id))
    replayed.replay([repository.registry.decode(r) for r in stored], len(stored))
    got, want = _public_state(with_snapshot), _public_state(replayed)
    if got != want:
        differ = ", ".join(f"{k}: {got.get(k, '-')!r} instead of {want.get(k, '-')!r}"
                           for k in sorted(set(got) | set(want)) if got.get(k, _MISSING) != want.get(k, _MISSING))
        raise SpecFailed(f"{cls.stream_id_for(id)}: snapshot at {snapshot_at} + tail is not what a full replay "
                         f"gives ({_count(len(stored))}). Different: {differ}")
    return want


def _public_state(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}


def assert_upcasting_is_pure(upcasters: Any, event_type: str, schema_version: int, data: dict[str, Any]) -> Any:
    """Upcasting must not change its input, and must give the same answer twice. Returns the answer."""
    before = copy.deepcopy(data)
    first = upcasters.upcast(event_type, schema_version, data)
    if data != before:
        raise SpecFailed(f"upcasting {event_type} V{schema_version} changed its input: {before!r} became {data!r}. "
                         "An upcaster must build new data, never change the stored event's.")
    second = upcasters.upcast(event_type, schema_version, data)
    if first != second:
        raise SpecFailed(f"upcasting {event_type} V{schema_version} {before!r} gave {first!r}, then {second!r}: "
                         "an upcaster must depend on its input only.")
    return first


__all__ = ["Given", "SpecError", "SpecFailed", "When", "assert_snapshot_plus_tail_equals_replay",
           "assert_upcasting_is_pure", "describe_command", "event_diff", "given"]

