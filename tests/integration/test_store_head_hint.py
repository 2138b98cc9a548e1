"""DuckDB remembers the log's head between appends; events written around append must not break positions."""

from __future__ import annotations

from esdemo import EventStore, NewEvent


def test_append_after_rows_written_around_it_continues_the_log_without_gaps():
    with EventStore() as store:
        store.append("a", [NewEvent("E", {})], expected_version=0)            # head remembered: 1
        # a bulk load, as the benchmarks do (the one door that writes events around append)
        store.bulk_load("INSERT INTO events SELECT 2, 'b', 1, 'E', 1, '{}', '{}', uuid(), now()::TIMESTAMP")
        result = store.append("a", [NewEvent("E", {})], expected_version=1)
        assert result.position == 3
        assert [e.position for e in store.read_all()] == [1, 2, 3]


def test_restore_then_append_continues_after_the_restored_head():
    with EventStore() as source, EventStore() as target:
        source.append("a", [NewEvent("E", {"n": n}) for n in range(3)], expected_version=0)
        target.restore(source.read_all())
        assert target.append("a", [NewEvent("E", {})], expected_version=3).position == 4
