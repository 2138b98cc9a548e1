"""Read models kept outside the database: a dict of documents, a pandas DataFrame.

The seed's point: every view may have its own storage (search in
Elasticsearch, product pages in MongoDB, admin in PostgreSQL). Here the
"document database" is a Python dict and the "search index" a DataFrame,
which is enough to show what changes and what does not.

What does not change is exactly-once. The view's data and its checkpoint
are kept together as one pair, ``(data, position)`` (with the events it
parked, if its runner's policy parks: see :mod:`esdemo.read.failure_policy`). A batch works on its
own working set and, when it commits, builds the next ``data`` and swaps
in the new pair with a single assignment. A reader holds either the old
pair or the new one, never half a batch; a handler that raises leaves the
pair untouched. If the process dies, both die together, and the view is
rebuilt from position 0 on the next start: consistent again, just later.
(A real document store gives the same guarantee with a transaction that
writes the documents and the checkpoint document together.)
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from .failure_policy import ParkedEvent
from .projection import Batch, ProjectionConflictError, ProjectionError, ViewStorage
from .view_rows import Key, ViewRows, deep_copy_row

if TYPE_CHECKING:
    from ..store.event_store import EventStore


class _Generation:
    """One version of the view: ``state`` is ``(data, position, parked events)``, replaced whole."""

    def __init__(self, data: Any, number: int):
        self.state: tuple[Any, int, dict[int, ParkedEvent]] = (data, 0, {})
        self.number = number
        self.dropped = False

    def __repr__(self) -> str:
        return f"generation {self.number}"


class _MemoryStorage(ViewStorage):
    """Shared logic: generations, the commit by swapping the ``(data, position)`` pair."""

    copy_row = staticmethod(dict)

    def __init__(self, key: str | tuple[str, ...], columns: Iterable[str] | None = None):
        self.key = (key,) if isinstance(key, str) else tuple(key)
        self.columns = tuple(columns) if columns is not None else None
        ViewRows("check", self.key, self.columns)  # refuses a key that is not among the columns
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._live = _Generation(self._empty(), next(self._numbers))
        self._store: EventStore | None = None
        self._name = ""

    # -- to be provided by subclasses ----------------------------------------------------------
    def _empty(self) -> Any:
        raise NotImplementedError

    def _get(self, data: Any, key: Key) -> dict[str, Any] | None:
        raise NotImplementedError

    def _apply(self, data: Any, written: list[dict[str, Any]], removed: list[Key]) -> Any:
        raise NotImplementedError

    # -- ViewStorage -----------------------------------------------------------------------------
    def attach(self, store: EventStore, name: str) -> None:
        if self._store is not None and (self._store is not store or self._name != name):
            raise ValueError(f"this storage already holds {self._name!r} built from {self._store!r}; "
                             "make a new projection object for another store")
        self._store, self._name = store, name

    def position(self, target: _Generation | None = None) -> int:
        return (target or self._live).state[1]

    @property
    def live_target(self) -> _Generation:
        return self._live

    @contextmanager
    def batch(self, target: _Generation | None = None, *, activate: bool = False) -> Iterator[Batch]:
        generation = target or self._live
        if generation.dropped:
            raise ProjectionError(f"this generation of {self._name!r} was dropped")
        state = generation.state
        data, start, parked = state
        rows = ViewRows(self._name or "view", self.key, self.columns,
                        load=lambda key: self._get(data, key), copy_row=self.copy_row)
        batch = Batch(rows, start, generation)
        yield batch
        written, removed = rows.changes()
        if not (written or removed or batch.parked or batch.replayed or activate) and batch.position == start:
            return  # nothing to commit
        new_data = self._apply(data, written, removed) if (written or removed) else data
        new_parked = dict(parked)
        for event in batch.parked:
            new_parked[event.position] = event
        for position, when in batch.replayed.items():
            if position not in new_parked or new_parked[position].replayed_at is not None:
                raise ProjectionConflictError(f"the parked event at position {position} of {self._name!r} was "
                                              "replayed by someone else meanwhile; nothing of this replay was kept.")
            new_parked[position] = replace(new_parked[position], replayed_at=when)
        with self._lock:
            if generation.state is not state or (target is None and generation is not self._live):
                raise ProjectionConflictError(
                    f"{self._name!r} changed while this batch ran (a second runner, or a rebuild switched "
                    "generations); nothing of this batch was kept. Run it again."
                )
            generation.state = (new_data, batch.position, new_parked)  # the commit: one assignment
            if activate:
                self._live = generation

    def new_target(self) -> _Generation:
        return _Generation(self._empty(), next(self._numbers))

    def parked(self, target: _Generation | None = None, *, include_replayed: bool = False) -> list[ParkedEvent]:
        """The events this view parked (oldest first); ``include_replayed`` adds those applied since."""
        parked = (target or self._live).state[2]
        return [parked[p] for p in sorted(parked) if include_replayed or parked[p].replayed_at is None]

    def drop_target(self, target: _Generation) -> None:
        if target is self._live:
            raise ValueError(f"that generation is the live one of {self._name!r}; only one never switched to can be dropped")
        target.dropped = True

    def _data(self) -> Any:
        return self._live.state[0]

    def _key_of(self, row: dict[str, Any]) -> Key:
        values = tuple(row[name] for name in self.key)
        return values[0] if len(values) == 1 else values


class Documents(_MemoryStorage):
    """A view as a dict of documents (the seed's MongoDB), one per key.

    Documents may nest lists and dicts; handlers get deep copies, so only
    ``view.update(...)`` changes the view. Read with :meth:`get` or :meth:`all`.
    """

    copy_row = staticmethod(deep_copy_row)

    def __init__(self, key: str | tuple[str, ...]):
        super().__init__(key)

    def _empty(self) -> dict[Key, dict[str, Any]]:
        return {}

    def _get(self, data: dict[Key, dict[str, Any]], key: Key) -> dict[str, Any] | None:
        document = data.get(key)
        return None if document is None else deep_copy_row(document)

    def _apply(self, data: dict[Key, dict[str, Any]], written: list[dict[str, Any]], removed: list[Key]) -> dict:
        new = dict(data)
        for key in removed:
            new.pop(key, None)
        for document in written:
            new[self._key_of(document)] = document
        return new

    def get(self, key: Key) -> dict[str, Any] | None:
        """A copy of one document of the live view, or ``None``."""
        return self._get(self._data(), key)

    def all(self) -> list[dict[str, Any]]:
        """Copies of every document of the live view, in key order."""
        data = self._data()
        return [deep_copy_row(data[key]) for key in sorted(data)]

    def rows(self) -> list[dict[str, Any]]:
        """Every document of the live view (copies), in key order: the same as :meth:`all`."""
        return self.all()

    def __len__(self) -> int:
        return len(self._data())


class DataFrameTable(_MemoryStorage):
    """A view as a pandas DataFrame indexed by ``key`` (the seed's search index).

    ``columns`` include the key. Values are kept as Python objects
    (``Decimal`` stays exact, a cell may hold a list); handlers get deep
    copies, as with :class:`Documents`. Read the live frame with :attr:`frame`.
    """

    copy_row = staticmethod(deep_copy_row)  # a list in a cell, changed in place, must not change the live frame

    def __init__(self, key: str, columns: Iterable[str]):
        if not isinstance(key, str):
            raise TypeError("a DataFrameTable is keyed by one column (its index); pass its name")
        super().__init__(key, columns)

    def _empty(self) -> pd.DataFrame:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in self.columns}).set_index(self.key[0])

    def _get(self, frame: pd.DataFrame, key: Key) -> dict[str, Any] | None:
        if key not in frame.index:
            return None
        return {self.key[0]: key, **frame.loc[key].to_dict()}

    def _apply(self, frame: pd.DataFrame, written: list[dict[str, Any]], removed: list[Key]) -> pd.DataFrame:
        index = self.key[0]
        gone = [key for key in [*removed, *(row[index] for row in written)] if key in frame.index]
        frame = frame.drop(index=gone)
        if written:
            added = pd.DataFrame(written, columns=list(self.columns), dtype=object).set_index(index)
            frame = pd.concat([frame, added]) if len(frame) else added
        return frame.sort_index()

    @property
    def frame(self) -> pd.DataFrame:
        """The live view (a copy-on-write copy: changing it does not change the view)."""
        return self._data().copy(deep=False)

    def rows(self) -> list[dict[str, Any]]:
        """Every row of the live view as a dict, the key column first, in key order (the frame's index)."""
        return [deep_copy_row(row) for row in self._data().reset_index().to_dict("records")]

    def __len__(self) -> int:
        return len(self._data())
