"""Notebook 06 · Projections: one event at a time, and where the checkpoint is saved."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ipywidgets as W
import pandas as pd

from ..examples.orders import payment_of
from ..read.projection import Projection
from ..read.projection_runner import ProjectionRunner
from ..store.event_store import EventStore
from ..store.events import RecordedEvent
from ..tables import format_value, live_rows, view_table
from .panel import panel


@dataclass(frozen=True)
class ProjectionStep:
    """A projection's view right after one more event (see :class:`ProjectionStepper`).

    ``event`` is the event this step applied (``None`` before the first step,
    or when nothing was left to apply); ``handled`` says whether the
    projection handles its type (if not, only the checkpoint moved).
    ``checkpoint`` is the position of the last event applied, committed with
    the view; ``head`` is the log's last position. ``rows`` is the whole view
    afterwards, in key order, and ``changed`` the keys of the rows this event
    inserted, updated or deleted.
    """

    event: RecordedEvent | None
    handled: bool
    checkpoint: int
    head: int
    key: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    changed: tuple[Any, ...]

    @property
    def lag(self) -> int:
        """Events in the log the view has not applied yet: ``head - checkpoint``."""
        return self.head - self.checkpoint

    def table(self) -> pd.DataFrame:
        """The view as a DataFrame indexed by its key, values formatted to read."""
        return view_table(self.rows, self.key)

    def describe(self) -> str:
        """One line: what this step applied, what it did to the view, and where the checkpoint is."""
        where = f"Checkpoint {self.checkpoint}, head {self.head}: " + (
            "caught up." if not self.lag else f"{self.lag} event{'s' * (self.lag != 1)} behind.")
        if self.event is None:
            return ("Nothing applied yet. " if self.checkpoint == 0 else "Nothing left to apply. ") + where
        e = self.event
        done = f"Applied position {e.position}, {e.type} ({e.stream_id} v{e.version}): "
        if not self.handled:
            effect = "not a type this view handles, so only the checkpoint moved. "
        elif not self.changed:
            effect = "the view did not change. "
        else:
            keys = ", ".join(format_value(key) for key in self.changed)
            effect = f"row{'s' * (len(self.changed) != 1)} {keys} changed. "
        return done + effect + where


def _key_of_row(row: dict[str, Any], key: tuple[str, ...]) -> Any:
    values = tuple(row[name] for name in key)
    return values[0] if len(values) == 1 else values


class ProjectionStepper:
    """Run a projection over a copy of a log, one event per step, to watch its view change.

    ``events`` (e.g. ``store.read_all()``, from position 1) are restored into
    a store of the stepper's own, in memory, so stepping never touches the
    notebook's store or views. ``make_projection`` is a Projection class (or
    any function returning a new projection); it is called again on
    :meth:`reset`. The runner has ``batch_size=1``: every step is one commit
    of one event's changes together with the new checkpoint.

    >>> stepper = ProjectionStepper(store.read_all(), OrderSummary)
    >>> print(stepper.step().describe())
    Applied position 1, OrderCreated (Order-12345 v1): row 12345 changed. Checkpoint 1, head 16: 15 events behind.
    """

    def __init__(self, events: Sequence[RecordedEvent], make_projection: Callable[[], Projection]):
        events = list(events)
        if not events:
            raise ValueError("pass the events to step through, e.g. store.read_all()")
        if not all(isinstance(event, RecordedEvent) for event in events):
            raise TypeError("events must be RecordedEvents, e.g. store.read_all()")
        if events[0].position != 1:
            raise ValueError(f"the events must start at position 1 (a projection replays the log from its start), "
                             f"these start at {events[0].position}")
        if not callable(make_projection):
            raise TypeError("make_projection must be a Projection class such as OrderSummary, or a function returning one")
        self.events = events
        self._make_projection = make_projection
        self.store: EventStore | None = None
        self.reset()

    def reset(self) -> ProjectionStep:
        """Start again from an empty view (checkpoint 0), with a new projection object."""
        projection = self._make_projection()
        if not isinstance(projection, Projection):
            raise TypeError(f"make_projection returned {type(projection).__name__}, not a Projection")
        if self.store is not None:
            self.store.close()
        self.store = EventStore()
        self.store.restore(self.events)
        self.projection = projection
        self.runner = ProjectionRunner(self.store, projection, batch_size=1)
        self.last = self._step(None, ())
        return self.last

    @property
    def checkpoint(self) -> int:
        """The position of the last event applied (0: none yet)."""
        return self.runner.position

    def step(self) -> ProjectionStep:
        """Apply the next event (one commit: the view's changes and the checkpoint); returns what it did."""
        before = self._rows_by_key()
        if not self.runner.run_once():
            self.last = self._step(None, ())
            return self.last
        after = self._rows_by_key()
        changed = [key for key in after if before.get(key) != after[key]]
        changed += [key for key in before if key not in after]
        self.last = self._step(self.events[self.checkpoint - 1], tuple(changed))
        return self.last

    def run_to(self, position: int) -> ProjectionStep:
        """Step until the checkpoint reaches ``position`` (from the start again if it is already past it)."""
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= len(self.events):
            raise ValueError(f"position must be between 0 and {len(self.events)}, got {position!r}")
        if position < self.checkpoint:
            self.reset()
        while self.checkpoint < position:
            self.step()
        return self.last

    def close(self) -> None:
        """Close the stepper's own store."""
        if self.store is not None:
            self.store.close()

    def _rows_by_key(self) -> dict[Any, dict[str, Any]]:
        key = self.projection.storage.key
        return {_key_of_row(row, key): row for row in live_rows(self.projection)}

    def _step(self, event: RecordedEvent | None, changed: tuple[Any, ...]) -> ProjectionStep:
        handled = event is not None and self.projection.wants(event.type)
        return ProjectionStep(event, handled, self.checkpoint, len(self.events), tuple(self.projection.storage.key),
                              tuple(live_rows(self.projection)), changed)


_CHANGED_STYLE = "background:#fff3c4"


def projection_step_html(step: ProjectionStep) -> str:
    """The stepper widget's text: the step's description, then the view with the changed rows highlighted."""
    head = f"<p><b>{html.escape(step.describe())}</b></p>"
    if not step.rows:
        return head + "<p><i>The view is empty.</i></p>"
    columns = list(step.rows[0])
    changed = set(step.changed)
    header = "".join(f"<th style='text-align:left'>{html.escape(name)}</th>" for name in columns)
    lines = []
    for row in step.rows:
        style = f" style='{_CHANGED_STYLE}'" if _key_of_row(row, step.key) in changed else ""
        cells = "".join(f"<td>{html.escape('' if value is None else format_value(value))}</td>" for value in row.values())
        lines.append(f"<tr{style}>{cells}</tr>")
    deleted = [key for key in step.changed if key not in {_key_of_row(row, step.key) for row in step.rows}]
    gone = f"<p>deleted: {html.escape(', '.join(format_value(k) for k in deleted))}</p>" if deleted else ""
    return head + f"<table><tr>{header}</tr>{''.join(lines)}</table>" + gone


def build_projection_stepper(events: Sequence[RecordedEvent], make_projection: Callable[[], Projection]) -> W.VBox:
    """Buttons to apply a projection one event at a time: see the event, the checkpoint and the view.

    Controls: ``next`` (apply one event), ``end`` (apply the rest), ``reset``
    (empty view, checkpoint 0). ``panel.stepper`` is the :class:`ProjectionStepper`.
    """
    stepper = ProjectionStepper(events, make_projection)
    controls = {
        "next": W.Button(description="next event", button_style="primary"),
        "end": W.Button(description="to the end"),
        "reset": W.Button(description="reset"),
    }
    result = W.HTML(projection_step_html(stepper.last))
    output = W.Output()

    def on(action: Callable[[], ProjectionStep]) -> Callable[[W.Button], None]:
        @output.capture(clear_output=True)
        def handler(_button: W.Button) -> None:
            result.value = projection_step_html(action())
        return handler

    controls["next"].on_click(on(stepper.step))
    controls["end"].on_click(on(lambda: stepper.run_to(len(stepper.events))))
    controls["reset"].on_click(on(stepper.reset))
    box = panel(controls, result, output)
    box.stepper = stepper
    return box


CHECKPOINT_STRATEGIES = {
    "view, then checkpoint": "two separate writes: first the view's change, then the checkpoint",
    "checkpoint, then view": "two separate writes: first the checkpoint, then the view's change",
    "one transaction": "the view's change and the checkpoint committed together, as esdemo's runner does",
}
"""How a projection may save its progress; :func:`crash_and_restart` shows what each does after a crash."""


@dataclass(frozen=True)
class CrashOutcome:
    """A revenue view's fate when the process dies while handling one payment, then restarts.

    ``payments`` are the log's ``OrderPaid`` events as ``(position, stream,
    amount, currency)``; ``counted[i]`` is how many times payment ``i`` ended
    up in the view after the restart (1 is right). ``saved_checkpoint`` is
    the checkpoint the restart found; ``revenue`` is the view after the
    restart, ``expected`` the true revenue per currency.
    """

    strategy: str
    crash_at: int
    payments: tuple[tuple[int, str, Decimal, str], ...]
    counted: tuple[int, ...]
    saved_checkpoint: int
    revenue: dict[str, Decimal]
    expected: dict[str, Decimal]

    @property
    def twice(self) -> list[int]:
        """Positions of payments counted more than once."""
        return [p[0] for p, n in zip(self.payments, self.counted) if n > 1]

    @property
    def skipped(self) -> list[int]:
        """Positions of payments never counted."""
        return [p[0] for p, n in zip(self.payments, self.counted) if n == 0]

    @property
    def correct(self) -> bool:
        """Did every payment end up in the view exactly once?"""
        return all(n == 1 for n in self.counted) and self.revenue == self.expected

    def describe(self) -> str:
        """What happened, in three sentences."""
        text = (f"{self.strategy}: the process died while handling the payment at position {self.crash_at}; "
                f"the restart found the checkpoint at {self.saved_checkpoint} and carried on from "
                f"{self.saved_checkpoint + 1}. ")
        revenue = _money_text(self.revenue)
        if self.correct:
            return text + f"Every payment counted once: revenue {revenue}, as it should be."
        problems = []
        if self.twice:
            problems.append(f"position {', '.join(map(str, self.twice))} counted twice")
        if self.skipped:
            problems.append(f"position {', '.join(map(str, self.skipped))} never counted")
        return text + f"{'; '.join(problems).capitalize()}: revenue {revenue} instead of {_money_text(self.expected)}."

    def table(self) -> pd.DataFrame:
        """One row per payment (indexed by position): stream, amount, currency, and how often it was counted."""
        rows = [{"position": position, "stream": stream, "amount": format_value(amount), "currency": currency,
                 "counted": n} for (position, stream, amount, currency), n in zip(self.payments, self.counted)]
        return pd.DataFrame(rows, columns=["position", "stream", "amount", "currency", "counted"]).set_index("position")


def _money_text(totals: dict[str, Decimal]) -> str:
    return ", ".join(f"{amount} {currency}" for currency, amount in sorted(totals.items())) or "nothing"


def crash_and_restart(events: Sequence[RecordedEvent], strategy: str, crash_at: int) -> CrashOutcome:
    """Project revenue per currency from ``events``, die while handling the payment at ``crash_at``, restart.

    The view (revenue per currency) and its checkpoint are saved the way
    ``strategy`` says (a key of :data:`CHECKPOINT_STRATEGIES`). The crash
    happens between the two writes; with ``"one transaction"`` there is
    only one write, so the crash throws the uncommitted change away. The
    restart reads the saved checkpoint and processes everything after it.

    >>> crash_and_restart(store.read_all(), "view, then checkpoint", 9).twice
    [9]
    """
    if strategy not in CHECKPOINT_STRATEGIES:
        raise ValueError(f"strategy must be one of {list(CHECKPOINT_STRATEGIES)}, got {strategy!r}")
    events = list(events)
    paid = [event for event in events if event.type == "OrderPaid"]
    positions = [event.position for event in paid]
    if crash_at not in positions:
        raise ValueError(f"crash_at must be the position of an OrderPaid event, one of {positions}; got {crash_at!r}")
    payments = tuple((event.position, event.stream_id, *payment_of(event)) for event in paid)
    index = {position: i for i, position in enumerate(positions)}

    def apply(revenue: dict[str, Decimal], counted: list[int], event: RecordedEvent) -> None:
        if event.type == "OrderPaid":
            amount, currency = payment_of(event)
            revenue[currency] = revenue.get(currency, Decimal("0")) + amount
            counted[index[event.position]] += 1

    revenue: dict[str, Decimal] = {}
    counted = [0] * len(paid)
    saved = 0
    for event in events:                               # the first run, which dies at crash_at
        crash = event.position == crash_at
        if strategy == "view, then checkpoint":
            apply(revenue, counted, event)
            if crash:
                break                                  # the view has the payment, the checkpoint does not
            saved = event.position
        elif strategy == "checkpoint, then view":
            saved = event.position
            if crash:
                break                                  # the checkpoint is past the payment, the view does not have it
            apply(revenue, counted, event)
        else:
            new_revenue, new_counted = dict(revenue), list(counted)
            apply(new_revenue, new_counted, event)
            if crash:
                break                                  # never committed: both changes are gone
            revenue, counted, saved = new_revenue, new_counted, event.position
    saved_checkpoint = saved
    for event in events:                               # the restart: everything after the saved checkpoint
        if event.position > saved:
            apply(revenue, counted, event)
            saved = event.position
    expected: dict[str, Decimal] = {}
    for _, _, amount, currency in payments:
        expected[currency] = expected.get(currency, Decimal("0")) + amount
    return CrashOutcome(strategy, crash_at, payments, tuple(counted), saved_checkpoint, revenue, expected)


def build_checkpoint_crash_widget(events: Sequence[RecordedEvent]) -> W.VBox:
    """Choose how the checkpoint is saved and which payment the process dies on; see the revenue after a restart.

    Controls: ``strategy`` (a key of :data:`CHECKPOINT_STRATEGIES`) and
    ``crash_at`` (the position of an ``OrderPaid`` event).
    """
    events = list(events)
    paid = [event for event in events if event.type == "OrderPaid"]
    if not paid:
        raise ValueError("the events hold no OrderPaid: there is no payment to crash on")
    options = [(f"position {e.position} ({e.stream_id}, {format_value(payment_of(e)[0])} {payment_of(e)[1]})",
                e.position) for e in paid]
    controls = {
        "strategy": W.ToggleButtons(options=list(CHECKPOINT_STRATEGIES), value="view, then checkpoint",
                                    description="save"),
        "crash_at": W.Dropdown(options=options, value=paid[0].position, description="crash at",
                               layout=W.Layout(width="auto")),
    }
    result = W.HTML()

    def show(_change: object = None) -> None:
        outcome = crash_and_restart(events, controls["strategy"].value, controls["crash_at"].value)
        colour = "#1b5e20" if outcome.correct else "#b00020"
        result.value = (f"<p style='color:{colour}'><b>{html.escape(outcome.describe())}</b></p>"
                        f"<p><i>{html.escape(CHECKPOINT_STRATEGIES[outcome.strategy])}</i></p>"
                        + outcome.table().to_html())

    for control in controls.values():
        control.observe(show, names="value")
    show()
    box = panel(controls, result)
    box.children = (controls["strategy"], controls["crash_at"], result)
    return box
