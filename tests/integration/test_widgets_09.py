"""Notebook 09's helpers and widget: growing an account, counting what loads replay, the interval widget."""

from __future__ import annotations

from decimal import Decimal

import pytest

from esdemo import LoadPlan, Repository
from esdemo.examples.bank import Account, MoneyDeposited, MoneyWithdrawn
from esdemo.store.serialization import dumps
from esdemo.widgets import (
    SNAPSHOT_INTERVALS,
    build_snapshot_widget,
    grow_account,
    interval_cost,
    load_times_ms,
    median_load_ms,
    replayed_by_length,
    snapshot_interval,
)


def test_grow_account_saves_in_batches_with_the_seeds_rhythm(store):
    accounts = Repository(store, Account, snapshot_every=100)
    account = grow_account(accounts, "123", 255, batch=50)
    assert account.version == store.stream_version("Account-123") == 255 and account.pending_events == ()
    events = [accounts.registry.decode(e) for e in store.read("Account-123")]
    assert [type(e) for e in events[1:5]] == [MoneyDeposited, MoneyWithdrawn, MoneyDeposited, MoneyWithdrawn]
    assert account.balance == 127 * Decimal("200") - 127 * Decimal("50")  # 254 transactions after opening
    assert len({e.recorded_at for e in store.read("Account-123")}) == 6  # saves at 50, 100, ..., 250, 255
    assert [s.version for s in accounts.snapshots.all("Account-123")] == [100, 200]


@pytest.mark.parametrize("kwargs", [{"events": 0}, {"events": 10, "batch": 0}, {"events": True}])
def test_grow_account_refuses_silly_sizes(store, kwargs):
    with pytest.raises(ValueError, match="must be an int >= 1"):
        grow_account(Repository(store, Account), "1", **kwargs)
    assert store.head() == 0


def test_replayed_by_length_is_a_saw_tooth_with_snapshots_and_the_diagonal_without(store):
    with_snapshots = Repository(store, Account, snapshot_every=100)
    grow_account(with_snapshots, "A", 250, batch=50)
    grow_account(Repository(store, Account), "B", 250, batch=250)
    lengths = [50, 100, 150, 200, 250]
    assert replayed_by_length(with_snapshots, "A", lengths) == [50, 0, 50, 0, 50]
    assert replayed_by_length(with_snapshots, "B", lengths) == lengths


def test_load_times_time_real_loads_after_a_warm_up(store, monkeypatch):
    accounts = Repository(store, Account)
    grow_account(accounts, "1", 10)
    loads = []
    real_load = accounts.load
    monkeypatch.setattr(accounts, "load", lambda *a, **k: loads.append(k) or real_load(*a, **k))
    times = load_times_ms(accounts, "1", at_version=5, repeat=3)
    assert len(times) == 3 and all(isinstance(t, float) and t > 0 for t in times)
    assert loads == [{"at_version": 5}] * 4  # a warm-up and three timed loads
    loads.clear()
    assert isinstance(median_load_ms(accounts, "1", repeat=2), float) and len(loads) == 3
    for timer in (load_times_ms, median_load_ms):
        with pytest.raises(ValueError, match="repeat must be an int >= 1"):
            timer(accounts, "1", repeat=0)


def test_interval_cost_counts_snapshots_their_bytes_and_every_loads_replay(backend):
    cost = interval_cost(100, events=1_050, batch=50, repeat=0, backend=backend)
    assert cost.snapshots == 10  # the saves at 100, 200, ..., 1000 each cross a multiple of 100
    smallest = len(dumps({"owner": "Ada", "balance": Decimal("0"), "is_open": True, "carried_to": None}))
    assert 10 * smallest < cost.snapshot_bytes < 10 * (smallest + 10)  # ten states, balances of a few digits
    assert cost.plan == LoadPlan("Account-123", 1050, 1000, 50)
    assert cost.saves == list(range(50, 1051, 50))
    expected = [50 if n % 100 else 0 for n in cost.saves]
    assert cost.replayed == tuple(expected)
    assert (cost.worst, cost.mean) == (50, sum(expected) / len(expected))
    assert cost.load_ms is None and cost.full_ms is None


