"""esdemo.benchmarks.rebuild.scaling: rebuild time against history (numbers only, no timing assertions)."""

from __future__ import annotations

import pytest

from esdemo.benchmarks import rebuild as bench


def test_one_result_per_size_with_the_log_and_both_timings():
    results = bench.scaling([500, 1_000], repeat=2)
    assert [(r["events"], r["orders"]) for r in results] == [(500, 100), (1_000, 200)]
    for r in results:
        assert set(r) == {"events", "orders", "per_event_s", "set_based_s"}
        assert all(isinstance(r[key], float) for key in ("per_event_s", "set_based_s"))


def test_a_set_based_rebuild_that_differs_is_an_error(monkeypatch):
    wrong = bench.OrderSummary.rebuild_sql.replace("sum(e.quantity)", "count(e.quantity)")  # items, not units
    assert wrong != bench.OrderSummary.rebuild_sql
    monkeypatch.setattr(bench.OrderSummary, "rebuild_sql", wrong)
    with pytest.raises(RuntimeError, match="must be identical"):
        bench.scaling([500], repeat=1)


def test_repeat_must_be_a_positive_int():
    with pytest.raises(ValueError, match="repeat"):
        bench.scaling([500], repeat=0)
