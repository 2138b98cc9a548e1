"""Issue 11, case 9: a commit failure that is not a race is reported as what it is, and not retried.

Only DuckDB's write-write conflicts (another runner, a rebuild switching
tables) are ProjectionConflictError, run again by catch_up(). A constraint
the rows break, an I/O error, a failed COMMIT: ProjectionCommitError, once,
naming the cause, with the view and checkpoint where they were.
"""

from __future__ import annotations

import sqlite3

import duckdb
import pytest
from store_factory import new_store

from esdemo import EventStore, NewEvent
from esdemo.read.projection import Projection, ProjectionCommitError, ProjectionConflictError
from esdemo.read.projection_runner import ProjectionRunner
from esdemo.read.sql_views import SqlTable


class Counter(Projection):
    name = "counter"

    def __init__(self):
        super().__init__()
        self.calls = 0

    def default_storage(self):
        return SqlTable(key="stream_id", columns={"stream_id": "VARCHAR", "n": "INTEGER"})

    def handle(self, event, recorded, view):
        self.calls += 1
        row = view.get(recorded.stream_id)
        view.upsert({"stream_id": recorded.stream_id, "n": 1 if row is None else row["n"] + 1})


def failure(backend, message):
    return duckdb.TransactionException(message) if backend == "duckdb" else sqlite3.OperationalError(message)


def test_a_failed_commit_is_reported_as_such_once_and_keeps_nothing(backend, monkeypatch):
    with new_store(backend) as store:
        store.append("a", [NewEvent("Tick", {})], expected_version=0)
        projection = Counter()
        runner = ProjectionRunner(store, projection)

        def broken_write(cur, table, rows):
            raise failure(backend, "Failed to commit: could not write to the file (disk full)")

        monkeypatch.setattr(projection.storage, "_write", broken_write)
        with pytest.raises(ProjectionCommitError, match="disk full") as caught:
            runner.catch_up()
        assert not isinstance(caught.value, ProjectionConflictError)
        assert "not a race" in str(caught.value)
        assert projection.calls == 1                     # not retried
        monkeypatch.undo()
        assert runner.position == 0 and projection.storage.query() == []
        assert runner.catch_up() == 1                    # once the cause is gone, it goes on
        assert projection.storage.query() == [{"stream_id": "a", "n": 1}]


def test_a_real_write_write_conflict_is_still_a_conflict_and_retried(backend, monkeypatch):
    with new_store(backend) as store:
        store.append("a", [NewEvent("Tick", {})], expected_version=0)
        projection = Counter()
        runner = ProjectionRunner(store, projection)
        original, failures = projection.storage._write, []

        def conflicting_once(cur, table, rows):
            if not failures:
                failures.append(1)
                raise duckdb.TransactionException("TransactionContext Error: Conflict on update!")
            return original(cur, table, rows)

        monkeypatch.setattr(projection.storage, "_write", conflicting_once)
        assert runner.catch_up() == 1                   # the race lost once, then won
        assert projection.calls == 2
        assert projection.storage.query() == [{"stream_id": "a", "n": 1}]


def test_a_constraint_the_rows_break_is_a_commit_error_on_both_backends(backend):
    # A CHECK written into the column type: the database refuses the row. Not a race: not retried.
    class Checked(Projection):
        name = "checked"

        def default_storage(self):
            return SqlTable(key="stream_id", columns={"stream_id": "VARCHAR", "n": "INTEGER CHECK (n > 0)"})

        def handle(self, event, recorded, view):
            view.upsert({"stream_id": recorded.stream_id, "n": recorded.data["n"]})

    with new_store(backend) as store:
        store.append("a", [NewEvent("Tick", {"n": -1})], expected_version=0)
        runner = ProjectionRunner(store, Checked())
        with pytest.raises(ProjectionCommitError, match="(?i)constraint") as caught:
            runner.catch_up()
        assert not isinstance(caught.value, ProjectionConflictError)
        assert runner.position == 0 and runner.projection.storage.query() == []
