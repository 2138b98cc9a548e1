"""Eventual consistency, simulated: how far a view lags behind, second by second.

Pure Python, no database and no wall clock: a simulated clock moves from
event to event, so the same inputs give the same numbers on every run,
which is what a notebook chart needs::

    sim = simulate_lag(duration=60, command_rate=[(0, 50), (20, 400), (30, 50)],   # a burst at t=20 s
                       projection_rate=200, batch_size=100)
    sim.to_frame().plot(x="time_s", y="lag_events")      # the chart (plotting is the notebook's job)
    sim.summary()                                         # {'max_lag_events': ..., 'p95_visible_after_s': ...}

The model is the runner of :mod:`esdemo.read.projection_runner`:

* commands append events at ``command_rate`` events/s: a number, or a list
  of ``(from_time_s, rate)`` phases for bursts. Arrivals are evenly spaced,
  or, with ``seed=...``, a Poisson process (random, but the same for the same seed);
* the projection, when it finds events, takes at most ``batch_size`` of them,
  spends ``batch_overhead_s + n / projection_rate`` seconds applying them and
  commits: only then does the view (and its checkpoint) move, in one jump;
* after a commit it looks again at once; finding nothing, it waits
  ``poll_interval_s`` (0: it is woken by the next append, like ``runner.start()``).

If the projection is slower than the commands, the lag grows without
bound: no batch size fixes a throughput problem. See :mod:`esdemo.gaps` for
the other half of the story, gaps in positions under concurrent writers.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .gaps import ConcurrentWrite, GapSimulation, concurrent_writes, simulate_gaps  # noqa: F401  (the other half, re-exported)

Rate = float | Sequence[tuple[float, float]]


@dataclass(frozen=True)
class LagSimulation:
    """The result: ``rows`` sampled every ``sample_every_s`` seconds, and every commit and arrival.

    Row columns (units in the names): ``time_s``, ``written`` (events in the
    log), ``applied`` (the view's checkpoint), ``lag_events``, ``lag_s`` (age
    of the oldest event the view has not applied; 0 when caught up).
    """

    rows: list[dict[str, float]]
    arrivals_s: list[float]
    commits: list[tuple[float, int]]   # (time_s, applied after the commit)

    def to_frame(self) -> Any:
        """The rows as a pandas DataFrame, ready for ``.plot(x="time_s", y="lag_events")``."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=["time_s", "written", "applied", "lag_events", "lag_s"])

    def visible_after_s(self) -> list[float]:
        """For each event applied, how long after its append it became visible in the view."""
        delays, applied = [], 0
        for time_s, upto in self.commits:
            delays.extend(time_s - self.arrivals_s[i] for i in range(applied, upto))
            applied = upto
        return delays

    def backlog_applied_at(self, written_by_s: float) -> float | None:
        """When the view had applied every event written up to ``written_by_s`` (``None``: not in this run).

        The time a backlog takes to clear: after a burst, a deploy or a
        rebuild, how long until everything written by then is visible?
        """
        needed = bisect.bisect_right(self.arrivals_s, written_by_s)
        if needed == 0:
            return written_by_s
        for time_s, upto in self.commits:
            if upto >= needed:
                return time_s
        return None

    def longest_freeze_s(self) -> float:
        """The longest time the view stood still while events were waiting for it.

        A batch becomes visible only when it commits, so each batch is a pause:
        from the later of the previous commit and the arrival of the oldest
        waiting event, to this commit. Big batches make long pauses.
        """
        longest, previous_time, applied = 0.0, 0.0, 0
        for time_s, upto in self.commits:
            longest = max(longest, time_s - max(previous_time, self.arrivals_s[applied]))
            previous_time, applied = time_s, upto
        return round(longest, 9)

    def summary(self) -> dict[str, float]:
        """Headline numbers: worst lag, and how long a write takes to become visible (mean, p95, max)."""
        delays = sorted(self.visible_after_s())
        pick = (lambda q: delays[min(len(delays) - 1, math.ceil(q * len(delays)) - 1)]) if delays else (lambda q: 0.0)
        return {
            "events_written": len(self.arrivals_s),
            "events_applied": self.commits[-1][1] if self.commits else 0,
            "batches": len(self.commits),
            "max_lag_events": max((row["lag_events"] for row in self.rows), default=0),
            "max_lag_s": max((row["lag_s"] for row in self.rows), default=0.0),
            "mean_visible_after_s": sum(delays) / len(delays) if delays else 0.0,
            "p95_visible_after_s": pick(0.95),
            "max_visible_after_s": delays[-1] if delays else 0.0,
        }


