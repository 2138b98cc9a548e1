"""``python -m esdemo.bench`` (or ``make bench``): every benchmark of the course, in one table.

::

    python -m esdemo.bench                 # what the README reports (about 5 minutes on 2 cores)
    python -m esdemo.bench --quick         # smaller stores, fewer runs, no notebooks: a minute
    python -m esdemo.bench --only reads snapshots

Each figure is the median of several runs; each ratio divides two figures
measured in the same run (same store, same minute), so a busy machine moves
both and the ratio stays fair. The table has a target for each figure the
course promises, and says whether this machine met it; the header says which
machine that was and how loaded it was (the load average before and after).

The measurements live in :mod:`esdemo.benchmarks` (``appends``, ``reads``,
``snapshots``, ``rebuild``, ``time_travel``, ``postgres``, ``notebooks``), each a plain function returning
numbers; this module only runs them and lays out the table.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

SECTIONS = ("appends", "reads", "scans", "snapshots", "rebuild", "time_travel", "postgres", "notebooks")
# "appends" also appends into a big log; "reads" builds one of its own (both sized by Plan.read_events).
PROPOSED_INDEX_NAME = "an index on stream_id"


@dataclass(frozen=True)
class Target:
    """A promise about a figure: ``Target(">=", 1000)`` (at least) or ``Target("<=", 5)`` (at most)."""

    op: str
    value: float
    unit: str = ""

    def __post_init__(self) -> None:
        if self.op not in (">=", "<="):
            raise ValueError(f"a target is '>=' or '<=' a value, got {self.op!r}")

    def met_by(self, value: float) -> bool:
        """Whether ``value`` keeps the promise."""
        return value >= self.value if self.op == ">=" else value <= self.value

    def __str__(self) -> str:
        value = f"{int(self.value):,}" if float(self.value).is_integer() else f"{self.value:g}"
        return f"{self.op} {value}{self.unit}"


@dataclass(frozen=True)
class Row:
    """One line of the table: what was measured, on which backend, the result, and its target if any.

    ``value`` is a number (formatted with ``unit``) or a word (e.g. a query plan);
    ``met`` is ``None`` when there is no target, else whether it was met.
    """

    measure: str
    backend: str
    value: float | str | None
    unit: str = ""
    target: Target | str | None = None
    met: bool | None = None
    note: str = ""

    @classmethod
    def measured(cls, measure: str, backend: str, value: float, unit: str, target: Target | None = None,
                 note: str = "") -> Row:
        """A numeric row; whether it met its ``target`` is worked out here."""
        return cls(measure, backend, value, unit, target, None if target is None else target.met_by(value), note)

    @property
    def result(self) -> str:
        """The value as the table shows it: ``"471 events/s"``, ``"Index Scan"``, or ``"not run"``."""
        if self.value is None:
            return "not run"
        if isinstance(self.value, str):
            return self.value
        return f"{_number(self.value)} {self.unit}".strip()

    @property
    def verdict(self) -> str:
        """``"met"``, ``"MISSED"``, or empty when there is no target."""
        return "" if self.met is None else ("met" if self.met else "MISSED")


def format_table(rows: Sequence[Row]) -> str:
    """The rows as one Markdown table, columns padded so it also reads well in a terminal."""
    header = ("measure", "backend", "result", "target", "met?", "note")
    cells = [header] + [(r.measure, r.backend, r.result, "" if r.target is None else str(r.target), r.verdict, r.note)
                        for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(text.ljust(width) for text, width in zip(row, widths)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def machine() -> str:
    """One line about this machine: CPU, cores, memory, and the versions that matter."""
    import duckdb

    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB"
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, SQLite {sqlite3.sqlite_version}")


def load() -> str:
    """The 1, 5 and 15 minute load averages (how busy the machine was), or '?' where unknown."""
    try:
        return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except (AttributeError, OSError):
        return "?"


# -- turning each benchmark's numbers into rows -------------------------------------------------------

def append_rows(n: dict[str, float], big: dict[str, float] | None = None) -> list[Row]:
    """Rows for :func:`esdemo.benchmarks.appends.run` (and ``on_a_big_log``): single, batch, their ratio."""
    batch = f"{int(n['batch']):,}"
    single_targets = {"duckdb": Target(">=", 1_000), "sqlite": Target(">=", 5_000)}
    rows = []
    for b in ("duckdb", "sqlite"):
        if f"{b}.single_events_per_s" not in n:
            continue
        rows += [
            Row.measured("append 1 event per call, expected version", b, n[f"{b}.single_events_per_s"], "events/s",
                         single_targets[b], note=f"{n[f'{b}.single_ms']:.2f} ms per append"),
            Row.measured(f"append {batch} events in one call", b, n[f"{b}.batch_events_per_s"], "events/s",
                         Target(">=", 100_000)),
            Row.measured("  batch vs 1 per call (same run)", b, n[f"{b}.batch_vs_single"], "x"),
        ]
        if big and f"{b}.big_log_events_per_s" in big:
            rows.append(Row.measured(f"  1 per call, into a {int(big['log_events']):,}-event log", b,
                                     big[f"{b}.big_log_events_per_s"], "events/s",
                                     note=f"{big[f'{b}.big_log_ms']:.2f} ms per append"))
    return rows


def read_rows(n: dict[str, Any]) -> list[Row]:
    """Rows for :func:`esdemo.benchmarks.reads.run`: the read time and the plan the database really ran."""
    what = f"read a {n['stream_events']}-event stream of {n['events']:,}"
    targets = {"duckdb": Target("<=", 5, " ms"), "sqlite": Target("<=", 1, " ms"), "duckdb+index": Target("<=", 5, " ms")}
    rows = []
    for b in ("duckdb", "duckdb+index", "sqlite"):
        if f"{b}.read_ms" not in n:
            continue
        label = what if b != "duckdb+index" else f"  same, with {PROPOSED_INDEX_NAME} (proposed)"
        rows.append(Row.measured(label, b, n[f"{b}.read_ms"], "ms", targets[b]))
        rows.append(Row("  plan the database ran", b, n[f"{b}.plan"], target="an index" if b == "duckdb" else None,
                        met=bool(n[f"{b}.index"]) if b == "duckdb" else None,
                        note="profiled execution, not EXPLAIN" if b.startswith("duckdb") else "EXPLAIN QUERY PLAN"))
        if b == "duckdb+index" and "duckdb+index.create_s" in n:
            rows.append(Row.measured("  building that index over the log", b, n["duckdb+index.create_s"], "s"))
    return rows


def snapshot_rows(n: dict[str, float]) -> list[Row]:
    """Rows for :func:`esdemo.benchmarks.snapshots.run`: a load without and with a snapshot, and the speed-up."""
    what = f"load a {int(n['events']):,}-event aggregate"
    rows = []
    for b in ("duckdb", "sqlite"):
        if f"{b}.ratio" not in n:
            continue
        rows += [
            Row.measured(f"{what}, no snapshot", b, n[f"{b}.full_replay_ms"], "ms", Target("<=", 60, " ms"),
                         note=f"store read {n[f'{b}.store_read_ms']:.1f} ms + decode/apply {n[f'{b}.decode_apply_ms']:.1f} ms"),
            Row.measured(f"{what}, snapshot + {int(n['tail'])} events", b, n[f"{b}.snapshot_ms"], "ms",
                         Target("<=", 5, " ms")),
            Row.measured("  snapshot speed-up (same run)", b, n[f"{b}.ratio"], "x"),
        ]
    return rows


def rebuild_rows(runs: list[dict[str, float]]) -> list[Row]:
    """Rows for several runs of :func:`esdemo.benchmarks.rebuild.run`: medians, the ratio taken within each run."""
    from .benchmarks.timing import median

    events = int(runs[0]["events"])
    per_event = median([r["per_event_events_per_s"] for r in runs])
    set_based = median([r["set_based_events_per_s"] for r in runs])
    ratio = median([r["ratio"] for r in runs])
    read = median([r["read_s"] / r["per_event_s"] for r in runs])
    return [
        Row.measured(f"rebuild Order Summary over {events:,} events, per event", "duckdb", per_event, "events/s",
                     note=f"{read:.0%} of it is read_all + JSON"),
        Row.measured(f"rebuild Order Summary over {events:,} events, set-based SQL", "duckdb", set_based, "events/s",
                     Target(">=", 5_000_000)),
        Row.measured("  set-based vs per event (same run)", "duckdb", ratio, "x", Target(">=", 20, "x")),
    ]


def postgres_rows(n: dict[str, float]) -> list[Row]:
    """Rows for :func:`esdemo.benchmarks.postgres.run`: appends from 1, 2, 4 processes per backend, notify latency."""
    notes = {"postgres": "appends take turns (LOCK TABLE): gapless, in commit order",
             "sqlite": "one file: queued at its write lock",
             "duckdb": "one process per file: a second writer process cannot open it"}
    rows = []
    for backend in ("postgres", "sqlite", "duckdb"):
        for count in (1, 2, 4, 8):
            key = f"{backend}.{count}p_events_per_s"
            if key in n:
                rows.append(Row.measured(f"append 1 event per call, {count} process{'es' * (count > 1)} at once",
                                         backend, n[key], "events/s", note=notes[backend] if count == 1 else ""))
    rows.append(Row.measured("live subscription: append to handler (LISTEN/NOTIFY)", "postgres", n["notify_median_ms"],
                             "ms", note=f"median; p95 {n['notify_p95_ms']:.1f} ms; it polls only every 30 s"))
    return rows


def time_travel_rows(small: dict[str, Any], big: dict[str, Any] | None = None) -> list[Row]:
    """Rows for :func:`esdemo.benchmarks.time_travel.run`: a scrub and a step, on a 10,000-event log and a big one."""
    rows = []
    for n, target in ((small, Target("<=", 100, " ms")), (big, None)):
        if n is None:
            continue
        memory = "" if n["memory_mib"] is None else f", {n['memory_mib']:.0f} MiB"
        rows += [
            Row.measured(f"time travel: scrub to a random position, {int(n['events']):,}-event log", "duckdb",
                         n["scrub_ms"], "ms", target,
                         note=f"3 views + every Order; checkpoints every {n['every']}, built in {n['build_s']:.1f} s{memory}"),
            Row.measured("  one step forward", "duckdb", n["step_ms"], "ms"),
        ]
    return rows


def scan_rows(n: dict[str, Any]) -> list[Row]:
    """Rows for :func:`esdemo.benchmarks.scans.run`: peak memory of a whole-log scan, as one list and streamed."""
    rows = []
    for b in ("duckdb", "sqlite"):
        rows.append(Row.measured(f"scan a {int(n['events']):,}-event log with read_all(): peak memory", b,
                                 n[f"{b}.read_all_mb"], "MB", note="the whole log as one list"))
        rows.append(Row.measured(f"  with iter_all(), pages of {int(n['page_size']):,}", b, n[f"{b}.iter_all_mb"], "MB",
                                 Target("<=", 50, " MB"), note="bounded by one page, whatever the log's length"))
    return rows


def notebook_rows(n: dict[str, Any]) -> list[Row]:
    """The row for :func:`esdemo.benchmarks.notebooks.run`: every notebook's run, the slowest, any failure."""
    notebooks = n["notebooks"]
    slowest = max(notebooks, key=notebooks.get) if notebooks else ""
    note = f"slowest {slowest} {notebooks[slowest]:.1f} s" if slowest else ""
    if n["failed"]:
        note += f"; FAILED: {', '.join(sorted(n['failed']))}"
    return [Row.measured(f"run every notebook ({len(notebooks)}), fresh kernel each", "-", n["total_s"], "s", note=note)]


