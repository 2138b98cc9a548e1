"""Read models as tables in the event store's own database (DuckDB or SQLite).

Three things live next to the ``events`` table:

* the view's rows, in a *generation* table ``<name>_<n>`` (``order_summary_1``);
* ``checkpoints(name, position)``: the last event applied to each generation;
* ``read_models(name, live_table, next_generation)``: which generation is live.

Readers never name a generation: they query the SQL view ``<name>``
(``SELECT * FROM order_summary``), which points at the live table. A batch
writes its rows *and* its checkpoint in one transaction of the store
(:meth:`~esdemo.store.event_store.EventStore.transaction`), so the two never disagree.
A blue/green rebuild fills ``<name>_<n+1>`` beside the live table, then, in
one transaction, re-points the view, records the new live table and drops
the old one. DuckDB and SQLite both have transactional DDL, so a reader
sees the old table or the new one, never a half-built one.

Values: ``DECIMAL`` columns keep ``Decimal`` exact, ``TIMESTAMP`` columns
store UTC (aware datetimes go in, aware UTC datetimes come out), ``DATE``
columns hold dates (see :mod:`esdemo.read.sql_values`).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import duckdb
import psycopg

from .failure_policy import ParkedEvent
from .projection import Batch, ProjectionCommitError, ProjectionConflictError, ProjectionError, ViewStorage
from .sql_values import ColumnValues, register_decimal_collation
from .view_rows import Key, ViewRows

if TYPE_CHECKING:
    from ..store.event_store import EventStore

META = (
    "CREATE TABLE IF NOT EXISTS read_models (name VARCHAR PRIMARY KEY, live_table VARCHAR NOT NULL, "
    "next_generation INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS checkpoints (name VARCHAR PRIMARY KEY, position BIGINT NOT NULL)",
    # Events a generation set aside (see esdemo.read.failure_policy); times as ISO text on both backends.
    "CREATE TABLE IF NOT EXISTS parked_events (target VARCHAR NOT NULL, view VARCHAR NOT NULL, "
    "position BIGINT NOT NULL, stream_id VARCHAR NOT NULL, event_id VARCHAR NOT NULL, event_type VARCHAR NOT NULL, "
    "error_type VARCHAR NOT NULL, error_message VARCHAR NOT NULL, attempts INTEGER NOT NULL, "
    "parked_at VARCHAR NOT NULL, replayed_at VARCHAR, PRIMARY KEY (target, position))",
)
PARKED_COLUMNS = ("view, position, stream_id, event_id, event_type, error_type, error_message, attempts, parked_at, "
                  "replayed_at")
# Errors of the database while committing a batch. Only DuckDB's MVCC write-write conflicts (two
# transactions writing the checkpoint row or the same view rows, "Conflict on update", "write-write
# conflict") are races, worth running again; anything else (a constraint the rows break, an I/O error,
# a failed COMMIT) is reported as what it is. (SQLite serializes writers: it has no such races.)
_DATABASE_ERRORS = (duckdb.Error, sqlite3.Error, psycopg.Error)


def _is_conflict(exc: BaseException) -> bool:
    if isinstance(exc, (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)):
        return True
    return isinstance(exc, duckdb.TransactionException) and "conflict" in str(exc).lower()
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SqlTable(ViewStorage):
    """A read model kept in a table of the store's database: the default storage.

    >>> SqlTable(key="order_id", columns={"order_id": "VARCHAR", "status": "VARCHAR",
    ...                                   "total": "DECIMAL(18, 2)", "paid_at": "TIMESTAMP"})

    ``key`` (a column, or a tuple of columns) is the table's primary key.
    """

    def __init__(self, *, key: str | tuple[str, ...], columns: Mapping[str, str]):
        if not isinstance(columns, Mapping) or not columns:
            raise TypeError("columns must be a dict of column name -> SQL type, e.g. {'order_id': 'VARCHAR'}")
        for column, sql_type in columns.items():
            _check_identifier(column, "column name")
            if not isinstance(sql_type, str):
                raise TypeError(f"column {column!r} needs an SQL type such as 'VARCHAR', got {sql_type!r}")
        self.columns = dict(columns)
        self.key = (key,) if isinstance(key, str) else tuple(key)
        ViewRows("check", self.key, self.columns)  # refuses a key that is not among the columns
        ColumnValues("check", self.columns, "duckdb")  # refuses zoned timestamp types
        self._store: EventStore | None = None
        self._name = ""

    # -- ViewStorage ----------------------------------------------------------------------
    def attach(self, store: EventStore, name: str) -> None:
        if self._store is not None:
            if self._store is store and self._name == name:
                return
            raise ValueError(f"this SqlTable already holds {self._name!r} in {self._store!r}; make a new projection object")
        _check_identifier(name, "view name")
        self._store, self._name = store, name
        self._values = ColumnValues(name, self.columns, store.backend)
        try:
            self._create_meta(store, name)
        except BaseException:
            self._store, self._name = None, ""
            raise

    def _create_meta(self, store: EventStore, name: str) -> None:
        with store.transaction() as cur:
            if store.backend == "sqlite":
                register_decimal_collation(cur)   # DECIMAL columns sort as numbers (see sql_values)
            for statement in META:
                cur.execute(statement)
            row = cur.execute("SELECT live_table FROM read_models WHERE name = ?", [name]).fetchone()
            if row is None:
                table = f"{name}_1"
                self._create(cur, table)
                cur.execute("INSERT INTO read_models VALUES (?, ?, 2)", [name, table])
                cur.execute(f"CREATE VIEW {name} AS SELECT * FROM {table}")

    def position(self, target: str | None = None) -> int:
        return self._read_checkpoint(target or self.live_target)

    @property
    def live_target(self) -> str:
        """The live generation table, e.g. ``"order_summary_2"``."""
        rows = self._read("SELECT live_table FROM read_models WHERE name = ?", [self._name])
        return rows[0][0]

    @contextmanager
    def batch(self, target: str | None = None, *, activate: bool = False) -> Iterator[Batch]:
        """The batch inside one open transaction (``batch.cursor``): for set-based SQL that writes
        through the cursor. Handlers should use :meth:`staged_batch`, which holds no lock while they run."""
        in_caller = False
        start = None
        try:
            with self._transaction() as cur:
                table = target or self._live(cur)
                self._check_columns(table)
                start = self._checkpoint(cur, table, for_update=True)
                rows = ViewRows(self._name, self.key, self.columns, load=lambda key: self._load(cur, table, key),
                                load_many=lambda keys: self._load_many(cur, table, keys))
                batch = Batch(rows, start, table, cur)
                in_caller = True
                yield batch
                in_caller = False
                self._commit(cur, table, batch, activate)
        except _DATABASE_ERRORS as exc:
            if in_caller and not _is_conflict(exc):
                raise  # the caller's own SQL failed (a set-based rebuild's duplicate key): a bug, not a race
            raise self._commit_failure(exc, start) from exc

    @contextmanager
    def staged_batch(self, target: str | None = None, *, activate: bool = False) -> Iterator[Batch]:
        """The batch the runner uses: handlers run while no transaction is open, then one short commit.

        Rows are read with short reads (no lock held in between), changed in memory,
        and written with the new checkpoint in one transaction that first checks
        that the checkpoint (and the live table) did not move since the batch
        began; if it did, :class:`ProjectionConflictError` and nothing is kept.
        Only batches of this view move its checkpoint, so an unmoved checkpoint
        means that every row read is still what the table holds.
        """
        table = target or self.live_target
        self._check_columns(table)
        start = self._read_checkpoint(table)
        rows = ViewRows(self._name, self.key, self.columns, load=lambda key: self._read_one(table, key),
                        load_many=lambda keys: self._read_many(table, keys))
        batch = Batch(rows, start, table, None)
        yield batch
        written, removed = rows.changes()
        if not (written or removed or batch.parked or batch.replayed or activate) and batch.position == start:
            return  # nothing to commit
        try:
            with self._transaction() as cur:
                if target is None and self._live(cur) != table:
                    raise ProjectionConflictError(
                        f"{self._name!r} was switched to a new table (a rebuild) while this batch ran on {table}; "
                        "nothing of this batch was kept. Run it again.")
                now = self._checkpoint(cur, table, for_update=True)
                if now != start:
                    raise ProjectionConflictError(
                        f"the checkpoint of {self._name!r} moved from {start} to {now} while this batch ran (a "
                        "second runner); nothing of this batch was kept. Run it again.")
                self._commit(cur, table, batch, activate)
        except _DATABASE_ERRORS as exc:
            raise self._commit_failure(exc, start) from exc

    def _commit(self, cur: Any, table: str, batch: Batch, activate: bool) -> None:
        # The checkpoint first: a second runner on this table conflicts on this row (DuckDB) before
        # anything else, so an error while writing the rows is the rows' own, not a race.
        if batch.position != batch.start:
            cur.execute("UPDATE checkpoints SET position = ? WHERE name = ?", [batch.position, table])
        if batch.replayed:
            self._mark_replayed(cur, table, batch.replayed)
        try:
            self._write(cur, table, batch.rows)
        except ValueError as exc:
            raise ProjectionError(f"could not write the batch of {self._name!r}: {exc}. Nothing of this "
                                  f"batch was kept; the checkpoint stays at {batch.start}.") from exc
        for parked in batch.parked:
            cur.execute(f"INSERT INTO parked_events (target, {PARKED_COLUMNS}) VALUES ({', '.join('?' * 11)})",
                        [table, parked.view, parked.position, parked.stream_id, parked.event_id, parked.event_type,
                         parked.error_type, parked.error_message, parked.attempts, _iso(parked.parked_at), None])
        if activate:
            self._activate(cur, table)

    def _mark_replayed(self, cur: Any, table: str, replayed: dict[int, Any]) -> None:
        # Exactly once: each parked event must still be waiting, inside the transaction that applies it.
        for position, when in sorted(replayed.items()):
            row = cur.execute("SELECT replayed_at FROM parked_events WHERE target = ? AND position = ?",
                              [table, position]).fetchone()
            if row is None or row[0] is not None:
                raise ProjectionConflictError(
                    f"the parked event at position {position} of {self._name!r} was replayed (or dropped) by someone "
                    "else meanwhile; nothing of this replay was kept.")
            cur.execute("UPDATE parked_events SET replayed_at = ? WHERE target = ? AND position = ?",
                        [_iso(when), table, position])

    def parked(self, target: str | None = None, *, include_replayed: bool = False) -> list[ParkedEvent]:
        """The events this view parked (oldest first); ``include_replayed`` adds those applied since."""
        where = "" if include_replayed else " AND replayed_at IS NULL"
        rows = self._read(f"SELECT {PARKED_COLUMNS} FROM parked_events WHERE target = ?{where} ORDER BY position",
                          [target or self.live_target])
        return [ParkedEvent(*row[:8], _from_iso(row[8]), _from_iso(row[9])) for row in rows]

    def _commit_failure(self, exc: BaseException, start: int | None) -> ProjectionError:
        stays = "" if start is None else f"; the checkpoint stays at {start}"
        if _is_conflict(exc):
            return ProjectionConflictError(
                f"another transaction changed {self._name!r} or its checkpoint at the same time (a second runner, "
                f"or a rebuild switching tables); nothing of this batch was kept{stays}. Run it again. ({exc})")
        return ProjectionCommitError(
            f"the database refused to commit the batch of {self._name!r}: {type(exc).__name__}: {exc}. This is not "
            f"a race with another writer, so it was not retried. Nothing of this batch was kept{stays}. Fix the "
            "cause (a column constraint the rows break, disk space, the file's permissions) and run again.")

    def new_target(self) -> str:
        with self._transaction() as cur:
            (generation,) = cur.execute("SELECT next_generation FROM read_models WHERE name = ?", [self._name]).fetchone()
            cur.execute("UPDATE read_models SET next_generation = ? WHERE name = ?", [generation + 1, self._name])
            table = f"{self._name}_{generation}"
            self._create(cur, table)
        return table

    def drop_target(self, target: str) -> None:
        with self._transaction() as cur:
            if target == self._live(cur):
                raise ValueError(f"{target} is the live table of {self._name!r}; only a table never switched to can be dropped")
            cur.execute(f"DROP TABLE IF EXISTS {_checked(target)}")
            cur.execute("DELETE FROM checkpoints WHERE name = ?", [target])
            cur.execute("DELETE FROM parked_events WHERE target = ?", [target])

    # -- reading, for queries ----------------------------------------------------------------
    def query(self, where: str = "", params: list[Any] | tuple[Any, ...] = (), *, order_by: str | None = None,
              limit: int | None = None) -> list[dict[str, Any]]:
        """Rows of the live view as dicts, with typed values: ``query("customer_id = ?", ["c-1"], order_by="order_id")``."""
        names = list(self.columns)
        sql = f"SELECT {', '.join(names)} FROM {self._name}" + (f" WHERE {where}" if where else "")
        sql += (f" ORDER BY {order_by}" if order_by else "") + (f" LIMIT {int(limit)}" if limit is not None else "")
        # a plain read (the store's read-only door): it takes no write lock, so it never waits for a writer
        found = self._read(sql, [self._values.to_db_param(p) for p in params])
        return [self._values.from_db_row(names, row) for row in found]

    def rows(self) -> list[dict[str, Any]]:
        """Every row of the live view, ordered by the key: ``query(order_by=<the key columns>)``."""
        return self.query(order_by=", ".join(self.key))

    # -- helpers ---------------------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        if self._store is None:
            raise ProjectionError("this SqlTable is not attached to a store yet: run a ProjectionRunner on it first")
        with self._store.transaction() as cur:
            yield cur

    # -- short reads, outside any write transaction (they take no write lock) ---------------------
    def _read(self, sql: str, params: list[Any]) -> list[tuple]:
        if self._store is None:
            raise ProjectionError("this SqlTable is not attached to a store yet: run a ProjectionRunner on it first")
        return self._store.query(sql, params)

    def _read_checkpoint(self, table: str) -> int:
        rows = self._read("SELECT position FROM checkpoints WHERE name = ?", [table])
        if not rows:
            raise ProjectionError(f"{table} is not a generation of {self._name!r} (it was dropped, or never created)")
        return rows[0][0]

    def _read_rows(self, table: str, where: str, params: list[Any]) -> list[dict[str, Any]]:
        names = list(self.columns)
        found = self._read(f"SELECT {', '.join(names)} FROM {_checked(table)} WHERE {where}", params)
        return [self._values.from_db_row(names, row) for row in found]

    def _read_one(self, table: str, key: Key) -> dict[str, Any] | None:
        values = key if len(self.key) > 1 else (key,)
        where = " AND ".join(f"{name} = ?" for name in self.key)
        found = self._read_rows(table, where, [self._values.to_db(n, v) for n, v in zip(self.key, values)])
        return found[0] if found else None

    def _read_many(self, table: str, keys: list[Key]) -> dict[Key, dict[str, Any]]:
        if len(self.key) > 1:
            return {key: row for key in keys if (row := self._read_one(table, key)) is not None}
        (name,) = self.key
        values = [self._values.to_db(name, key) for key in keys]
        found = []
        for start in range(0, len(values), 500):  # SQLite allows a limited number of parameters
            chunk = values[start:start + 500]
            found.extend(self._read_rows(table, f"{name} IN ({', '.join('?' * len(chunk))})", chunk))
        return {row[name]: row for row in found}

    def _live(self, cur: Any) -> str:
        return cur.execute("SELECT live_table FROM read_models WHERE name = ?", [self._name]).fetchone()[0]

    def _checkpoint(self, cur: Any, table: str, for_update: bool = False) -> int:
        sql = "SELECT position FROM checkpoints WHERE name = ?"
        if for_update and self._store.backend == "postgres":
            # PostgreSQL's writers do not fail at COMMIT like DuckDB's, nor queue at BEGIN like SQLite's: lock
            # the checkpoint row, so a second runner waits here and then starts from the first one's position.
            sql += " FOR UPDATE"
        row = cur.execute(sql, [table]).fetchone()
        if row is None:
            raise ProjectionError(f"{table} is not a generation of {self._name!r} (it was dropped, or never created)")
        return row[0]

    def _check_columns(self, table: str) -> None:
        # The projection's code may have changed since the table was built (a new column, say).
        if self._store.backend == "postgres":
            sql = ("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                   "AND table_name = ? ORDER BY ordinal_position")
        else:
            sql = "SELECT name FROM pragma_table_info(?) ORDER BY cid"
        stored = [row[0] for row in self._read(sql, [table])]
        if stored != list(self.columns):
            raise ProjectionError(
                f"the stored view {self._name!r} (table {table}) has columns {stored}, but the projection now "
                f"declares {list(self.columns)}. Rebuild it: esdemo.read.rebuild(store, projection).")

    def _create(self, cur: Any, table: str) -> None:
        columns = ", ".join(f"{name} {self._values.ddl_type(name)}" for name in self.columns)
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} ({columns}, PRIMARY KEY ({', '.join(self.key)}))")
        cur.execute("DELETE FROM checkpoints WHERE name = ?", [table])
        cur.execute("DELETE FROM parked_events WHERE target = ?", [table])
        cur.execute("INSERT INTO checkpoints VALUES (?, 0)", [table])

    def _activate(self, cur: Any, table: str) -> None:
        old = self._live(cur)
        cur.execute(f"DROP VIEW IF EXISTS {self._name}")
        cur.execute(f"CREATE VIEW {self._name} AS SELECT * FROM {table}")
        cur.execute("UPDATE read_models SET live_table = ? WHERE name = ?", [table, self._name])
        if old != table:
            cur.execute(f"DROP TABLE {old}")
            cur.execute("DELETE FROM checkpoints WHERE name = ?", [old])
            cur.execute("DELETE FROM parked_events WHERE target = ?", [old])

    def _load(self, cur: Any, table: str, key: Key) -> dict[str, Any] | None:
        values = key if len(self.key) > 1 else (key,)
        where = " AND ".join(f"{name} = ?" for name in self.key)
        result = cur.execute(f"SELECT * FROM {table} WHERE {where}",
                             [self._values.to_db(name, value) for name, value in zip(self.key, values)])
        row = result.fetchone()
        return None if row is None else self._values.from_db_row([d[0] for d in result.description], row)

    def _load_many(self, cur: Any, table: str, keys: list[Key]) -> dict[Key, dict[str, Any]]:
        if len(self.key) > 1:
            return {key: row for key in keys if (row := self._load(cur, table, key)) is not None}
        (name,) = self.key
        values = [self._values.to_db(name, key) for key in keys]
        found = []
        for start in range(0, len(values), 500):  # SQLite allows a limited number of parameters
            chunk = values[start:start + 500]
            result = cur.execute(f"SELECT * FROM {table} WHERE {name} IN ({', '.join('?' * len(chunk))})", chunk)
            names = [d[0] for d in result.description]
            found.extend(self._values.from_db_row(names, row) for row in result.fetchall())
        return {row[name]: row for row in found}

    def _write(self, cur: Any, table: str, rows: ViewRows) -> None:
        written, removed = rows.changes()
        where = " AND ".join(f"{name} = ?" for name in self.key)
        for key in removed:
            values = key if len(self.key) > 1 else (key,)
            cur.execute(f"DELETE FROM {table} WHERE {where}", [self._values.to_db(n, v) for n, v in zip(self.key, values)])
        if not written:
            return
        names = list(self.columns)
        if self._store.backend == "duckdb":
            # One statement for the whole batch: a column store is slow at row-by-row writes.
            select = ", ".join(f"CAST(unnest(${i}) AS {self._values.cast_type(n)})" for i, n in enumerate(names, start=1))
            params = [[self._values.to_db(n, row[n]) for row in written] for n in names]
            cur.execute(f"INSERT OR REPLACE INTO {table} ({', '.join(names)}) SELECT {select}", params)
        elif self._store.backend == "postgres":
            marks = ", ".join("?" * len(names))
            others = [n for n in names if n not in self.key]
            action = f"UPDATE SET {', '.join(f'{n} = excluded.{n}' for n in others)}" if others else "NOTHING"
            cur.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks}) "
                            f"ON CONFLICT ({', '.join(self.key)}) DO {action}",
                            [[self._values.to_db(n, row[n]) for n in names] for row in written])
        else:
            marks = ", ".join("?" * len(names))
            cur.executemany(f"INSERT OR REPLACE INTO {table} ({', '.join(names)}) VALUES ({marks})",
                            [[self._values.to_db(n, row[n]) for n in names] for row in written])

    def __repr__(self) -> str:
        where = f"{self._name!r} in {self._store!r}" if self._store is not None else "not attached"
        return f"<SqlTable {where}, key {self.key}>"


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat()


def _from_iso(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _check_identifier(name: object, what: str) -> None:
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(f"{what} must be a plain SQL identifier (letters, digits, _), got {name!r}")


def _checked(name: str) -> str:
    _check_identifier(name, "table name")
    return name
