"""Given / then_view: specs for projections.

*Given* these events happened, *then* the view holds these rows::

    given(OrderCreated("1", "c-42"), ItemAdded("1", "BOOK-1", Decimal("25"), 2, Decimal("50"))) \\
        .then_view(OrderSummary, rows=[{"order_id": "1", "status": "created", "item_count": 2,
                                        "total": Decimal("50")}])

The spec makes a fresh in-memory store (a ``FakeClock``: given event *n* is
recorded at 2024-01-01 09:00 plus *n* minutes), appends the events (domain
events are encoded by the projection's registry; a ``NewEvent`` is stored as
it is, e.g. an old schema version), runs the projection with a
:class:`~esdemo.read.projection_runner.ProjectionRunner` and compares.

* ``rows=[...]``: the view's rows, in any order, matched by the view's key.
  Only the columns the expected rows name are compared, so a spec states
  what it is about (leave out ``created_at`` unless the spec is about time).
* ``query=fn, equals=...``: ``fn(store)`` after the projection ran, e.g.
  ``lambda store: store.query("SELECT count(*) FROM order_summary")``.

Failures raise :class:`~esdemo.store.errors.SpecFailed` (an ``AssertionError``) with
a row-by-row diff, the first difference marked ``>>``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from ..store.clock import FakeClock
from ..store.errors import SpecError, SpecFailed
from ..store.event_store import EventStore
from ..store.events import ANY, NewEvent
from .memory_views import DataFrameTable, Documents
from .projection import Projection, ProjectionError
from .projection_runner import ProjectionRunner
from .sql_views import SqlTable

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc)
_WIDTH = 38


def given(*events: Any, stream: str = "given") -> ViewGiven:
    """Start a projection spec from the events that happened (a list or several arguments).

    Events go to the stream ``stream``; a ``(stream_id, event)`` pair puts one elsewhere.
    """
    if len(events) == 1 and isinstance(events[0], (list, tuple)) and not _is_pair(events[0]):
        events = tuple(events[0])
    return ViewGiven(list(events), stream=stream)


class ViewGiven:
    """``given(...)`` for a projection: finish with :meth:`then_view`."""

    def __init__(self, events: list[Any], *, stream: str = "given"):
        self.events, self.stream = events, stream

    def then_view(self, projection: type[Projection] | Projection, rows: Sequence[dict[str, Any]] | None = None, *,
                  query: Callable[[EventStore], Any] | None = None, equals: Any = None,
                  backend: str = "sqlite") -> Any:
        """Run ``projection`` over the given events; expect ``rows``, or ``query(store) == equals``.

        ``projection`` is a Projection class (a fresh instance is made) or a
        new instance (e.g. with another storage). Returns the rows (or the
        query's result).
        """
        __tracebackhide__ = True
        if (rows is None) == (query is None):
            raise SpecError("then_view needs what to expect: rows=[{...}, ...] for the view's rows, "
                            "or query=lambda store: ..., equals=... for a query's result (one of the two).")
        projection = _instance(projection)
        with EventStore(backend=backend, clock=FakeClock(T0 + timedelta(minutes=1), step=timedelta(minutes=1))) as store:
            for n, item in enumerate(self.events, start=1):
                stream, event = item if _is_pair(item) else (self.stream, item)
                store.append(stream, [_encode(projection, event, f"given event {n}")], expected_version=ANY)
            try:
                ProjectionRunner(store, projection).catch_up()
            except ProjectionError as exc:
                raise SpecFailed(f"View spec failed for {projection.name}\n  given: {_told(self.events)}\n"
                                 f"  then:  the projection failed: {exc.__cause__!r}\n\n{exc}") from exc
            if query is not None:
                actual = query(store)
                if actual != equals:
                    raise SpecFailed(f"View spec failed for {projection.name}\n  given: {_told(self.events)}\n"
                                     f"  then:  the query returned something else\n\n"
                                     f"  expected: {equals!r}\n  actual:   {actual!r}")
                return actual
            actual_rows = view_rows(projection)
        summary, table = row_diff(list(rows), actual_rows, key=_key(projection))
        if table:
            raise SpecFailed(f"View spec failed for {projection.name}\n  given: {_told(self.events)}\n"
                             f"  then:  {summary}\n\n{table}")
        return actual_rows


def view_rows(projection: Projection) -> list[dict[str, Any]]:
    """Every row of ``projection``'s live view, as dicts, whatever its storage."""
    storage = projection.storage
    if isinstance(storage, SqlTable):
        return storage.query()
    if isinstance(storage, Documents):
        return storage.all()
    if isinstance(storage, DataFrameTable):
        return storage.frame().to_dict("records")
    raise SpecError(f"then_view(rows=...) reads SqlTable, Documents and DataFrameTable views; {projection.name} is "
                    f"kept in {type(storage).__name__}: use query=..., equals=... instead.")


def row_diff(expected: list[dict[str, Any]], actual: list[dict[str, Any]],
             key: tuple[str, ...] = ()) -> tuple[str, str]:
    """``(summary, table)`` comparing rows by ``key`` on the columns ``expected`` names; ``table`` is
    empty when they agree."""
    columns: list[str] = []
    for row in expected:
        columns += [c for c in row if c not in columns]
    if not key or any(k not in row for row in expected for k in key):
        key = tuple(columns[:1])
    by_key_expected = {_key_of(r, key): r for r in expected}
    by_key_actual = {_key_of(r, key): r for r in actual}
    keys = sorted(set(by_key_expected) | set(by_key_actual), key=repr)
    rows: list[tuple[str, str, str, str, str]] = []
    first = None
    differing = 0
    for k in keys:
        want, got = by_key_expected.get(k), by_key_actual.get(k)
        label = name = ", ".join(f"{column}={value!r}" for column, value in zip(key, k))
        lines = []
        if want is None or got is None:
            lines.append(("(row)", "present" if want else "(none)", "present" if got else "(none)", True))
        for column in columns:
            w = want.get(column, _NOTHING) if want is not None else _NOTHING
            g = got.get(column, _NOTHING) if got is not None else _NOTHING
            lines.append((column, _show(w), _show(g), w != g))
        if not any(d for *_, d in lines):
            continue
        differing += 1
        for column, w, g, differs in lines:
            mark = ""
            if differs and first is None:
                first, mark = f"row {name}, column {column!r}", ">>"
            rows.append((label, column, w, g, mark))
            label = ""
    if not rows:
        return f"{len(actual)} rows as expected", ""
    summary = (f"expected {len(expected)} rows, the view has {len(actual)}; " if len(expected) != len(actual) else
               f"{differing} of {len(keys)} rows differ; ") + f"first difference: {first}"
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(("row", "column", "expected", "actual"))]
    def line(mark: str, cells: Sequence[str]) -> str:
        return f"  {mark:2} " + "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    table = "\n".join([line("", ("row", "column", "expected", "actual"))] + [line(r[4], r[:4]) for r in rows])
    return summary, table


