"""Notebook 09 · Snapshots: what a load replays, and what it costs."""

from __future__ import annotations

import html
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ipywidgets as W
import pandas as pd
from IPython.display import display

from ..examples.bank import Account
from ..plots import replayed_chart
from ..postgres_server import scratch_location
from ..store.event_store import EventStore
from ..write.repository import LoadPlan, Repository
from .panel import panel


def grow_account(accounts: Repository, account_id: str, events: int, *, batch: int = 50) -> Account:
    """Open ``account_id`` and add transactions until its stream holds ``events`` events, saving every ``batch``.

    The history is the seed's rhythm repeated: deposit $200, withdraw $50.
    Saving a batch at a time is how an account really grows (a day of
    transactions per save), and it is what ``snapshot_every`` sees: a snapshot
    is written after a save that crosses a multiple of the interval.

    >>> grow_account(Repository(store, Account, snapshot_every=1000), "123", 1050).version
    1050
    """
    if isinstance(events, bool) or not isinstance(events, int) or events < 1:
        raise ValueError(f"events must be an int >= 1 (the AccountOpened counts), got {events!r}")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be an int >= 1 (events per save), got {batch!r}")
    account = Account.open(account_id, owner="Ada")
    for number in range(2, events + 1):
        if number % 2 == 0:
            account.deposit(Decimal("200"))
        else:
            account.withdraw(Decimal("50"))
        if len(account.pending_events) >= batch:
            accounts.save(account)
    accounts.save(account)
    return account


def replayed_by_length(accounts: Repository, account_id: str, lengths: Sequence[int]) -> list[int]:
    """Events a load replays when the stream holds each of ``lengths`` events (exact, no timing).

    A load ``at_version=n`` only uses snapshots taken at or before ``n``, so it
    replays what a load replayed on the day the stream had ``n`` events.
    """
    return [accounts.load_plan(account_id, at_version=n).replayed for n in lengths]


def load_times_ms(accounts: Repository, account_id: str, *, at_version: int | None = None,
                  repeat: int = 5) -> list[float]:
    """Wall-clock times of ``repeat`` loads, in milliseconds, after one warm-up load.

    Timings differ on every machine and run: print them only in a cell marked
    ``# NBVAL_IGNORE_OUTPUT``. On a busy machine take the fastest
    (``min(...)``): it is the run least disturbed by other work.
    """
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be an int >= 1, got {repeat!r}")
    accounts.load(account_id, at_version=at_version)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        accounts.load(account_id, at_version=at_version)
        times.append((time.perf_counter() - start) * 1000)
    return times


def median_load_ms(accounts: Repository, account_id: str, *, at_version: int | None = None, repeat: int = 5) -> float:
    """The median of :func:`load_times_ms`: a typical load, in milliseconds."""
    return statistics.median(load_times_ms(accounts, account_id, at_version=at_version, repeat=repeat))


@dataclass(frozen=True)
class IntervalCost:
    """One account grown with ``snapshot_every=interval``: what snapshots cost and what they save.

    Exact (the same on every run): ``snapshots`` written and the bytes of
    state they hold; ``plan``, what the final load restores and replays;
    ``replayed``, the events a load replayed after each save over the
    account's life (at the stream lengths in :attr:`saves`). Measured
    (different on every run): ``load_ms`` with the snapshots and ``full_ms``
    after deleting them (with no snapshots the two are one measurement).
    """

    interval: int | None
    events: int
    batch: int
    snapshots: int
    snapshot_bytes: int
    plan: LoadPlan
    replayed: tuple[int, ...]
    load_ms: float | None = None
    full_ms: float | None = None

    @property
    def saves(self) -> list[int]:
        """The stream's length after each save: batch, 2 * batch, ..., events."""
        return [*range(self.batch, self.events, self.batch), self.events]

    @property
    def worst(self) -> int:
        """The most events any load over the account's life had to replay."""
        return max(self.replayed)

    @property
    def mean(self) -> float:
        """The events replayed by a load, on average over the account's life."""
        return statistics.fmean(self.replayed)

    def frame(self) -> pd.DataFrame:
        """Events replayed after each save, next to a full replay: the input of :func:`~esdemo.plots.replayed_chart`."""
        label = "no snapshots" if self.interval is None else f"snapshot every {self.interval:,}"
        columns = {"no snapshots": self.saves} | {label: list(self.replayed)}
        return pd.DataFrame(columns, index=pd.Index(self.saves, name="events in the stream"))

    def row(self) -> dict[str, Any]:
        """The exact numbers, as a table row."""
        return {"snapshot every": "never" if self.interval is None else f"{self.interval:,}",
                "snapshots written": self.snapshots, "state stored (bytes)": self.snapshot_bytes,
                "replayed by the last load": self.plan.replayed,
                "worst load (events)": self.worst, "mean load (events)": round(self.mean, 1)}

    def describe(self) -> str:
        """Two or three lines: the exact numbers, then the timings if they were measured."""
        every = "no snapshots" if self.interval is None else f"snapshot every {self.interval:,} events"
        lines = [f"{every}, saving every {self.batch:,} events: {self.snapshots:,} snapshots written "
                 f"({self.snapshot_bytes:,} bytes of state)",
                 f"{self.plan}; over the account's life a load replayed at most {self.worst:,} events "
                 f"({self.mean:,.0f} on average)"]
        if self.load_ms is not None and self.interval is None:
            lines.append(f"load: {self.load_ms:.1f} ms, a full replay of all {self.events:,} events (no snapshots)")
        elif self.load_ms is not None and self.full_ms is not None:
            lines.append(f"load: {self.load_ms:.1f} ms; a full replay of all {self.events:,} events: "
                         f"{self.full_ms:.1f} ms ({_times(self.full_ms / self.load_ms)} as long)")
        return "\n".join(lines)

    __repr__ = describe


