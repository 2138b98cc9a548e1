"""Notebook 02 · Event sourcing: replay, step by step."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import ipywidgets as W
import pandas as pd
from IPython.display import display
from matplotlib.figure import Figure

from ..examples.bank import Account
from ..plots import balance_chart
from ..store.events import RecordedEvent
from ..tables import format_data, format_value
from ..write.aggregate import Aggregate
from ..write.domain import EventRegistry, default_registry
from .panel import panel


def _show(value: Any) -> str:
    """A state value for the replay text: money with two decimals, the rest as tables print it."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return format_value(value)


@dataclass(frozen=True)
class ReplayStep:
    """Step ``step`` of ``total`` in a replay: the event applied at that step, and the state right after it.

    ``state`` is the aggregate's public state (``snapshot_state()``), e.g.
    ``{"owner": "Ada Lovelace", "balance": Decimal("150"), "is_open": True}``.
    """

    step: int
    total: int
    event: RecordedEvent
    state: dict[str, Any]

    def describe_event(self) -> str:
        """``MoneyWithdrawn(amount=50)``: the event's type and data."""
        data = {key: value for key, value in self.event.data.items() if key != "account_id"}
        return f"{self.event.type}({format_data(data)})"

    def describe_state(self) -> str:
        """``owner Ada Lovelace · balance 150.00 · is_open True``: the state after this step."""
        return " · ".join(f"{name} {_show(value)}" for name, value in self.state.items())

    def describe(self) -> str:
        """Everything on one line: which step, when, which event, and the state after it."""
        return (f"step {self.step} of {self.total} · {format_value(self.event.recorded_at)} · "
                f"{self.describe_event()} → {self.describe_state()}")


def replay_steps(events: Sequence[RecordedEvent], aggregate_class: type[Aggregate] = Account, *,
                 registry: EventRegistry | None = None) -> list[ReplayStep]:
    """Replay one stream's ``events`` into a fresh ``aggregate_class``, one event at a time.

    Returns one :class:`ReplayStep` per event: the state after event 1, after
    events 1-2, and so on, applied with the aggregate's own ``apply`` (the
    same code a load runs). Refuses events from more than one stream, or out
    of order, because that would not be a replay of one aggregate.

    >>> [step.state["balance"] for step in replay_steps(store.read("Account-123"))]
    [Decimal('0'), Decimal('200'), Decimal('150')]
    """
    events = list(events)
    if not events:
        raise ValueError("there is nothing to replay: pass the events of one stream, e.g. store.read('Account-123')")
    streams = sorted({event.stream_id for event in events})
    if len(streams) > 1:
        raise ValueError(f"a replay rebuilds ONE aggregate, but these events come from {len(streams)} streams "
                         f"{streams}; pass store.read(stream_id)")
    versions = [event.version for event in events]
    if versions != list(range(1, len(events) + 1)):
        raise ValueError(f"a replay starts at version 1 and goes in order without gaps; got versions {versions}")
    decode = (registry or default_registry).decode
    aggregate = aggregate_class(streams[0].split("-", 1)[1] if "-" in streams[0] else streams[0])
    steps = []
    for event in events:
        aggregate.apply(decode(event))
        steps.append(ReplayStep(event.version, len(events), event, aggregate.snapshot_state()))
    return steps


def replay_to(events: Sequence[RecordedEvent], step: int, aggregate_class: type[Aggregate] = Account, *,
              registry: EventRegistry | None = None) -> ReplayStep:
    """Replay ``events`` up to ``step`` (1 = the first event): the event at that step and the state after it.

    >>> replay_to(store.read("Account-123"), 3).describe()
    'step 3 of 3 · 2024-01-03 14:15 · MoneyWithdrawn(amount=50) → owner Ada Lovelace · balance 150.00 · is_open True'
    """
    events = list(events)
    if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= max(len(events), 1):
        raise ValueError(f"step must be a whole number from 1 to {len(events)} (the stream's length), got {step!r}")
    last = replay_steps(events[:step], aggregate_class, registry=registry)[-1]  # later events play no part
    return ReplayStep(last.step, len(events), last.event, last.state)


def replay_frame(steps: Sequence[ReplayStep]) -> pd.DataFrame:
    """The replay as a table: one row per step with when, which event, and the state after it."""
    rows = [{"step": s.step, "recorded_at": format_value(s.event.recorded_at), "event": s.describe_event(),
             **{f"{name} after": _show(value) for name, value in s.state.items()}} for s in steps]
    return pd.DataFrame(rows).set_index("step")


def replay_html(step: ReplayStep) -> str:
    """The replay widget's text: plain words, two lines (e.g. contains ``balance 150.00`` after step 3 of account 123)."""
    return (f"<b>step {step.step} of {step.total}</b> · {html.escape(format_value(step.event.recorded_at))} · "
            f"{html.escape(step.describe_event())}<br>"
            f"state after it: {html.escape(step.describe_state())}")


def build_replay_widget(events: Sequence[RecordedEvent], aggregate_class: type[Aggregate] = Account, *,
                        start: int | None = None, as_of: datetime | None = None) -> W.VBox:
    """A slider over a stream: the event at each step, the state after it, and the balance chart so far.

    ``panel.controls["step"]`` is an ``IntSlider`` (description ``step``, 1 to
    the stream's length, starting at ``start`` or at the last event);
    ``panel.result`` is the text of :func:`replay_html`; ``panel.output``
    holds :func:`~esdemo.plots.balance_chart`, redrawn on every move (the
    aggregate's state must have a ``balance``). ``as_of`` adds a dashed line.
    """
    steps = replay_steps(events, aggregate_class)
    if "balance" not in steps[-1].state:
        raise ValueError(f"{aggregate_class.__name__} has no balance to chart; its state is {sorted(steps[-1].state)}")
    start = len(steps) if start is None else start
    if not 1 <= start <= len(steps):
        raise ValueError(f"start must be between 1 and {len(steps)}, got {start}")
    controls = {"step": W.IntSlider(value=start, min=1, max=len(steps), description="step",
                                    continuous_update=True, layout=W.Layout(width="420px"))}
    result = W.HTML()
    output = W.Output()
    times = [s.event.recorded_at for s in steps]
    balances = [s.state["balance"] for s in steps]

    def chart(n: int) -> Figure:
        return balance_chart(times, balances, upto=n, as_of=as_of)

    @output.capture(clear_output=True, wait=True)
    def show(_change: Any = None) -> None:
        n = controls["step"].value
        result.value = replay_html(steps[n - 1])
        display(chart(n))

    controls["step"].observe(show, names="value")
    # The first drawing goes straight into the Output widget's state: displaying it from the building
    # cell would also print it as that cell's own output in tools that do not route widget output (nbval).
    result.value = replay_html(steps[start - 1])
    output.append_display_data(chart(start))
    return panel(controls, result, output)