# -- running ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """How big each benchmark is: the defaults measure what the README reports; ``quick()`` is a smoke run."""

    single: int = 2_000
    batch: int = 10_000
    append_repeat: int = 5
    big_log_appends: int = 300
    read_events: int = 1_000_000
    read_streams: int = 10_000
    read_repeat: int = 15
    aggregate_events: int = 10_000
    snapshot_repeat: int = 7
    rebuild_events: int = 1_000_000
    rebuild_repeat: int = 3
    scrub_events: int = 10_000
    time_travel_events: int = 1_000_000
    notebook_repeat: int = 3
    process_appends: int = 300
    processes: tuple[int, ...] = (1, 2, 4)
    notify_samples: int = 30
    scan_events: int = 200_000   # tracemalloc slows a scan several times: the memory, not the speed, is the figure

    @classmethod
    def quick(cls) -> Plan:
        """Stores of 100,000 events (still 100 per stream), fewer runs: a smoke test of every section."""
        return cls(single=200, append_repeat=3, big_log_appends=100, read_events=100_000, read_streams=1_000, read_repeat=5,
                   snapshot_repeat=3, rebuild_events=100_000, rebuild_repeat=1, time_travel_events=50_000,
                   notebook_repeat=1, process_appends=30, processes=(1, 2), notify_samples=5, scan_events=20_000)


