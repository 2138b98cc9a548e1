"""Property-based tests (hypothesis) of three invariants, on both backends: snapshot + tail equals a
full replay; a rebuild equals the incremental view; an upcaster chain is pure."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esdemo import SpecFailed, Upcasters
from esdemo.properties import (
    account_histories,
    check_rebuild_equals_incremental,
    check_snapshot_plus_tail,
    check_upcasting_is_pure,
    order_logs,
    order_paid_v1_data,
)
from esdemo.write.testing import assert_upcasting_is_pure

BACKENDS = ["duckdb", "sqlite"]


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=25, deadline=None)
@given(history=account_histories(), point=st.integers(1, 20))
def test_snapshot_plus_tail_equals_full_replay(backend, history, point):
    state = check_snapshot_plus_tail(backend, history, point)
    assert state["balance"] >= 0


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=15, deadline=None)
@given(log=order_logs(), cuts=st.lists(st.integers(0, 30), max_size=3))
def test_a_rebuild_equals_the_incremental_view(backend, log, cuts):
    rows = check_rebuild_equals_incremental(backend, log, cuts)
    assert len(rows) == sum(1 for e in log if type(e).__name__ == "OrderCreated")


@settings(max_examples=100, deadline=None)
@given(data=order_paid_v1_data)
def test_the_order_paid_upcaster_chain_is_pure(data):
    version, upcast = check_upcasting_is_pure(data)
    assert (version, upcast["currency"]) == (2, "USD")


def test_the_purity_check_catches_an_upcaster_that_changes_nested_input():
    # Upcasters deep-copies before the first step, so a step cannot reach the stored data...
    chain = Upcasters()
    chain.register("T", 1, lambda data: (data["tags"].append("x"), data)[1])
    assert_upcasting_is_pure(chain, "T", 1, {"tags": []})

    # ...but a hand-made chain that skips the copy is caught, and a step that is not deterministic too.
    class Careless:
        def upcast(self, event_type: str, version: int, data: dict[str, Any]):
            data["tags"].append("x")
            return version + 1, data

    with pytest.raises(SpecFailed, match="changed its input"):
        assert_upcasting_is_pure(Careless(), "T", 1, {"tags": []})
    counter = iter(range(100))
    moody = Upcasters()
    moody.register("T", 1, lambda data: {**data, "n": next(counter)})
    with pytest.raises(SpecFailed, match="must depend on its input only"):
        assert_upcasting_is_pure(moody, "T", 1, {})


def test_the_snapshot_check_catches_a_snapshot_that_lies(monkeypatch):
    from esdemo.examples.bank import Account
    original = Account.restore_state

    def lying(self, state):
        original(self, {**state, "balance": state["balance"] + 1})
    monkeypatch.setattr(Account, "restore_state", lying)
    with pytest.raises(SpecFailed, match=r"snapshot at 1 \+ tail is not what a full replay gives \(1 event\)\. Different: balance"):
        check_snapshot_plus_tail("sqlite", [], 1)
