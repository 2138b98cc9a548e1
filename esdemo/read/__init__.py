"""The read side: projections turn the log into views that queries read.

Built on :mod:`esdemo.store` only (a projection sees stored events; decoding
them into domain events is the caller's choice).

* :mod:`.projection`: :class:`Projection` (a match on event types) and the view storage contract;
* :mod:`.projection_runner`: :class:`ProjectionRunner`: the checkpoint committed with the view;
* :mod:`.projection_worker`: :class:`ProjectionWorker`: one owner per projection across processes (PostgreSQL);
* :mod:`.view_rows`, :mod:`.sql_views`, :mod:`.sql_values`, :mod:`.memory_views`: where views live
  (DuckDB or SQLite tables, documents, DataFrames);
* :mod:`.lag`: how far behind a view is, and "as of" answers; its health (failing, parked);
* :mod:`.failure_policy`: stop, retry with backoff, or park a poison event and replay it after the fix;
* :mod:`.runner_group`: several runners driven together;
* :mod:`.rebuild`: blue/green rebuilds, per event or set-based;
* :mod:`.time_travel`: :class:`TimeTravel`, every view and aggregate as of any position, diffs, what-if forks.
* :mod:`.conversation`: one conversation (a correlation id) read back, and laid out as swimlanes.
"""

from .conversation import Arrow, Node, Swimlane, read_conversation, swimlane
from .failure_policy import FailurePolicy, ParkedEvent
from .lag import AsOf, Health, Lag
from .memory_views import DataFrameTable, Documents
from .projection import (AppendInHandlerError, Batch, Projection, ProjectionCommitError, ProjectionConflictError,
                         ProjectionError, ProjectionHandlerError, ProjectionTimeoutError, TooManyParkedError,
                         ViewStorage)
from .projection_runner import ProjectionRunner
from .projection_worker import ProjectionWorker
from .rebuild import RebuildReport, rebuild, rebuild_set_based
from .runner_group import RunnerGroup
from .sql_values import ColumnValues, register_decimal_collation
from .sql_views import SqlTable
from .time_travel import (Changes, FieldChange, Fork, Moment, RowChange, TimeTravel, TimeTravelError, code_fingerprint,
                          events_upto, install_events_upto)
from .view_rows import ViewRows

__all__ = [
    "FailurePolicy",
    "Health",
    "ParkedEvent",
    "ProjectionHandlerError",
    "TooManyParkedError",
    "AppendInHandlerError",
    "ProjectionCommitError",
    "register_decimal_collation",
    "Arrow",
    "AsOf",
    "Batch",
    "Changes",
    "ColumnValues",
    "DataFrameTable",
    "Documents",
    "FieldChange",
    "Fork",
    "Lag",
    "Moment",
    "Node",
    "Projection",
    "ProjectionConflictError",
    "ProjectionError",
    "ProjectionRunner",
    "ProjectionTimeoutError",
    "ProjectionWorker",
    "RebuildReport",
    "RowChange",
    "RunnerGroup",
    "SqlTable",
    "TimeTravel",
    "TimeTravelError",
    "ViewRows",
    "ViewStorage",
    "code_fingerprint",
    "events_upto",
    "install_events_upto",
    "Swimlane",
    "read_conversation",
    "rebuild",
    "rebuild_set_based",
    "swimlane",
]