def simulate_lag(*, duration: float, command_rate: Rate, projection_rate: float | None = None,
                 batch_size: int = 100, batch_overhead_s: float = 0.0, poll_interval_s: float = 0.0,
                 sample_every_s: float = 0.5, seed: int | None = None) -> LagSimulation:
    """Simulate ``duration`` seconds of commands and one projection; see the module docstring.

    ``projection_rate`` is in events/s (``None``: applying is instantaneous,
    only ``batch_overhead_s`` counts).
    """
    _positive("duration", duration)
    _positive("sample_every_s", sample_every_s)
    if projection_rate is not None:
        _positive("projection_rate", projection_rate)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    for name, value in (("batch_overhead_s", batch_overhead_s), ("poll_interval_s", poll_interval_s)):
        if not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")
    arrivals = arrival_times(command_rate, duration, seed)
    commits = _run_projection(arrivals, duration, projection_rate, batch_size, batch_overhead_s, poll_interval_s)
    commit_times = [time_s for time_s, _ in commits]
    rows = []
    for step in range(int(math.floor(duration / sample_every_s + 1e-9)) + 1):
        now = step * sample_every_s
        written = bisect.bisect_right(arrivals, now)
        done = bisect.bisect_right(commit_times, now)
        applied = commits[done - 1][1] if done else 0
        lag_s = now - arrivals[applied] if written > applied else 0.0
        rows.append({"time_s": round(now, 9), "written": written, "applied": applied,
                     "lag_events": written - applied, "lag_s": round(lag_s, 9)})
    return LagSimulation(rows, arrivals, commits)


def arrival_times(command_rate: Rate, duration: float, seed: int | None = None) -> list[float]:
    """When each event is appended, in seconds from 0 to ``duration``.

    ``command_rate`` is events/s, or ``[(from_time_s, rate), ...]`` phases.
    Without ``seed`` arrivals are evenly spaced; with one, a Poisson process.
    """
    phases = _phases(command_rate)
    rng = random.Random(seed) if seed is not None else None
    times: list[float] = []
    progress = 0.0                       # evenly spaced: fraction of the way to the next arrival
    for index, (start, rate) in enumerate(phases):
        end = phases[index + 1][0] if index + 1 < len(phases) else duration
        end = min(end, duration)
        if rate <= 0 or start >= end:
            continue
        if rng is None:
            first = start + (1.0 - progress) / rate
            count = max(0, math.floor((end - first) * rate + 1e-9) + 1) if first <= end else 0
            times.extend(first + k / rate for k in range(count))
            progress = ((end - start) * rate + progress) % 1.0
        else:
            now = start + rng.expovariate(rate)
            while now <= end:
                times.append(now)
                now += rng.expovariate(rate)
    return times


def _run_projection(arrivals: list[float], duration: float, rate: float | None, batch_size: int,
                    overhead: float, poll_interval: float) -> list[tuple[float, int]]:
    """The runner's loop on the simulated clock; returns its commits ``(time_s, applied)``."""
    commits: list[tuple[float, int]] = []
    now, applied = 0.0, 0
    while now <= duration:
        available = bisect.bisect_right(arrivals, now) - applied
        if available > 0:
            n = min(available, batch_size)
            now += overhead + (n / rate if rate is not None else 0.0)
            if now > duration:
                break                         # this batch has not committed by the end of the simulation
            applied += n
            commits.append((now, applied))
        elif poll_interval > 0:
            now += poll_interval
        elif applied < len(arrivals):
            now = max(now, arrivals[applied])  # woken by the next append
        else:
            break
    return commits


def _phases(command_rate: Rate) -> list[tuple[float, float]]:
    if isinstance(command_rate, (int, float)) and not isinstance(command_rate, bool):
        phases = [(0.0, float(command_rate))]
    elif isinstance(command_rate, Sequence) and command_rate and all(
            isinstance(p, (tuple, list)) and len(p) == 2 for p in command_rate):
        phases = [(float(start), float(rate)) for start, rate in command_rate]
    else:
        raise TypeError(f"command_rate must be events/s, or a list of (from_time_s, rate) phases; got {command_rate!r}")
    if phases[0][0] != 0 or any(b[0] <= a[0] for a, b in zip(phases, phases[1:])):
        raise ValueError(f"phases must start at time 0 and go forward in time, got {phases}")
    if any(rate < 0 or not math.isfinite(rate) for _, rate in phases):
        raise ValueError(f"rates must be finite numbers >= 0 events/s, got {phases}")
    return phases


def _positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
