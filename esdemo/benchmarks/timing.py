"""How the benchmarks time things: warm up once, run several times, keep the median.

A single timing on a shared laptop says more about the neighbours than about
the code. The median of several runs ignores the odd slow one (a garbage
collection, another process waking up); a ratio of two numbers measured in
the *same* run (same store, same minute, same load) cancels most of what the
machine was doing at the time::

    >>> seconds = median_seconds(lambda: sum(range(1000)), repeat=5)
    >>> speed_up = ratio(slow_seconds, fast_seconds)      # "how many times faster"
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence


def median_seconds(action: Callable[[], object], repeat: int, *, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``action()`` over ``repeat`` runs, after ``warmup`` untimed runs."""
    return statistics.median(timings(action, repeat, warmup=warmup))


def timings(action: Callable[[], object], repeat: int, *, warmup: int = 1) -> list[float]:
    """Seconds of each of ``repeat`` timed runs of ``action()`` (after ``warmup`` untimed ones)."""
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be an int >= 1, got {repeat!r}")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an int >= 0, got {warmup!r}")
    for _ in range(warmup):
        action()
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
    return seconds


def median(values: Sequence[float]) -> float:
    """The median of several runs' results (a clear error for none)."""
    if not values:
        raise ValueError("median of no runs: run the benchmark at least once")
    return statistics.median(values)


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator`` for two figures of the same run; ``inf`` if the denominator is 0."""
    if denominator == 0:
        return float("inf")
    return numerator / denominator
