"""Events as tables: the compact, readable views of a log that notebooks print.

Decimals print as ``200.00`` rather than ``Decimal('200.00')``, datetimes as
``2024-01-02 10:30``; what a learner should read, not Python's repr.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from .events import RecordedEvent


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
    """An event's data as ``key=value`` pairs, in the order they were written."""
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
