"""The production notebook's chart: how fast a LISTEN/NOTIFY subscriber hears of each append.

Follows the conventions of :mod:`esdemo.plots` (plain data in, a ``Figure`` out, no pyplot state).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from matplotlib.figure import Figure


def plot_notify_latencies(latencies_ms: Sequence[float], *, poll_interval_s: float) -> Figure:
    """One point per append (append -> handler, in ms) and the median as a dashed line; the title
    compares them with the subscription's poll interval, which alone would have cost up to that long."""
    if not latencies_ms:
        raise ValueError("plot_notify_latencies needs at least one latency; measure some with notify_latencies()")
    median = statistics.median(latencies_ms)
    fig = Figure(figsize=(8, 3))
    ax = fig.add_subplot()
    ax.plot(range(1, len(latencies_ms) + 1), list(latencies_ms), marker="o", label="append -> handler")
    ax.axhline(median, linestyle="--", color="grey", label=f"median {median:.1f} ms")
    ax.set(xlabel="append number", ylabel="milliseconds", ylim=(0, None),
           title=f"LISTEN/NOTIFY: the subscriber polls every {poll_interval_s:g} s, yet hears within milliseconds")
    ax.legend()
    fig.tight_layout()
    return fig
