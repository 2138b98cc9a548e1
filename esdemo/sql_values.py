"""Python values in and out of view tables, the same on DuckDB and SQLite.

Three kinds of column need care, decided by the column's declared SQL type:

* ``DECIMAL``/``NUMERIC``: money stays ``Decimal`` and exact. It is sent as
  text and cast by the database; SQLite, which has no decimal type (its
  NUMERIC affinity would turn ``'9.99'`` into a float), stores the text.
* ``TIMESTAMP``: an instant. Aware datetimes go in as UTC, and come out as
  aware UTC datetimes. A naive datetime is refused: which instant would it be?
* ``DATE``: a ``date`` (ISO text in SQLite).

Everything else (text, integers, booleans) passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # the format the SQLite backend uses for recorded_at too


class ColumnValues:
    """Converts the values of one view's columns (``{name: sql_type}``) for ``backend``."""

    def __init__(self, view: str, columns: Mapping[str, str], backend: str):
        self.view, self.columns, self.backend = view, dict(columns), backend
        self.kinds = {name: _kind(sql_type) for name, sql_type in self.columns.items()}

    def ddl_type(self, column: str) -> str:
        """The type to create the column with on this backend."""
        if self.backend == "sqlite" and self.kinds[column] == "decimal":
            return "TEXT"
        return self.columns[column]

    def to_db(self, column: str | None, value: Any) -> Any:
        """A Python value as this backend stores it (``column`` is for error messages)."""
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"{self.view}.{column}: naive datetime {value!r}; views store instants, "
                                 "use an aware one (e.g. recorded.recorded_at)")
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
            return value if self.backend == "duckdb" else value.strftime(_SQLITE_TIME)
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, date) and self.backend != "duckdb":
            return value.isoformat()
        return value

    def from_db_row(self, names: list[str], row: tuple) -> dict[str, Any]:
        """A database row as a dict of Python values."""
        return {name: _from_db(self.kinds.get(name), value) for name, value in zip(names, row)}


def _kind(sql_type: str) -> str | None:
    upper = sql_type.upper()
    if "TZ" in upper or "ZONE" in upper:
        raise ValueError(f"type {sql_type!r}: use TIMESTAMP (views store UTC) rather than a zoned type")
    for prefix, kind in (("DECIMAL", "decimal"), ("NUMERIC", "decimal"), ("TIMESTAMP", "timestamp"), ("DATE", "date")):
        if upper.startswith(prefix):
            return kind
    return None


def _from_db(kind: str | None, value: Any) -> Any:
    if value is None or kind is None:
        return value
    if kind == "decimal":
        return value if isinstance(value, Decimal) else Decimal(str(value))
    if kind == "timestamp":
        value = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        return value.replace(tzinfo=timezone.utc)
    if kind == "date" and not isinstance(value, date):
        return date.fromisoformat(value)
    return value
