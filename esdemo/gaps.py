"""Gaps: why a reader that trusts ``position > checkpoint`` can skip an event, and the high-water mark.

esdemo's positions are gapless and in commit order: a writer takes
``max(position) + 1`` *inside* its transaction, and only one such
transaction can commit (see :mod:`esdemo.store.backends.base`). Many stores
instead take the number at the *start* of the transaction (a sequence,
an auto-increment id), and concurrent transactions commit in any order::

    time   writer A                     writer B                 a reader sees
    0.00   BEGIN, takes position 1
    0.05                                BEGIN, takes position 2
    0.10                                COMMIT                   [2]          -> checkpoint = 2
    0.30   COMMIT                                                [1, 2]       -> 1 <= checkpoint: skipped forever

A rolled-back transaction leaves a gap that never fills. So a reader cannot
tell a *late* position from a *dead* one. The usual cure is a **high-water
mark**: only read up to the highest position below which there is no gap,
and give up on a gap after ``gap_timeout_s`` (assume it was rolled back).
Too short a timeout loses slow commits; too long a timeout adds lag.

:func:`simulate_gaps` runs both readers over the same writes, on a
simulated clock: the same inputs give the same table on every run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ConcurrentWrite:
    """One transaction: the ``position`` it took (``None`` if it never took one), when it began and ended."""

    position: int | None
    begins_at: float
    commits_at: float
    rolled_back: bool = False


def concurrent_writes(count: int, *, rate: float = 100.0, duration_s: tuple[float, float] = (0.001, 0.2),
                      rollback_rate: float = 0.0, allocate: str = "at_begin", seed: int = 0) -> list[ConcurrentWrite]:
    """``count`` overlapping transactions: begins at ``rate`` per second (Poisson), each lasting a
    uniform random time in ``duration_s``, each rolled back with probability ``rollback_rate``.

    ``allocate="at_begin"`` numbers positions when a transaction begins (a
    sequence: gaps and out-of-order commits); ``"at_commit"`` numbers them in
    commit order, as esdemo does (no gaps, nothing to skip).
    """
    if allocate not in ("at_begin", "at_commit"):
        raise ValueError(f"allocate must be 'at_begin' (a sequence) or 'at_commit' (esdemo), got {allocate!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be an int >= 0, got {count!r}")
    low, high = duration_s
    if not 0 <= low <= high or not rate > 0 or not 0 <= rollback_rate <= 1:
        raise ValueError("need rate > 0, 0 <= duration_s[0] <= duration_s[1], and 0 <= rollback_rate <= 1")
    rng = random.Random(seed)
    now, drafts = 0.0, []
    for _ in range(count):
        now += rng.expovariate(rate)
        drafts.append((now, now + rng.uniform(low, high), rng.random() < rollback_rate))
    if allocate == "at_begin":
        return [ConcurrentWrite(i, begin, end, dead) for i, (begin, end, dead) in enumerate(drafts, start=1)]
    committed = sorted((end, begin) for begin, end, dead in drafts if not dead)
    writes = [ConcurrentWrite(i, begin, end) for i, (end, begin) in enumerate(committed, start=1)]
    return writes + [ConcurrentWrite(None, begin, end, True) for begin, end, dead in drafts if dead]


@dataclass(frozen=True)
class GapSimulation:
    """Both readers, poll by poll (``rows``), and what each of them missed.

    ``naive_missed``: committed positions the ``position > checkpoint`` reader
    never delivered. ``hwm_lost``: positions the high-water-mark reader gave
    up on that did commit later (its timeout was too short).
    """

    rows: list[dict[str, Any]]
    naive_missed: list[int]
    hwm_gave_up: list[int]
    hwm_lost: list[int]
    hwm_max_wait_s: float

    def to_frame(self) -> Any:
        """The rows as a pandas DataFrame, one row per poll."""
        import pandas as pd

        return pd.DataFrame(self.rows)

    def summary(self) -> dict[str, Any]:
        """Headline numbers: how many each reader missed, and the longest wait the high-water mark imposed."""
        return {"naive_missed": len(self.naive_missed), "hwm_gave_up": len(self.hwm_gave_up),
                "hwm_lost": len(self.hwm_lost), "hwm_max_wait_s": self.hwm_max_wait_s}


def simulate_gaps(writes: list[ConcurrentWrite], *, poll_interval_s: float = 0.05, gap_timeout_s: float = 1.0,
                  until_s: float | None = None) -> GapSimulation:
    """Poll every ``poll_interval_s`` with a naive reader and a high-water-mark reader.

    Rows: ``time_s``, ``committed`` (positions visible so far), ``naive_checkpoint``,
    ``naive_missed`` (visible, below the checkpoint, never delivered),
    ``hwm_checkpoint``, ``hwm_waiting`` (visible but held back by a gap), ``hwm_gave_up``.
    """
    if not poll_interval_s > 0 or gap_timeout_s < 0:
        raise ValueError("poll_interval_s must be > 0 and gap_timeout_s >= 0")
    commits = {w.position: w.commits_at for w in writes if w.position is not None and not w.rolled_back}
    end = until_s if until_s is not None else max([w.commits_at for w in writes] or [0.0]) + gap_timeout_s + poll_interval_s
    naive, naive_seen = 0, set()
    hwm, first_gap_seen, gave_up, delivered_at = 0, {}, [], {}
    rows, step = [], 1
    while step * poll_interval_s <= end + 1e-12:
        now = round(step * poll_interval_s, 9)
        visible = {p for p, at in commits.items() if at <= now}
        new = sorted(p for p in visible if p > naive)
        naive_seen.update(new)
        naive = max(new, default=naive)
        top = max(visible, default=0)
        for position in range(hwm + 1, top):   # a gap's age counts from when a later position became visible
            if position not in visible:
                first_gap_seen.setdefault(position, now)
        while hwm < top:                       # the high-water mark moves over visible positions only...
            nxt = hwm + 1
            if nxt in visible:
                hwm, delivered_at[nxt] = nxt, now
                continue
            if now - first_gap_seen[nxt] < gap_timeout_s:
                break                          # ...and waits at a gap, until the gap is old enough to give up on
            hwm = nxt
            gave_up.append(nxt)
        rows.append({"time_s": now, "committed": len(visible), "naive_checkpoint": naive,
                     "naive_missed": sum(1 for p in visible if p < naive and p not in naive_seen),
                     "hwm_checkpoint": hwm, "hwm_waiting": sum(1 for p in visible if p > hwm),
                     "hwm_gave_up": len(gave_up)})
        step += 1
    missed = sorted(p for p in commits if p not in naive_seen)
    lost = sorted(p for p in gave_up if p in commits)
    waits = [delivered_at[p] - commits[p] for p in delivered_at]
    return GapSimulation(rows, missed, gave_up, lost, round(max(waits, default=0.0), 9))