def test_interval_cost_without_snapshots_replays_everything_and_timings_when_asked():
    cost = interval_cost(None, events=120, batch=50, repeat=1)
    assert (cost.snapshots, cost.snapshot_bytes, cost.plan.snapshot) == (0, 0, None)
    assert cost.replayed == (50, 100, 120) and cost.worst == 120
    assert isinstance(cost.load_ms, float) and cost.full_ms == cost.load_ms  # one measurement: every load is full
    assert "no snapshots, saving every 50 events: 0 snapshots written" in cost.describe()
    assert "a full replay of all 120 events" in cost.describe()
    assert "x as long" not in cost.describe()  # no ratio of a full replay to itself


def test_timings_with_snapshots_compare_the_load_with_a_full_replay():
    cost = interval_cost(50, events=150, batch=50, repeat=1)
    last = cost.describe().splitlines()[-1]
    assert last.startswith(f"load: {cost.load_ms:.1f} ms; a full replay of all 150 events: {cost.full_ms:.1f} ms (")
    assert last.endswith("x as long)")
    ratio = float(last.rsplit("(", 1)[1].split("x")[0])
    assert ratio == pytest.approx(cost.full_ms / cost.load_ms, rel=0.05, abs=0.05)


def test_an_interval_below_the_batch_size_snapshots_every_save():
    cost = interval_cost(10, events=120, batch=50, repeat=0)
    assert cost.snapshots == 3 and cost.replayed == (0, 0, 0)


def test_interval_cost_as_a_table_row_and_a_frame():
    cost = interval_cost(1000, events=2_050, repeat=0)
    assert cost.row() == {"snapshot every": "1,000", "snapshots written": 2, "state stored (bytes)": cost.snapshot_bytes,
                          "replayed by the last load": 50, "worst load (events)": 950,
                          "mean load (events)": round(cost.mean, 1)}
    frame = cost.frame()
    assert list(frame.columns) == ["no snapshots", "snapshot every 1,000"] and frame.index.name == "events in the stream"
    assert frame.loc[1000].tolist() == [1000, 0] and frame.loc[2050].tolist() == [2050, 50]
    assert list(interval_cost(None, events=100, repeat=0).frame().columns) == ["no snapshots"]


@pytest.mark.parametrize("kwargs, match", [({"interval": 0}, "interval must be None"),
                                           ({"interval": 100, "repeat": -1}, "repeat must be an int >= 0")])
def test_interval_cost_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        interval_cost(**kwargs)


def test_the_widget_builds_the_chosen_interval_and_shows_replays_and_times(monkeypatch):
    shown_figures = []
    monkeypatch.setattr(snapshot_interval, "display", shown_figures.append)  # outside a kernel, Output captures nothing
    panel = build_snapshot_widget(repeat=1)
    assert "press Build and load" in panel.result.value
    assert list(panel.controls["interval"].options) == list(SNAPSHOT_INTERVALS)
    panel.controls["interval"].value = "100"
    panel.controls["events"].value = 1_050
    panel.controls["run"].click()
    shown = panel.result.value
    assert "snapshots written</td><td style='text-align:right'><b>10<" in shown
    assert "snapshot at 1,000 + replay 1,001..1,050 (50 events)" in shown
    assert "load time (measured)" in shown and "full replay (measured)" in shown
    [figure] = shown_figures
    axes = figure.axes[0]
    assert axes.get_title() == "Events replayed to load an account"
    assert {line.get_label(): list(line.get_ydata())[:3] for line in axes.lines} == {
        "no snapshots": [50, 100, 150], "snapshot every 100": [50, 0, 50]}


def test_the_widget_with_no_snapshots_says_so():
    panel = build_snapshot_widget(repeat=1)
    panel.controls["interval"].value = "never"
    panel.controls["events"].value = 1_050
    panel.controls["run"].click()
    assert "no usable snapshot, replay 1..1,050 (1,050 events)" in panel.result.value
    assert "load time, a full replay (measured)" in panel.result.value
    assert "load time (measured)" not in panel.result.value  # one timing: with no snapshots, a load is the full replay


def test_the_widget_offers_the_stream_length_it_was_built_with():
    panel = build_snapshot_widget(events=300)
    assert panel.controls["events"].value == 300 and 10_050 in panel.controls["events"].options
