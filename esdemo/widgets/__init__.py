"""Interactive widgets for the notebooks.

Every widget is two things: a pure function that computes what to show (unit
tested like any other function), and a small ``build_*`` function that wires
ipywidgets controls to it. A built widget is an ``ipywidgets.VBox`` with three
extra attributes, so tests (and curious learners) can drive it without a
browser::

    panel = build_race_widget()
    panel.controls["writers"].value = 8      # move a control
    panel.controls["run"].click()            # press a button
    panel.result.value                       # what the learner now sees

Anything a callback prints or draws goes to ``panel.output`` through
``Output.capture``, so it lands under the widget, not in a random cell.
"""

from __future__ import annotations

from .blue_green import (
    BLUE_GREEN_ORDERS,
    BlueGreenDemo,
    BlueGreenState,
    BuggyOrderSummary,
    blue_green_html,
    build_blue_green_widget,
)  # 08 · Rebuilding projections: blue/green, one step at a time
from .day_report import (
    DayReport,
    build_day_widget,
    day_report,
)  # 15 · Capstone: one day of the shop, from the read side
from .hints import build_hints  # every notebook: tiered hints for an exercise
from .images import chart_image, png_bytes, show_figure  # charts inside widgets
from .lag_explorer import (
    LAG_BATCH_SIZES,
    LAG_BURST,
    LagExperiment,
    build_lag_widget,
    lag_experiment,
)  # 11 · Eventual consistency: the lag explorer
from .order_console import (
    CONSOLE_ITEMS,
    ORDER_COMMANDS,
    CommandResult,
    OrderConsole,
    build_order_console,
)  # 05 · Aggregates: the order command console
from .panel import panel
from .price_sync import (
    DEMO_LAMP,
    PRICE_PLACES,
    PriceSyncDemo,
    build_price_sync_widget,
    sync_history_chart,
    sync_html,
    sync_status_code,
    where_is_the_price,
)  # 01 · CQRS: where is the new price?
from .projection_stepper import (
    CHECKPOINT_STRATEGIES,
    CrashOutcome,
    ProjectionStep,
    ProjectionStepper,
    build_checkpoint_crash_widget,
    build_projection_stepper,
    crash_and_restart,
    projection_step_html,
)  # 06 · Projections: one event at a time, and where the checkpoint is saved
from .quiz import build_decision_guide, build_quiz_widget  # 17 · Interview prep
from .race import RaceOutcome, build_race_widget, race  # 03 · racing writers
from .replay import (
    ReplayStep,
    build_replay_widget,
    replay_frame,
    replay_html,
    replay_steps,
    replay_to,
)  # 02 · Event sourcing: replay, step by step
from .sagas import (
    FAULTS,
    FaultOutcome,
    SagaStep,
    build_fault_injector,
    build_saga_stepper,
    fault_outcome_html,
    inject_fault,
    run_commands,
    saga_step,
    saga_step_html,
)  # Sagas and process managers: the conversation, step by step, and the fault injector
from .snapshot_interval import (
    SNAPSHOT_INTERVALS,
    IntervalCost,
    build_snapshot_widget,
    grow_account,
    interval_cost,
    load_times_ms,
    median_load_ms,
    replayed_by_length,
)  # 09 · Snapshots: what a load replays, and what it costs
from .time_travel import (
    build_time_travel,
    find_key,
    key_text,
    time_travel_html,
)  # 02 and the capstone · the time-travel debugger over the whole log
from .upcast_view import StoredVsSeen, build_upcast_widget, stored_vs_seen  # 10 · Schema evolution

__all__ = [
    "BLUE_GREEN_ORDERS",
    "BlueGreenDemo",
    "BlueGreenState",
    "BuggyOrderSummary",
    "CHECKPOINT_STRATEGIES",
    "CONSOLE_ITEMS",
    "CommandResult",
    "CrashOutcome",
    "DEMO_LAMP",
    "DayReport",
    "FAULTS",
    "FaultOutcome",
    "IntervalCost",
    "LAG_BATCH_SIZES",
    "LAG_BURST",
    "LagExperiment",
    "ORDER_COMMANDS",
    "OrderConsole",
    "PRICE_PLACES",
    "PriceSyncDemo",
    "ProjectionStep",
    "ProjectionStepper",
    "RaceOutcome",
    "ReplayStep",
    "SNAPSHOT_INTERVALS",
    "SagaStep",
    "StoredVsSeen",
    "blue_green_html",
    "build_blue_green_widget",
    "build_checkpoint_crash_widget",
    "build_day_widget",
    "build_decision_guide",
    "build_fault_injector",
    "build_hints",
    "build_lag_widget",
    "build_order_console",
    "build_price_sync_widget",
    "build_projection_stepper",
    "build_quiz_widget",
    "build_race_widget",
    "build_replay_widget",
    "build_saga_stepper",
    "build_snapshot_widget",
    "build_time_travel",
    "build_upcast_widget",
    "chart_image",
    "crash_and_restart",
    "day_report",
    "fault_outcome_html",
    "find_key",
    "grow_account",
    "inject_fault",
    "interval_cost",
    "key_text",
    "lag_experiment",
    "load_times_ms",
    "median_load_ms",
    "panel",
    "png_bytes",
    "projection_step_html",
    "race",
    "replay_frame",
    "replay_html",
    "replay_steps",
    "replay_to",
    "replayed_by_length",
    "run_commands",
    "saga_step",
    "saga_step_html",
    "show_figure",
    "stored_vs_seen",
    "sync_history_chart",
    "sync_html",
    "sync_status_code",
    "time_travel_html",
    "where_is_the_price",
]
