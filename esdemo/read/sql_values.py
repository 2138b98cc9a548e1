"""Python values in and out of view tables, the same on DuckDB, SQLite and PostgreSQL.

Three kinds of column need care, decided by the column's declared SQL type:

* ``DECIMAL``/``NUMERIC``: money stays ``Decimal`` and exact. It is sent as
  text and cast by the database; SQLite, which has no decimal type (its
  NUMERIC affinity would turn ``'9.99'`` into a float), stores the text.
  A value that does not fit the declared ``DECIMAL(p, s)`` (more than ``s``
  places, or more than ``p - s`` digits before the point) is refused on both
  backends, never rounded (DuckDB would round; SQLite would keep it).
  Text sorts lexically ('10.00' < '9.99'), so on SQLite the column is declared
  ``TEXT COLLATE esdemo_decimal``: a collation, registered on the store's
  connection, that compares the texts as numbers. ``ORDER BY total``,
  ``WHERE total > 9``, ``max(total)`` then behave as on DuckDB. (Another
  connection to the file must register it too, see :func:`register_decimal_collation`.)
* ``TIMESTAMP``: an instant. Aware datetimes go in as UTC, and come out as
  aware UTC datetimes. A naive datetime is refused: which instant would it be?
* ``DATE``: a ``date`` (ISO text in SQLite).

Everything else (text, integers, booleans) passes through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

DECIMAL_COLLATION = "esdemo_decimal"
_CONSTRAINT = re.compile(r"\s+(?=(?:CHECK|NOT|NULL|DEFAULT|PRIMARY|UNIQUE|REFERENCES|COLLATE|GENERATED|CONSTRAINT)\b)",
                         re.IGNORECASE)
_DECIMAL_TYPE = re.compile(r"\s*(?:DECIMAL|NUMERIC)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?", re.IGNORECASE)


class ColumnValues:
    """Converts the values of one view's columns (``{name: sql_type}``) for ``backend``."""

    def __init__(self, view: str, columns: Mapping[str, str], backend: str):
        self.view, self.columns, self.backend = view, dict(columns), backend
        self.kinds = {name: _kind(sql_type) for name, sql_type in self.columns.items()}
        self.decimals = {name: _decimal_shape(self.columns[name]) for name, kind in self.kinds.items()
                         if kind == "decimal"}

    def ddl_type(self, column: str) -> str:
        """The type to create the column with on this backend."""
        if self.backend == "sqlite" and self.kinds[column] == "decimal":
            return f"TEXT COLLATE {DECIMAL_COLLATION}"
        return self.columns[column]

    def to_db_param(self, value: Any) -> Any:
        """A query parameter: as :meth:`to_db`, except that DuckDB gets a ``Decimal`` as a number
        (as text it would be cast to the column's scale, rounded, before comparing)."""
        if isinstance(value, Decimal) and self.backend == "duckdb":
            return value
        return self.to_db(None, value)

    def cast_type(self, column: str) -> str:
        """The column's type without its constraints (``INTEGER CHECK (n > 0)`` -> ``INTEGER``), for a CAST."""
        return _CONSTRAINT.split(self.columns[column], maxsplit=1)[0].strip()

    def to_db(self, column: str | None, value: Any) -> Any:
        """A Python value as this backend stores it (``column`` is for error messages)."""
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"{self.view}.{column}: naive datetime {value!r}; views store instants, "
                                 "use an aware one (e.g. recorded.recorded_at)")
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
            # SQLite: the text the backend writes for recorded_at ('YYYY-MM-DD HH:MM:SS.ffffff', year padded)
            return value if self.backend != "sqlite" else value.isoformat(" ", "microseconds")
        if isinstance(value, Decimal):
            shape = self.decimals.get(column)
            if shape is not None:
                self._check_fits(column, value, *shape)
            return str(value)
        if isinstance(value, date) and self.backend == "sqlite":
            return value.isoformat()
        return value

    def _check_fits(self, column: str, value: Decimal, precision: int, scale: int) -> None:
        sql_type = self.columns[column]
        if not value.is_finite():
            raise ValueError(f"{self.view}.{column}: {value} is not a number a {sql_type} column can hold")
        _, digits, exponent = value.as_tuple()
        places, kept = (max(0, -exponent), list(digits)) if any(digits) else (0, [])  # a zero fits anywhere
        while places > scale and kept[-1] == 0:  # trailing zeros: 1.500 fits two places
            kept.pop()
            places -= 1
        if places > scale:
            raise ValueError(
                f"{self.view}.{column}: {value} has {places} decimal place{'s' * (places != 1)}, but the column is {sql_type}: storing "
                f"it would round it. Round it in the handler (value.quantize(Decimal('1e-{scale}'))) or declare "
                f"more places, e.g. DECIMAL({precision + places - scale}, {places}).")
        whole = 0 if not any(digits) else max(0, len(digits) + exponent)
        if whole > precision - scale:
            raise ValueError(
                f"{self.view}.{column}: {value} has {whole} digit{'s' * (whole != 1)} before the decimal point, but the column is "
                f"{sql_type}, which holds {precision - scale}. Declare a wider column, e.g. DECIMAL(38, {scale}).")

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


def _decimal_shape(sql_type: str) -> tuple[int, int]:
    """``(precision, scale)`` of a DECIMAL/NUMERIC type; a bare ``DECIMAL`` is DuckDB's ``DECIMAL(18, 3)``."""
    match = _DECIMAL_TYPE.match(sql_type)
    precision = int(match.group(1)) if match and match.group(1) else 18
    scale = int(match.group(2)) if match and match.group(2) else (0 if match and match.group(1) else 3)
    return precision, scale


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


def compare_decimal_text(left: str, right: str) -> int:
    """The ``esdemo_decimal`` collation: compare two decimal texts as numbers (-1, 0 or 1).

    Text that is not a number (never written by a view) falls back to plain text order, after numbers.
    """
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    if a is not None or b is not None:
        return -1 if a is not None else 1
    return (left > right) - (left < right)


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except ArithmeticError:  # decimal.InvalidOperation
        return None
    return value if value.is_finite() else None


def register_decimal_collation(connection: Any) -> None:
    """Let a ``sqlite3`` connection sort and compare the DECIMAL columns of views as numbers.

    The store's own connection gets it when a view is attached; a connection
    opened by hand on the same file needs this call before ``ORDER BY`` on such a column.
    """
    connection.create_collation(DECIMAL_COLLATION, compare_decimal_text)