def collect(plan: Plan, sections: Sequence[str] = SECTIONS, *,
            progress: Callable[[str], None] = lambda message: None) -> list[Row]:
    """Run the benchmarks of ``sections`` at the sizes of ``plan``; returns the table's rows, in order."""
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown benchmark section(s) {unknown}; choose from {list(SECTIONS)}")
    from .benchmarks import appends, notebooks, reads, rebuild, scans, snapshots, time_travel

    steps: dict[str, Callable[[], list[Row]]] = {
        "appends": lambda: append_rows(appends.run(single=plan.single, batch=plan.batch, repeat=plan.append_repeat),
                                       appends.on_a_big_log(events=plan.read_events, streams=plan.read_streams,
                                                            appends=plan.big_log_appends, repeat=plan.append_repeat)),
        "reads": lambda: read_rows(reads.run(events=plan.read_events, streams=plan.read_streams,
                                             repeat=plan.read_repeat)),
        "scans": lambda: scan_rows(scans.run(events=plan.scan_events)),
        "snapshots": lambda: snapshot_rows(snapshots.run(events=plan.aggregate_events, repeat=plan.snapshot_repeat)),
        "rebuild": lambda: rebuild_rows([rebuild.run(events=plan.rebuild_events) for _ in range(plan.rebuild_repeat)]),
        "time_travel": lambda: time_travel_rows(time_travel.run(plan.scrub_events),
                                                time_travel.run(plan.time_travel_events)),
        "postgres": lambda: postgres_rows(_postgres_run(plan)),
        "notebooks": lambda: notebook_rows(notebooks.run(repeat=plan.notebook_repeat)),
    }
    rows: list[Row] = []
    for section in SECTIONS:
        if section in sections:
            started = time.perf_counter()
            progress(f"{section}...")
            rows += steps[section]()
            progress(f"{section}: {time.perf_counter() - started:.0f} s")
    return rows


