"""Notebook 11 · Eventual consistency: the lag explorer."""

from __future__ import annotations

import html
from dataclasses import dataclass

import ipywidgets as W
from matplotlib.figure import Figure

from ..plots import lag_chart
from ..simulation import LagSimulation, simulate_lag
from .images import chart_image, show_figure
from .panel import panel

LAG_BATCH_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
"""The batch sizes the lag explorer offers."""
LAG_BURST = (20.0, 30.0, 4)
"""The explorer's burst: from 20 s to 30 s, commands write at 4 times the rate."""


@dataclass(frozen=True)
class LagExperiment:
    """One run of the lag explorer: the settings, the simulation, and what they mean.

    Rates are in events per second; each batch costs ``batch_overhead_s``
    (commit, checkpoint) on top of ``n / projection_rate`` seconds of work.
    """

    write_rate: float
    projection_rate: float
    batch_size: int
    batch_overhead_s: float
    burst: bool
    duration_s: float
    simulation: LagSimulation

    @property
    def capacity(self) -> float:
        """The most events per second the projection can apply, in full batches.

        ``batch_size / (batch_overhead_s + batch_size / projection_rate)``: with
        batches of 100 at 250 events/s and 20 ms per commit, 100 / 0.42 = 238 events/s.
        """
        return self.batch_size / (self.batch_overhead_s + self.batch_size / self.projection_rate)

    @property
    def keeps_up(self) -> bool:
        """Can the projection apply events faster than the commands write them (outside a burst)?"""
        return self.capacity > self.write_rate

    def describe(self) -> str:
        """The settings, the verdict (keeps up or falls behind, and why), and the numbers behind it."""
        w, capacity, summary = self.write_rate, self.capacity, self.simulation.summary()
        start, end, factor = LAG_BURST
        burst = f", x{factor} from {start:.0f} s to {end:.0f} s" if self.burst else ""
        batch_s = self.batch_overhead_s + self.batch_size / self.projection_rate
        lines = [
            f"writes: {w:g} events/s{burst}; projection: {self.projection_rate:g} events/s, batches of at most "
            f"{self.batch_size}, {self.batch_overhead_s * 1000:g} ms per commit",
            f"ceiling: {capacity:.0f} events/s ({self.batch_size} events per {batch_s:.3g} s batch)",
        ]
        if self.keeps_up and self.burst and w * factor > capacity:
            lines.append(f"Outside the burst the projection keeps up. During it, {w * factor:g} events/s outrun "
                         f"the ceiling: a backlog builds, then drains at {capacity - w:.0f} events/s.")
        elif self.keeps_up:
            lines.append("The projection keeps up: the lag stays bounded.")
        else:
            last = self.simulation.rows[-1]
            lines.append(f"The projection falls behind by about {w - capacity:.0f} events every second: after "
                         f"{last['time_s']:g} s it is {last['lag_events']} events behind, and the gap keeps growing.")
            if self.projection_rate <= w:
                lines.append(f"No batch size can fix that: even without commit costs it applies only "
                             f"{self.projection_rate:g} events/s. Make it faster, or split the work.")
            else:
                lines.append(f"Bigger batches spread the commit cost over more events (the ceiling tends to "
                             f"{self.projection_rate:g} events/s).")
        lines.append(f"max lag: {summary['max_lag_events']} events ({summary['max_lag_s']:.2f} s); a write becomes "
                     f"visible after {summary['mean_visible_after_s']:.2f} s on average, "
                     f"{summary['p95_visible_after_s']:.2f} s at the 95th percentile")
        return "\n".join(lines)

    def chart(self) -> Figure:
        """The lag over time (:func:`esdemo.plots.lag_chart`), titled with the settings."""
        return lag_chart({"lag": self.simulation},
                         title=f"Lag: {self.write_rate:g} events/s written, {self.projection_rate:g} events/s "
                               f"projected, batches of {self.batch_size}")


def lag_experiment(write_rate: float, projection_rate: float, batch_size: int, *, burst: bool = False,
                   batch_overhead_s: float = 0.02, duration_s: float = 60) -> LagExperiment:
    """Simulate ``duration_s`` seconds of writes and one projection (:func:`esdemo.simulation.simulate_lag`).

    ``burst=True`` multiplies the write rate by 4 from 20 s to 30 s.

    >>> lag_experiment(200, 250, 100).keeps_up, lag_experiment(200, 250, 10).keeps_up
    (True, False)
    """
    start, end, factor = LAG_BURST
    rate = [(0, write_rate), (start, write_rate * factor), (end, write_rate)] if burst else write_rate
    simulation = simulate_lag(duration=duration_s, command_rate=rate, projection_rate=projection_rate,
                              batch_size=batch_size, batch_overhead_s=batch_overhead_s)
    return LagExperiment(write_rate, projection_rate, batch_size, batch_overhead_s, burst, duration_s, simulation)


def build_lag_widget(*, write_rate: int = 200, projection_rate: int = 250, batch_size: int = 100,
                     burst: bool = False, batch_overhead_s: float = 0.02) -> W.VBox:
    """Sliders for the write rate, the projection rate and the batch size, and a burst switch: the lag chart redraws.

    ``panel.result`` shows :meth:`LagExperiment.describe`; ``panel.chart`` is
    an image of the chart, redrawn for every setting; ``panel.experiment`` and
    ``panel.figure`` are the last run and the figure drawn for it. (The chart is
    an image widget rather than output captured at build time, so the widget
    shows its first chart at once, and nothing leaks into the notebook cell.)
    """
    if batch_size not in LAG_BATCH_SIZES:
        raise ValueError(f"batch_size must be one of {LAG_BATCH_SIZES}, got {batch_size!r}")
    wide = {"style": {"description_width": "initial"}}
    controls = {
        "write_rate": W.IntSlider(value=write_rate, min=10, max=1000, step=10, description="writes (events/s)",
                                  continuous_update=False, **wide),
        "projection_rate": W.IntSlider(value=projection_rate, min=10, max=1000, step=10,
                                       description="projection (events/s)", continuous_update=False, **wide),
        "batch_size": W.SelectionSlider(options=LAG_BATCH_SIZES, value=batch_size, description="batch size",
                                        continuous_update=False, **wide),
        "burst": W.Checkbox(value=burst, description="burst x4 at 20-30 s"),
    }
    result = W.HTML()
    chart = chart_image()

    def redraw(_change: object = None) -> None:
        experiment = lag_experiment(controls["write_rate"].value, controls["projection_rate"].value,
                                    controls["batch_size"].value, burst=controls["burst"].value,
                                    batch_overhead_s=batch_overhead_s)
        box.experiment, box.figure = experiment, experiment.chart()
        result.value = f"<pre style='margin:0'>{html.escape(experiment.describe())}</pre>"
        show_figure(chart, box.figure)

    box = panel(controls, result)
    box.children = (W.HBox([controls["write_rate"], controls["projection_rate"]]),
                    W.HBox([controls["batch_size"], controls["burst"]]), result, chart)
    box.chart = chart
    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return box