def _times(ratio: float) -> str:
    """A measured ratio, to a sensible precision: ``2.4x``, ``102x``."""
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x"


def interval_cost(interval: int | None, *, events: int = 10_050, batch: int = 50, repeat: int = 5,
                  backend: str = "duckdb") -> IntervalCost:
    """Grow account 123 in a fresh store with ``snapshot_every=interval`` and measure its loads.

    ``interval=None`` means no snapshots. With ``repeat=0`` nothing is timed
    (only the exact numbers, which is all a table for the notebook needs).
    """
    if interval is not None and (isinstance(interval, bool) or not isinstance(interval, int) or interval < 1):
        raise ValueError(f"interval must be None (no snapshots) or an int >= 1, got {interval!r}")
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 0:
        raise ValueError(f"repeat must be an int >= 0 (0: do not time the loads), got {repeat!r}")
    with EventStore(scratch_location(backend), backend=backend) as store:
        accounts = Repository(store, Account, snapshot_every=interval)
        grow_account(accounts, "123", events, batch=batch)
        stream_id = Account.stream_id_for("123")
        (count, size), = store.query("SELECT count(*), coalesce(sum(length(state)), 0) FROM snapshots "
                                     "WHERE stream_id = ?", [stream_id])
        replayed = replayed_by_length(accounts, "123", [*range(batch, events, batch), events])
        plan = accounts.load_plan("123")
        load_ms = full_ms = None
        if repeat:
            load_ms = median_load_ms(accounts, "123", repeat=repeat)
            if interval is None:
                full_ms = load_ms                    # without snapshots every load is the full replay
            else:
                accounts.snapshots.delete(stream_id)
                full_ms = median_load_ms(accounts, "123", repeat=repeat)
    return IntervalCost(interval, events, batch, int(count), int(size), plan, tuple(replayed), load_ms, full_ms)


SNAPSHOT_INTERVALS = {"never": None, "10": 10, "100": 100, "500": 500, "1,000": 1000, "2,500": 2500, "5,000": 5000}
"""The snapshot widget's choices: a label -> ``snapshot_every`` (``None``: no snapshots)."""


def _interval_html(cost: IntervalCost) -> str:
    def row(name: str, value: str) -> str:
        return f"<tr><td>{html.escape(name)}</td><td style='text-align:right'><b>{html.escape(value)}</b></td></tr>"

    rows = [row("snapshots written", f"{cost.snapshots:,}"), row("state stored", f"{cost.snapshot_bytes:,} bytes"),
            row("the last load", str(cost.plan)), row("events replayed, worst load", f"{cost.worst:,}"),
            row("events replayed, mean load", f"{cost.mean:,.0f}")]
    if cost.load_ms is not None and cost.interval is None:
        rows.append(row("load time, a full replay (measured)", f"{cost.load_ms:.1f} ms"))
    elif cost.load_ms is not None and cost.full_ms is not None:
        rows += [row("load time (measured)", f"{cost.load_ms:.1f} ms"),
                 row("full replay (measured)", f"{cost.full_ms:.1f} ms")]
    return f"<table>{''.join(rows)}</table>"


def build_snapshot_widget(*, events: int = 10_050, batch: int = 50, repeat: int = 5) -> W.VBox:
    """Pick a snapshot interval, press Build and load: see events replayed, snapshots written and load times.

    Each press grows a fresh account of ``events`` events with that interval
    (a few seconds: one append per save, then the timed loads) and runs
    :func:`interval_cost`; the output area shows the replay saw-tooth over the
    account's life next to a full replay.
    """
    sizes = sorted({1_050, 5_050, 10_050, 20_050, events})
    controls = {
        "interval": W.Dropdown(options=list(SNAPSHOT_INTERVALS), value="1,000", description="snapshot every"),
        "events": W.Dropdown(options=sizes, value=events, description="events"),
        "run": W.Button(description="Build and load", button_style="primary"),
    }
    result = W.HTML("<i>Pick an interval and press Build and load.</i>")
    output = W.Output()

    @output.capture(clear_output=True)
    def on_click(_button: W.Button) -> None:
        interval, total = SNAPSHOT_INTERVALS[controls["interval"].value], controls["events"].value
        result.value = "<i>growing the account...</i>"
        cost = interval_cost(interval, events=total, batch=batch, repeat=repeat)
        result.value = _interval_html(cost)
        display(replayed_chart(cost.frame()))

    controls["run"].on_click(on_click)
    return panel(controls, result, output)