class _Nothing:
    def __repr__(self) -> str:
        return "-"


_NOTHING = _Nothing()


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _WIDTH else text[:_WIDTH - 3] + "..."


def _key_of(row: dict[str, Any], key: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(row.get(k) for k in key)


def _key(projection: Projection) -> tuple[str, ...]:
    key = getattr(projection.storage, "key", ())
    return (key,) if isinstance(key, str) else tuple(key)


def _instance(projection: Any) -> Projection:
    if isinstance(projection, type) and issubclass(projection, Projection):
        return projection()
    if isinstance(projection, Projection):
        return projection
    raise SpecError(f"then_view takes a Projection class such as OrderSummary, got {projection!r}")


def _encode(projection: Projection, event: Any, where: str) -> NewEvent:
    if isinstance(event, NewEvent):
        return event
    registry = projection.registry
    if registry is None:
        raise SpecError(f"{projection.name} has no registry, so it reads stored events: give NewEvent(...)s, not "
                        f"{type(event).__name__}.")
    try:
        return registry.encode(event)
    except TypeError:
        raise SpecError(f"{where} is {type(event).__name__}, which is not an event type {projection.name}'s registry "
                        f"knows (it knows {registry.types}). Decorate its class with @domain_event.") from None


def _is_pair(item: Any) -> bool:
    return isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)


def _told(events: list[Any]) -> str:
    if not events:
        return "no events"
    names = [type(e[1] if _is_pair(e) else e).__name__ if not isinstance(e[1] if _is_pair(e) else e, NewEvent)
             else (e[1] if _is_pair(e) else e).type for e in events]
    return ", ".join(names)




def assert_rebuild_equals_incremental(store: EventStore, projection: Projection) -> list[dict[str, Any]]:
    """A rebuild from position 0 must give the view the projection built incrementally. Returns the rows.

    Call it after running ``projection`` the everyday way (batch by batch, as
    events arrived); it rebuilds the view blue/green and compares the two.
    """
    from .rebuild import rebuild

    runner = ProjectionRunner(store, projection)
    runner.catch_up()
    incremental = view_rows(projection)
    rebuild(store, projection)
    rebuilt = view_rows(projection)
    summary, table = row_diff(rebuilt, incremental, key=_key(projection)) if rebuilt or incremental else ("", "")
    if table or len(rebuilt) != len(incremental):
        raise SpecFailed(f"{projection.name}: the rebuilt view (expected) differs from the incremental one (actual); "
                         f"{summary}\n\n{table}")
    return rebuilt


__all__ = ["ViewGiven", "assert_rebuild_equals_incremental", "given", "row_diff", "view_rows"]
