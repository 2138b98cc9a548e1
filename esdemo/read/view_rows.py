"""The rows of a read model, as a projection's handler sees them.

The seed's projection says ``insert({id, status: "created", total: 0})`` and
``update(id, {total: total + price})``. :class:`ViewRows` is exactly that
vocabulary, whatever the view's storage (a DuckDB table, a dict of
documents, a pandas DataFrame)::

    view.insert({"order_id": "12345", "status": "created", "total": Decimal("0")})
    row = view["12345"]                                   # KeyError if there is no such row
    view.update("12345", total=row["total"] + Decimal("25.00"))
    view.delete("12345")

Nothing here writes to the storage directly. A :class:`ViewRows` is the
working set of one batch: rows are loaded on first use, changed in memory,
and handed to the storage when the batch commits, together with the new
checkpoint, in one step. If a handler raises half-way, the working set is
simply thrown away, so the view never holds half an event.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Key = Any  # one column's value, or a tuple of values for a composite key


class ViewRows:
    """A batch's working set of rows, keyed by ``key`` (a column name or a tuple of names).

    ``columns`` (optional) are the only columns a row may have; missing ones
    are filled with ``None`` on insert. ``load(key)`` fetches a row the batch
    has not seen yet from the storage (``None`` if absent). ``copy_row`` is
    how a row is copied on its way to a handler: ``dict`` for flat rows,
    ``copy.deepcopy`` for documents with nested lists, so that changing a
    returned row never changes the view behind the batch's back.
    ``load_many(keys)`` (optional) fetches many rows in one go for :meth:`prefetch`.
    """

    def __init__(self, name: str, key: str | Iterable[str], columns: Iterable[str] | None = None, *,
                 load: Callable[[Key], dict[str, Any] | None] | None = None,
                 load_many: Callable[[list[Key]], dict[Key, dict[str, Any]]] | None = None,
                 copy_row: Callable[[dict[str, Any]], dict[str, Any]] = dict):
        self.name = name
        self.key = (key,) if isinstance(key, str) else tuple(key)
        if not self.key or not all(isinstance(k, str) and k for k in self.key):
            raise ValueError(f"key must be a column name or a tuple of column names, got {key!r}")
        self.columns = tuple(columns) if columns is not None else None
        if self.columns is not None and not set(self.key) <= set(self.columns):
            raise ValueError(f"the key {self.key} must be among the columns {self.columns}")
        self._load = load or (lambda key: None)
        self._load_many = load_many
        self._copy = copy_row
        self._rows: dict[Key, dict[str, Any] | None] = {}
        self._changed: dict[Key, None] = {}  # insertion-ordered set of changed keys

    # -- reading ----------------------------------------------------------------------
    def get(self, key: Key, default: Any = None) -> dict[str, Any] | Any:
        """A copy of the row with this key, or ``default`` if there is none."""
        row = self._fetch(self._check_key(key))
        return default if row is None else self._copy(row)

    def __getitem__(self, key: Key) -> dict[str, Any]:
        row = self._fetch(self._check_key(key))
        if row is None:
            raise KeyError(
                f"{self.name} has no row with {self._describe(key)}. Was the event that creates it "
                "skipped, or does this event belong to another view?"
            )
        return self._copy(row)

    def __contains__(self, key: Key) -> bool:
        return self._fetch(self._check_key(key)) is not None

    def prefetch(self, keys: Iterable[Key]) -> None:
        """Load the rows of many keys at once (one query instead of one per key), if the storage can."""
        if self._load_many is None:
            return
        missing = list(dict.fromkeys(key for key in keys if key is not None and key not in self._rows))
        if missing:
            found = self._load_many(missing)
            for key in missing:
                self._rows[key] = found.get(key)

    # -- writing ----------------------------------------------------------------------
    def insert(self, row: Mapping[str, Any]) -> None:
        """Add a new row; its key must not exist yet (a second 'created' event is a bug worth seeing)."""
        row = self._complete(row)
        key = self.key_of(row)
        if self._fetch(key) is not None:
            raise ValueError(f"{self.name} already has a row with {self._describe(key)}; use update() or upsert()")
        self._put(key, row)

    def upsert(self, row: Mapping[str, Any]) -> None:
        """Insert the row, or replace the row that has the same key."""
        row = self._complete(row)
        self._put(self.key_of(row), row)

    def update(self, key: Key, **changes: Any) -> dict[str, Any]:
        """Change some columns of an existing row; returns a copy of the new row."""
        old = self[key]
        bad = [name for name in changes if name in self.key]
        if bad:
            raise ValueError(f"update() cannot change the key column(s) {bad} of {self.name}; delete and insert instead")
        new = {**old, **changes}
        self._check_columns(new)
        self._put(self._check_key(key), new)
        return self._copy(new)

    def delete(self, key: Key) -> None:
        """Remove the row with this key (an error if there is none)."""
        self[key]  # raises the clear KeyError
        self._rows[self._check_key(key)] = None
        self._changed[self._check_key(key)] = None

    # -- for the storage ----------------------------------------------------------------
    def changes(self) -> tuple[list[dict[str, Any]], list[Key]]:
        """``(rows to write, keys to remove)``: what this batch did, for the storage to apply."""
        written, removed = [], []
        for key in self._changed:
            row = self._rows[key]
            if row is None:
                removed.append(key)
            else:
                written.append(row)
        return written, removed

    def key_of(self, row: Mapping[str, Any]) -> Key:
        """The key of a row: the key column's value, or a tuple of values for a composite key."""
        values = tuple(row.get(name) for name in self.key)
        if any(value is None for value in values):
            raise ValueError(f"a row of {self.name} needs a value for its key column(s) {self.key}, got {dict(row)!r}")
        return values[0] if len(values) == 1 else values

    def __len__(self) -> int:
        """How many rows this batch changed."""
        return len(self._changed)

    def __repr__(self) -> str:
        return f"<ViewRows {self.name}: {len(self._changed)} changed in this batch>"

    # -- helpers ------------------------------------------------------------------------
    def _fetch(self, key: Key) -> dict[str, Any] | None:
        if key not in self._rows:
            self._rows[key] = self._load(key)
        return self._rows[key]

    def _put(self, key: Key, row: dict[str, Any]) -> None:
        self._rows[key] = row
        self._changed[key] = None

    def _complete(self, row: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(row, Mapping):
            raise TypeError(f"a row of {self.name} is a dict of column -> value, got {type(row).__name__}")
        row = self._copy(dict(row))
        self._check_columns(row)
        if self.columns is not None:
            row = {name: row.get(name) for name in self.columns}
        return row

    def _check_columns(self, row: Mapping[str, Any]) -> None:
        if self.columns is None:
            return
        unknown = [name for name in row if name not in self.columns]
        if unknown:
            raise ValueError(f"{self.name} has no column(s) {unknown}; its columns are {list(self.columns)}")

    def _check_key(self, key: Key) -> Key:
        if len(self.key) > 1 and (not isinstance(key, tuple) or len(key) != len(self.key)):
            raise TypeError(f"{self.name} is keyed by {self.key}: pass a tuple of {len(self.key)} values, got {key!r}")
        if key is None:
            raise TypeError(f"{self.name} rows are keyed by {self.key[0]!r}; the key cannot be None")
        return key

    def _describe(self, key: Key) -> str:
        values = key if len(self.key) > 1 else (key,)
        return ", ".join(f"{name}={value!r}" for name, value in zip(self.key, values))


def deep_copy_row(row: dict[str, Any]) -> dict[str, Any]:
    """Copy a document with everything nested in it (lists of reviews, images...)."""
    return copy.deepcopy(row)
