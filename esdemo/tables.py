"""Events as tables: the compact, readable views of a log that notebooks print.

Decimals print as ``200.00`` rather than ``Decimal('200.00')``, datetimes as
``2024-01-02 10:30``; what a learner should read, not Python's repr.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd

from .store.events import RecordedEvent

if TYPE_CHECKING:
    from .read.projection import Projection


def format_value(value: Any) -> str:
    """One value as a learner wants to read it."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") + ("" if value.second == 0 else f":{value.second:02d}")
    if isinstance(value, (Decimal, date)):
        return str(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


def format_data(data: Mapping[str, Any]) -> str:
    """An event's data as ``key=value`` pairs, in the dict's order (the store returns keys sorted)."""
    return ", ".join(f"{key}={format_value(value)}" for key, value in data.items())


def events_table(events: Iterable[RecordedEvent], *, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """A DataFrame with one row per recorded event, indexed by global position.

    Columns: ``stream``, ``version`` (in the stream), ``type``, ``schema`` (the
    event's schema version, the seed's "Version" column), ``data`` and
    ``recorded_at``. Pass ``columns`` to keep only some of them.
    """
    rows = [
        {
            "position": e.position,
            "stream": e.stream_id,
            "version": e.version,
            "type": e.type,
            "schema": e.schema_version,
            "data": format_data(e.data),
            "recorded_at": format_value(e.recorded_at),
        }
        for e in events
    ]
    frame = pd.DataFrame(rows, columns=["position", "stream", "version", "type", "schema", "data", "recorded_at"])
    frame = frame.set_index("position")
    if columns is not None:
        frame = frame[list(columns)]
    return frame


# -- 05 · Projections: a read model as a table ------------------------------------------------


def live_rows(projection: Projection) -> list[dict[str, Any]]:
    """Every row of ``projection``'s live view as a dict, in key order, whatever the view's storage.

    A reader's view of a read model: a DuckDB table (:class:`~esdemo.read.sql_views.SqlTable`),
    documents (:class:`~esdemo.read.memory_views.Documents`) or a DataFrame
    (:class:`~esdemo.read.memory_views.DataFrameTable`); each storage knows how to
    list its rows (:meth:`~esdemo.read.projection.ViewStorage.rows`). Values keep
    their types (``Decimal`` stays ``Decimal``).

    >>> live_rows(summary)[0]["status"]
    'paid'
    """
    return projection.storage.rows()


def view_table(rows: Iterable[Mapping[str, Any]], key: str | Iterable[str]) -> pd.DataFrame:
    """Rows of a view as a DataFrame indexed by ``key``, values formatted to read (``50.00``, ``2024-03-01 09:05``).

    ``None`` shows as an empty cell. Use it with :func:`live_rows`::

        view_table(live_rows(summary), "order_id")
    """
    keys = [key] if isinstance(key, str) else list(key)
    rows = [dict(row) for row in rows]
    columns = list(rows[0]) if rows else keys
    missing = [name for name in keys if name not in columns]
    if missing:
        raise ValueError(f"the key column(s) {missing} are not among the rows' columns {columns}")
    shown = [{name: ("" if value is None else format_value(value)) for name, value in row.items()} for row in rows]
    return pd.DataFrame(shown, columns=columns).set_index(keys)
