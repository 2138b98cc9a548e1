"""Notebook 03 · racing writers."""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass

import ipywidgets as W

from ..postgres_server import scratch_location
from ..store.errors import ConflictError
from ..store.event_store import EventStore
from ..store.events import NewEvent
from .panel import panel


@dataclass(frozen=True)
class RaceOutcome:
    """What happened when ``writers`` threads appended to one stream with the same expected version."""

    writers: int
    backend: str
    winners: int
    conflicts: int
    stream_version: int

    @property
    def one_winner(self) -> bool:
        """What optimistic concurrency promises: one writer won, every other one got a conflict, one event was added."""
        return (self.winners, self.conflicts, self.stream_version) == (1, self.writers - 1, 2)

    def describe(self) -> str:
        """One sentence for the learner; it says so plainly if the promise above was broken."""
        told = (f"{self.writers} writers read Order-12345 at version 1 and appended at the same moment on "
                f"{self.backend}: {self.winners} won, {self.conflicts} got ConflictError; "
                f"the stream is at version {self.stream_version}")
        if self.one_winner:
            return told + ", so no change was lost or doubled."
        lost = self.writers - self.winners - self.conflicts
        return told + (f" and {lost} failed otherwise" if lost else "") + ": NOT the one winner expected, a bug in the store."


def race(writers: int, backend: str = "duckdb") -> RaceOutcome:
    """Let ``writers`` threads append to ``Order-12345`` at once, all expecting version 1."""
    if not 1 <= writers <= 64:
        raise ValueError(f"writers must be between 1 and 64, got {writers}")
    with EventStore(scratch_location(backend), backend=backend) as store:
        store.append("Order-12345", [NewEvent("OrderCreated", {"order_id": "12345"})], expected_version=0)
        start = threading.Barrier(writers)
        outcomes: list[str] = []

        def write(n: int) -> None:
            start.wait()
            try:
                store.append("Order-12345", [NewEvent("ItemAdded", {"by": n})], expected_version=1)
                outcomes.append("won")
            except ConflictError:
                outcomes.append("conflict")
            except Exception:  # noqa: BLE001  (counted, and named by describe(), rather than lost in a thread)
                outcomes.append("error")

        threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return RaceOutcome(writers, backend, outcomes.count("won"), outcomes.count("conflict"),
                           store.stream_version("Order-12345"))


def build_race_widget() -> W.VBox:
    """A slider for the number of writers, a backend choice and a button that runs :func:`race`."""
    controls = {
        "writers": W.IntSlider(value=8, min=2, max=32, description="writers"),
        "backend": W.Dropdown(options=["duckdb", "sqlite"], value="duckdb", description="backend"),
        "run": W.Button(description="Race!", button_style="primary"),
    }
    result = W.HTML("<i>Press Race! to start the writers.</i>")
    output = W.Output()

    @output.capture(clear_output=True)
    def on_click(_button: W.Button) -> None:
        outcome = race(controls["writers"].value, controls["backend"].value)
        result.value = html.escape(outcome.describe())

    controls["run"].on_click(on_click)
    return panel(controls, result, output)
