"""What a path must be before a backend opens it: the same answers on every backend.

A store file is recognised by its first bytes (SQLite: ``SQLite format 3``;
DuckDB: ``DUCK`` at offset 8) *before* the database library touches it, so
that a wrong file gets a :class:`~esdemo.store.errors.StoreFileError` naming
the path and what to do, never a raw library error, and is never modified:

* a directory, or a path whose folder does not exist: refused;
* a file of the other backend: refused, naming the backend that opens it;
* anything else that is not empty (random bytes, a text file, ...): refused;
* a **0-byte file** is an empty database on both backends: the store creates
  its tables in it (SQLite does so natively; DuckDB cannot open an empty file,
  so the empty file is removed first and DuckDB creates it afresh). This is
  what ``tempfile.mkstemp()`` and ``touch`` give you.

After opening, :func:`check_tables` refuses a database whose ``events`` or
``streams`` table is not this package's (another application's ``events``),
before the store adds anything to it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import StoreFileError

SQLITE_MAGIC = b"SQLite format 3\x00"
DUCKDB_MAGIC = b"DUCK"   # at offset 8, after the header's checksum

EVENTS_COLUMNS = ["position", "stream_id", "version", "type", "schema_version", "data", "metadata", "event_id",
                  "recorded_at"]
STREAMS_COLUMNS = ["stream_id", "version"]


def kind_of_file(path: Path) -> str:
    """``"sqlite"``, ``"duckdb"``, ``"empty"`` or ``"unknown"``, from the file's first bytes."""
    with open(path, "rb") as file:
        head = file.read(16)
    if not head:
        return "empty"
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head[8:12] == DUCKDB_MAGIC:
        return "duckdb"
    return "unknown"


def check_path(path: str, backend: str) -> str:
    """Refuse a path this backend cannot open as a store; return the file's kind (``"new"`` if it does not exist)."""
    if path == ":memory:":
        return "memory"
    target = Path(path)
    if target.is_dir():
        raise StoreFileError(
            f"{path!r} is a directory, not a store file. Give a file path inside it, "
            f"e.g. EventStore({str(target / ('events.' + backend))!r}, backend={backend!r}).")
    if not target.exists():
        folder = target.parent
        if not folder.is_dir():
            raise StoreFileError(
                f"Cannot create the store {path!r}: the folder {str(folder)!r} does not exist. Create it first "
                f"(Path({str(folder)!r}).mkdir(parents=True)) or choose a path in an existing folder.")
        return "new"
    try:
        kind = kind_of_file(target)
    except OSError as exc:
        raise StoreFileError(f"Cannot read {path!r} ({exc.strerror or exc}). Check the file's permissions, "
                             "or choose another path.") from exc
    other = {"sqlite": "duckdb", "duckdb": "sqlite"}[backend]
    if kind == other:
        raise StoreFileError(
            f"{path!r} is a {_name(other)} database, and this store was asked to open it with "
            f"backend={backend!r}. Open it with EventStore({path!r}, backend={other!r}), "
            f"or give the {_name(backend)} store a path of its own.")
    if kind == "unknown":
        raise StoreFileError(
            f"{path!r} is not an event store: it is neither a SQLite nor a DuckDB database (its first bytes are "
            "something else). Nothing was changed. Check the path, or choose a new file for the store.")
    return kind


def remove_empty_file(path: str) -> None:
    """DuckDB cannot open a 0-byte file: remove it (only if still empty) so that DuckDB creates the database."""
    try:
        if os.path.getsize(path) == 0:
            os.remove(path)
    except FileNotFoundError:
        pass


def check_tables(path: str, found: dict[str, list[str]]) -> None:
    """Refuse a database whose ``events``/``streams`` tables (name -> column names) are not this package's."""
    for table, expected in (("events", EVENTS_COLUMNS), ("streams", STREAMS_COLUMNS)):
        columns = found.get(table)
        if columns is not None and [c.lower() for c in columns] != expected:
            raise StoreFileError(
                f"{path!r} already has a table named {table!r} that is not an event store's: its columns are "
                f"{columns}, an esdemo store's are {expected}. Nothing was changed. It belongs to another "
                "application: give the event store a file of its own.")


def open_failed(path: str, backend: str, exc: BaseException) -> StoreFileError:
    """A database error while opening a file that looked right: the package's error, naming the path."""
    return StoreFileError(
        f"{path!r} could not be opened as a {_name(backend)} event store: {exc}. The file may be damaged or "
        "written by an incompatible version. Restore it from a backup, or choose a new path.")


def _name(backend: str) -> str:
    return {"sqlite": "SQLite", "duckdb": "DuckDB"}[backend]
