"""Gaps for real on PostgreSQL: a naive reader misses a late commit, the safe readers do not.

Deterministic: one transaction holds a taken position open while another
commits, instead of hoping threads interleave badly.
"""

from __future__ import annotations

import threading

import pytest
from store_factory import new_store, require_postgres

from esdemo import NewEvent
from esdemo.postgres_gaps import NaiveReader, SafeReader, SequenceLog, measure_position_strategies
from esdemo.postgres_server import fresh_store_url


@pytest.fixture
def url():
    require_postgres()
    return fresh_store_url(prefix="test_gaps")


def test_a_naive_reader_skips_a_position_whose_transaction_commits_late(url):
    with SequenceLog(url) as log:
        naive, safe = NaiveReader(url), SafeReader(url)
        slow = log.begin("A")                  # takes position 1, not committed
        fast = log.write("B")                  # takes position 2, commits at once
        assert (slow.position, fast) == (1, 2)
        assert naive.poll() == [2]             # the naive checkpoint jumps to 2 ...
        assert safe.poll() == []               # ... the safe reader waits: transaction A is still running
        slow.commit()
        assert naive.poll() == []              # 1 <= checkpoint: skipped for ever
        assert safe.poll() == [1, 2]
        log.write("C")
        assert naive.poll() == [3] and safe.poll() == [3]
        assert naive.delivered == [2, 3], "the naive reader never sees position 1"
        assert sorted(safe.delivered) == [1, 2, 3]
        naive.close()
        safe.close()


def test_the_safe_reader_checkpoints_on_transaction_then_position(url):
    """An older transaction may take a higher position than a younger one still open: a reader that
    filtered by the high-water mark but kept a *position* checkpoint would skip the younger one's row."""
    with SequenceLog(url) as log:
        safe = SafeReader(url)
        older = log.begin()
        older.take_transaction_id()            # the older transaction has its id ...
        younger = log.begin("younger")         # ... a younger one takes position 1 and stays open
        assert older.insert("older") == 2      # the older one takes position 2 and commits
        older.commit()
        assert safe.poll() == [2]              # finished transaction: delivered, checkpoint (older's id, 2)
        younger.commit()
        assert safe.poll() == [1]              # (younger's id, 1) sorts after (older's id, 2): not skipped
        assert safe.delivered == [2, 1]
        safe.close()


def test_a_rolled_back_write_leaves_a_hole_that_the_safe_reader_steps_over(url):
    with SequenceLog(url) as log:
        safe = SafeReader(url)
        dead = log.begin("rolled back")
        log.write("kept")
        assert safe.poll() == []
        dead.rollback()
        assert safe.poll() == [2]              # position 1 never comes; nothing waits for it
        safe.close()


def test_the_stores_own_read_all_never_skips_while_an_append_is_in_flight(monkeypatch):
    """The store serialises appends: a second writer cannot take a position until the first commits."""
    require_postgres()
    store = new_store("postgres")
    backend = store._backend
    real_insert = backend.insert_events
    inserted, release = threading.Event(), threading.Event()

    def paused_insert(cur, rows):
        real_insert(cur, rows)
        if threading.current_thread().name == "writer-A":
            inserted.set()
            release.wait(30)

    monkeypatch.setattr(backend, "insert_events", paused_insert)
    results = {}
    a = threading.Thread(target=lambda: results.setdefault("A", store.append("a", [NewEvent("E", {})], expected_version=0)),
                         name="writer-A")
    a.start()
    assert inserted.wait(30)
    b = threading.Thread(target=lambda: results.setdefault("B", store.append("b", [NewEvent("E", {})], expected_version=0)),
                         name="writer-B")
    b.start()
    b.join(0.5)
    assert b.is_alive(), "B must wait for A's lock, not take a position past A's uncommitted one"
    assert store.read_all() == [] and store.head() == 0
    release.set()
    a.join(30)
    b.join(30)
    assert results["A"].position == 1 and results["B"].position == 2
    assert [(e.position, e.stream_id) for e in store.read_all()] == [(1, "a"), (2, "b")]
    store.close()


def test_measure_position_strategies_prints_a_row_per_strategy(capsys):
    require_postgres()
    rows = measure_position_strategies(writers=2, appends=20, read_rows=200)
    out = capsys.readouterr().out
    assert [(row.strategy.split()[0], row.writers) for row in rows] == [
        ("serialised", 1), ("serialised", 2), ("sequence", 1), ("sequence", 2), ("naive", 1), ("safe", 1), ("safe", 1)]
    assert all(row.strategy in out for row in rows)
    assert all(row.events_per_s > 0 for row in rows[:6])