def _postgres_run(plan: Plan) -> dict[str, float]:
    from .benchmarks import postgres   # psycopg and a throwaway server only when this section runs

    return postgres.run(processes=plan.processes, appends=plan.process_appends, samples=plan.notify_samples)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: run the chosen sections, print the machine, the load and the table."""
    parser = argparse.ArgumentParser(prog="python -m esdemo.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller stores and fewer runs, notebooks left out unless named with --only")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, metavar="SECTION",
                        help=f"run only these sections ({', '.join(SECTIONS)})")
    args = parser.parse_args(argv)
    plan = Plan.quick() if args.quick else Plan()
    sections = args.only or [s for s in SECTIONS if not (args.quick and s == "notebooks")]
    before = load()
    started = time.perf_counter()
    rows = collect(plan, sections, progress=lambda message: print(f"  ... {message}", file=sys.stderr, flush=True))
    print(f"esdemo benchmarks{' (--quick)' if args.quick else ''}: medians of several runs; ratios from the same run")
    print(f"machine: {machine()}")
    print(f"load average (1/5/15 min): {before} before, {load()} after; {time.perf_counter() - started:.0f} s in all")
    print()
    print(format_table(rows))
    missed = [r for r in rows if r.met is False]
    print()
    print(f"{sum(r.met is True for r in rows)} targets met, {len(missed)} missed"
          + ("" if not missed else " (see README, Performance, for why)"))
    return 0


def _number(value: float) -> str:
    """Readable numbers: 1,234,567 / 12.3 / 0.42."""
    if value == float("inf"):
        return "inf"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


if __name__ == "__main__":
    sys.exit(main())
