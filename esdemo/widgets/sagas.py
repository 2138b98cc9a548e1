"""Sagas and process managers: step through one conversation, and inject faults into the checkout."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import ipywidgets as W
from IPython.display import display
from matplotlib.figure import Figure

from ..examples.checkout import SCENARIOS, ScenarioRun, run_scenario
from ..plots_sagas import plot_swimlane
from ..read.conversation import Swimlane, swimlane
from .panel import panel


@dataclass(frozen=True)
class SagaStep:
    """The conversation after ``shown`` events: the last message in words, and what has happened so far.

    ``command`` is the command that produced the last event (``None`` before the
    first); ``sender`` says why it was sent ("from outside (a user)", or "in answer
    to StockReserved": its causation); ``done`` counts each event type so far.
    """

    shown: int
    total: int
    caption: str
    command: str | None
    sender: str | None
    done: dict[str, int]


def saga_step(lanes: Swimlane, commands: dict[str, str], shown: int) -> SagaStep:
    """The stepping function: the first ``shown`` events of ``lanes``; ``commands`` maps command id -> name."""
    if not 0 <= shown <= len(lanes.nodes):
        raise ValueError(f"shown must be between 0 and {len(lanes.nodes)}, got {shown}")
    done: dict[str, int] = {}
    for node in lanes.nodes[:shown]:
        done[node.type] = done.get(node.type, 0) + 1
    if shown == 0:
        return SagaStep(0, len(lanes.nodes), "Nothing has happened yet: press next.", None, None, done)
    node = lanes.nodes[shown - 1]
    arrow = next(a for a in lanes.arrows if a.target == node.step)
    command = commands.get(node.command_id) if node.command_id else None
    sender = "from outside (a user)" if arrow.source is None else f"in answer to {lanes.nodes[arrow.source].type}"
    verb = f"{command}, sent {sender}, produced" if command else f"a save {sender} produced"
    caption = f"Step {shown} of {len(lanes.nodes)}: {verb} {node.type} in {node.stream_id}."
    return SagaStep(shown, len(lanes.nodes), caption, command, sender, done)


def run_commands(run: ScenarioRun) -> dict[str, str]:
    """Command id -> command name, for every command the run's bus handled."""
    return {str(result.envelope.command_id): result.envelope.name for result in run.shop.bus.sent}


def saga_step_html(step: SagaStep) -> str:
    counts = ", ".join(f"{name} ×{count}" for name, count in sorted(step.done.items())) or "none yet"
    return (f"<p><b>{html.escape(step.caption)}</b></p>"
            f"<p>Events so far: {html.escape(counts)}</p>")


def build_saga_stepper(run: ScenarioRun) -> W.VBox:
    """Step through ``run``'s conversation message by message, with its swimlane drawn so far.

    Controls: ``step`` (an ``IntSlider`` from 0 to the number of events),
    ``next`` and ``reset`` buttons. ``panel.result`` is :func:`saga_step_html`;
    ``panel.output`` holds the swimlane chart up to the step.
    """
    lanes, commands = swimlane(run.conversation), run_commands(run)
    controls = {
        "step": W.IntSlider(value=0, min=0, max=len(lanes.nodes), description="step", layout=W.Layout(width="360px")),
        "next": W.Button(description="next message", button_style="primary"),
        "reset": W.Button(description="reset"),
    }
    result = W.HTML(saga_step_html(saga_step(lanes, commands, 0)))
    output = W.Output()

    def chart(n: int) -> Figure:
        return plot_swimlane(lanes, upto=n, title=f"Order A1, scenario '{run.scenario}': step {n} of {len(lanes.nodes)}")

    @output.capture(clear_output=True, wait=True)
    def show(_change: Any = None) -> None:
        n = controls["step"].value
        result.value = saga_step_html(saga_step(lanes, commands, n))
        display(chart(n))

    def next_step(_button: W.Button) -> None:
        controls["step"].value = min(controls["step"].value + 1, len(lanes.nodes))

    def reset(_button: W.Button) -> None:
        controls["step"].value = 0

    controls["step"].observe(show, names="value")
    controls["next"].on_click(next_step)
    controls["reset"].on_click(reset)
    output.append_display_data(chart(0))
    box = panel(controls, result, output)
    box.lanes = lanes
    return box


FAULTS = {
    "no fault": None,
    "crash after reading an event": "read",
    "crash after sending ReserveStock": "command:reserve-stock",
    "crash after sending RequestPayment": "command:request-payment",
    "crash after sending ReleaseStock (compensating)": "command:release-stock",
    "crash after saving the state, before the commit": "state",
    "crash before committing the checkpoint": "checkpoint",
    "crash while firing the 15-minute deadline": "deadline:payment-timeout",
    "deliver every command twice": "twice",
}
"""What the fault injector can do to the checkout process manager."""


@dataclass(frozen=True)
class FaultOutcome:
    """A scenario run with a fault, next to the same scenario without one."""

    scenario: str
    fault: str
    crashes: tuple[str, ...]
    duplicates: int
    story: tuple[tuple[str, str], ...]
    ledger: dict[str, int]
    clean_story: tuple[tuple[str, str], ...]
    clean_ledger: dict[str, int]

    @property
    def same(self) -> bool:
        """Nothing lost, nothing doubled: the same events and the same counts as without the fault."""
        return self.story == self.clean_story and self.ledger == self.clean_ledger

    def describe(self) -> str:
        if self.fault == "no fault":
            what = "No fault injected."
        elif self.duplicates:
            what = f"{self.duplicates} commands were delivered twice; the bus recognised every second copy."
        elif self.crashes:
            what = f"The process manager crashed at {self.crashes[0]!r} and was restarted; the event was delivered again."
        else:
            what = "The crash point was never reached in this scenario (nothing to crash)."
        verdict = ("Same events, same counts as a run without faults: nothing lost, nothing doubled."
                   if self.same else "DIFFERENT from a run without faults!")
        return f"{what} {verdict}"


def inject_fault(scenario: str, fault: str, *, backend: str = "duckdb") -> FaultOutcome:
    """Run ``scenario`` with ``fault`` (a key of :data:`FAULTS`) and without, on fresh stores; compare."""
    if fault not in FAULTS:
        raise ValueError(f"fault must be one of {list(FAULTS)}, got {fault!r}")
    point = FAULTS[fault]
    clean = run_scenario(scenario, backend=backend)
    faulty = run_scenario(scenario, backend=backend, crash_at=None if point in (None, "twice") else point,
                          deliver_twice=point == "twice")
    try:
        return FaultOutcome(scenario, fault, tuple(faulty.faults.crashes), faulty.duplicates, tuple(faulty.story()),
                            faulty.ledger, tuple(clean.story()), clean.ledger)
    finally:
        clean.store.close()
        faulty.store.close()


def fault_outcome_html(outcome: FaultOutcome) -> str:
    rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{outcome.clean_ledger[name]}</td><td>{count}</td></tr>"
                   for name, count in outcome.ledger.items())
    return (f"<p><b>{html.escape(outcome.describe())}</b></p>"
            "<table><tr><th>event for order A1</th><th>without fault</th><th>with fault</th></tr>"
            f"{rows}</table>")


def build_fault_injector(*, backend: str = "duckdb") -> W.VBox:
    """Pick a scenario and a fault, press run: the counts with and without the fault, and the swimlane.

    Controls: ``scenario`` and ``fault`` (dropdowns), ``run`` (a button).
    """
    controls = {
        "scenario": W.Dropdown(options=list(SCENARIOS), value="declined", description="scenario"),
        "fault": W.Dropdown(options=list(FAULTS), value="crash after sending ReserveStock", description="fault",
                            layout=W.Layout(width="420px")),
        "run": W.Button(description="run", button_style="primary"),
    }
    result = W.HTML("<p>Pick a scenario and a fault, then press run.</p>")
    output = W.Output()

    @output.capture(clear_output=True, wait=True)
    def run(_button: Any = None) -> None:
        outcome = inject_fault(controls["scenario"].value, controls["fault"].value, backend=backend)
        result.value = fault_outcome_html(outcome)
        box.outcome = outcome

    controls["run"].on_click(run)
    box = panel(controls, result, output)
    box.outcome = None
    return box
