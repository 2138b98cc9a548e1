"""ProjectionRunner: checkpoints committed with the view, exactly once, on every storage and both backends."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from projection_kit import Tally, expected_rows, fill, make_storage, rows_of

from store_factory import new_store

from esdemo import EventStore, NewEvent
from esdemo.read.memory_views import DataFrameTable, Documents
from esdemo.read.projection import Projection, ProjectionConflictError, ProjectionError
from esdemo.read.projection_runner import ProjectionRunner
from esdemo.read.sql_views import SqlTable



def test_catch_up_applies_every_event_once_and_moves_the_checkpoint_to_the_head(store, kind):
    fill(store)
    runner = ProjectionRunner(store, Tally(make_storage(kind)), batch_size=5)
    assert runner.position == 0
    assert runner.catch_up() == store.head()
    assert runner.position == store.head()
    assert rows_of(runner.projection) == expected_rows(store)
    assert runner.catch_up() == 0


def test_without_key_of_rows_are_loaded_one_by_one_with_the_same_result(store, kind):
    class OneByOne(Tally):
        def key_of(self, event, recorded):
            return None

    fill(store)
    runner = ProjectionRunner(store, OneByOne(make_storage(kind)), batch_size=5)
    runner.catch_up()
    assert rows_of(runner.projection) == expected_rows(store)


def test_run_once_applies_one_batch_and_ignored_types_still_move_the_checkpoint(store, kind):
    fill(store, streams=1, per_stream=3)            # Added, Noise, Added, Noise, Added, Noise
    runner = ProjectionRunner(store, Tally(make_storage(kind)), batch_size=2)
    assert runner.run_once() == 2 and runner.position == 2
    assert [r["events"] for r in rows_of(runner.projection)] == [1]
    assert runner.run_once() == 2 and runner.run_once() == 2 and runner.run_once() == 0
    assert runner.position == 6
    assert [r["events"] for r in rows_of(runner.projection)] == [3]


def test_a_handler_failing_half_way_leaves_view_and_checkpoint_untouched_and_a_rerun_applies_it_once(store, kind):
    fill(store, streams=2, per_stream=3)            # 9 events; positions 4 and 5 are s0 and s1 of round 2
    projection = Tally(make_storage(kind), fail_at=5)
    runner = ProjectionRunner(store, projection, batch_size=3)
    assert runner.run_once() == 3
    before_rows, before_position = rows_of(projection), runner.position
    with pytest.raises(ProjectionError, match=r"position 5 .*checkpoint stays at 3") as failure:
        runner.run_once()                           # batch 4..6: applies 4, writes 5 and raises
    assert isinstance(failure.value.__cause__, RuntimeError)
    assert rows_of(projection) == before_rows and runner.position == before_position
    with pytest.raises(ProjectionError):
        runner.catch_up()                           # still failing: still nothing kept
    assert rows_of(projection) == before_rows and runner.position == before_position
    projection.fail_at = None                       # the bug is fixed
    assert runner.catch_up() == store.head() - before_position
    assert rows_of(projection) == expected_rows(store)  # every position exactly once, none skipped


def test_a_failing_decoder_is_reported_like_a_failing_handler(store, kind):
    fill(store, streams=1, per_stream=2)

    def decoder(recorded):
        if recorded.position == 3:
            raise ValueError("cannot decode")
        return recorded

    runner = ProjectionRunner(store, Tally(make_storage(kind)), decoder=decoder)
    with pytest.raises(ProjectionError, match="position 3 .*cannot decode"):
        runner.catch_up()
    assert runner.position == 0 and rows_of(runner.projection) == []


def test_lag_in_events_and_in_seconds_of_the_oldest_unapplied_event(store, clock, kind):
    start = clock.peek()
    for n in range(5):                              # one append per minute: recorded at start + n minutes
        store.append("s0", [NewEvent("Added", {"n": Decimal(n)})], expected_version=n)
    runner = ProjectionRunner(store, Tally(make_storage(kind)), batch_size=2)
    runner.run_once()                               # positions 1, 2 applied; 3 is the oldest unapplied
    lag = runner.lag(now=start + timedelta(minutes=10))
    assert (lag.view, lag.position, lag.head, lag.events) == ("tally", 2, 5, 3)
    assert lag.seconds == (10 - 2) * 60
    assert "3 events behind" in str(lag)
    runner.run_once()
    assert "1 event behind (at 4 of 5)" in str(runner.lag(now=start + timedelta(minutes=10)))
    runner.catch_up()
    caught_up = runner.lag(now=start + timedelta(minutes=10))
    assert (caught_up.events, caught_up.seconds) == (0, 0.0)


def test_lag_reads_the_runners_clock(store, clock, kind):
    store.append("s0", [NewEvent("Added", {"n": Decimal(1)})], expected_version=0)
    recorded_at = store.read_all()[0].recorded_at
    runner = ProjectionRunner(store, Tally(make_storage(kind)), clock=lambda: recorded_at + timedelta(seconds=42))
    assert runner.lag().seconds == 42


def test_wait_for_returns_once_a_background_runner_has_applied_the_write(store, kind):
    projection = Tally(make_storage(kind))
    with ProjectionRunner(store, projection).start(interval=5.0) as runner:
        fill(store, streams=1, per_stream=1)
        result = store.append("s9", [NewEvent("Added", {"n": Decimal("7.00")})], expected_version=0)
        assert runner.wait_for(result.position, timeout=10) >= result.position
        assert runner.has_reached(result.position)
        assert {"stream_id": "s9", "events": 1, "total": Decimal("7.00")}.items() <= rows_of(projection)[-1].items()


def test_wait_for_times_out_naming_the_view_the_position_asked_and_reached(store, kind):
    fill(store, streams=1, per_stream=1)
    runner = ProjectionRunner(store, Tally(make_storage(kind)), batch_size=1)
    runner.run_once()
    assert runner.wait_for(1, timeout=0) == 1       # already there: no waiting needed
    assert not runner.has_reached(2)
    with pytest.raises(TimeoutError) as timeout:
        runner.wait_for(2, timeout=0.05)
    message = str(timeout.value)
    assert "'tally'" in message and "position 2" in message and "at position 1" in message
    assert "runner.start()" in message


def test_wait_for_fails_fast_when_the_background_runner_died(store, kind):
    fill(store, streams=1, per_stream=1)
    runner = ProjectionRunner(store, Tally(make_storage(kind), fail_at=1)).start()
    with pytest.raises(ProjectionError, match="stopped at position 0 on an error") as failure:
        runner.wait_for(1, timeout=30)
    assert not isinstance(failure.value, TimeoutError)
    assert isinstance(runner.error, ProjectionError) and not runner.running
    runner.projection.fail_at = None
    runner.start()
    assert runner.wait_for(store.head(), timeout=10) == store.head()
    runner.stop()


def test_read_returns_the_answer_with_the_lag_it_was_read_at(store, kind):
    fill(store, streams=1, per_stream=2)
    runner = ProjectionRunner(store, Tally(make_storage(kind)), batch_size=1)
    runner.run_once()
    answer = runner.read(lambda: rows_of(runner.projection))
    assert answer.position == 1 and answer.lag.events == store.head() - 1
    assert [row["events"] for row in answer.value] == [1]


def test_two_runners_racing_on_one_view_never_apply_an_event_twice(backend, kind, tmp_path):
    store = new_store(backend)
    fill(store, streams=4, per_stream=5)
    projection = Tally(make_storage(kind))
    runners = [ProjectionRunner(store, projection, batch_size=3) for _ in range(2)]
    errors: list[BaseException] = []

    def work(runner):
        try:
            runner.catch_up()                       # conflicts are retried inside catch_up
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(runner,)) for runner in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert rows_of(projection) == expected_rows(store)
    store.close()


def test_bad_arguments_are_refused_clearly(store, kind):
    projection = Tally(make_storage(kind))
    with pytest.raises(ValueError, match="batch_size"):
        ProjectionRunner(store, projection, batch_size=0)
    with pytest.raises(TypeError, match="Projection"):
        ProjectionRunner(store, object())
    with pytest.raises(TypeError, match="decoder"):
        ProjectionRunner(store, projection, decoder="decode")
    runner = ProjectionRunner(store, projection)
    with pytest.raises(ValueError, match="position must be an int >= 0"):
        runner.wait_for(-1)
    with pytest.raises(ValueError, match="timeout"):
        runner.wait_for(1, timeout=-1)
    with pytest.raises(ProjectionError, match="switch_over"):
        runner.switch_over()


def test_a_projection_without_a_name_or_storage_is_refused():
    class Nameless(Tally):
        name = ""

    with pytest.raises(TypeError, match="name"):
        Nameless()
    with pytest.raises(TypeError, match="ViewStorage"):
        Tally(storage={"not": "a storage"})


def test_rows_lists_the_live_view_in_key_order_as_copies(store, kind):
    for stream_id in ["zeta", "alpha", "mid"]:                 # created in an order that is not the key order
        store.append(stream_id, [NewEvent("Added", {"n": Decimal("1.50")})], expected_version=0)
    projection = Tally(make_storage(kind))
    runner = ProjectionRunner(store, projection)
    assert projection.storage.rows() == []
    runner.catch_up()
    rows = projection.storage.rows()
    assert [row["stream_id"] for row in rows] == ["alpha", "mid", "zeta"]
    assert rows == expected_rows(store) and list(rows[0])[0] == "stream_id"
    rows[0]["events"] = 99                                     # a reader's copy: the view does not change
    assert projection.storage.rows() == expected_rows(store)


def test_an_unattached_sql_view_says_how_to_attach_it_when_asked_for_rows():
    with pytest.raises(ProjectionError, match="not attached"):
        SqlTable(key="k", columns={"k": "VARCHAR"}).rows()


@pytest.mark.parametrize("memory_kind", ["documents", "dataframe"])
def test_rows_of_a_memory_view_copy_the_lists_in_it(store, memory_kind):
    storage = Documents(key="stream_id") if memory_kind == "documents" else DataFrameTable("stream_id", ["stream_id", "tags"])
    storage.attach(store, "tags")
    with storage.batch() as batch:
        batch.rows.insert({"stream_id": "q", "tags": ["b"]})
        batch.rows.insert({"stream_id": "p", "tags": ["a"]})
        batch.position = 1
    rows = storage.rows()
    assert rows == [{"stream_id": "p", "tags": ["a"]}, {"stream_id": "q", "tags": ["b"]}]
    rows[0]["tags"].append("x")
    assert storage.rows()[0]["tags"] == ["a"]


@pytest.mark.parametrize("memory_kind", ["documents", "dataframe"])
def test_a_memory_view_refuses_a_batch_that_lost_a_race(store, memory_kind):
    kind = memory_kind
    fill(store, streams=1, per_stream=1)
    projection = Tally(make_storage(kind))
    ProjectionRunner(store, projection)
    storage = projection.storage
    with pytest.raises(ProjectionConflictError):
        with storage.batch() as slow:
            with storage.batch() as fast:           # commits first
                fast.rows.insert({"stream_id": "x", "events": 1})
                fast.position = 1
            slow.rows.insert({"stream_id": "y", "events": 1})
            slow.position = 1
    assert [row["stream_id"] for row in rows_of(projection)] == ["x"]


def test_sql_view_checkpoint_lives_in_the_checkpoints_table(store):
    fill(store, streams=1, per_stream=2)
    runner = ProjectionRunner(store, Tally())
    runner.catch_up()
    checkpoints = store.sql("SELECT name, position FROM checkpoints").to_dict("records")
    assert checkpoints == [{"name": "tally_1", "position": store.head()}]
    assert store.sql("SELECT count(*) AS n FROM tally")["n"][0] == 1  # readers use the stable view name


def test_changed_columns_are_reported_with_the_cure(store):
    fill(store, streams=1, per_stream=1)
    ProjectionRunner(store, Tally()).catch_up()
    changed = SqlTable(key="stream_id", columns={"stream_id": "VARCHAR", "events": "INTEGER"})
    runner = ProjectionRunner(store, Tally(changed))
    with pytest.raises(ProjectionError, match=r"has columns .* Rebuild it"):
        runner.run_once()


def test_sql_views_refuse_naive_datetimes_and_zoned_columns(store):
    fill(store, streams=1, per_stream=1)

    class Naive(Tally):
        def handle(self, event, recorded, view):
            view.insert({"stream_id": recorded.stream_id, "last_at": recorded.recorded_at.replace(tzinfo=None)})

    runner = ProjectionRunner(store, Naive())
    with pytest.raises(ProjectionError, match=r"tally.last_at: naive datetime"):
        runner.catch_up()
    assert runner.position == 0
    with pytest.raises(ValueError, match="use TIMESTAMP"):
        SqlTable(key="id", columns={"id": "VARCHAR", "at": "TIMESTAMPTZ"})
    with pytest.raises(ValueError, match="plain SQL identifier"):
        SqlTable(key="id", columns={"id": "VARCHAR", "drop table x; --": "VARCHAR"})


def test_a_runner_group_drives_its_runners_together(store):
    from esdemo import RunnerGroup

    fill(store, streams=2, per_stream=2)
    group = RunnerGroup(store, [Tally(make_storage("sql")), Tally(make_storage("documents"))], batch_size=2)
    assert [lag.events for lag in group.lag()] == [store.head()] * 2
    assert group.catch_up() == store.head()
    assert [lag.events for lag in group.lag()] == [0, 0]
    group.wait_for(store.head(), timeout=0)
    with pytest.raises(ValueError, match="at least one projection"):
        RunnerGroup(store, [])


def test_stop_ends_the_runner_thread_even_when_it_is_called_during_a_batch(store, monkeypatch):
    """The runner's wake-up is the subscription's: a stop() arriving while a batch runs must still end the thread."""
    fill(store, streams=1, per_stream=1)
    in_batch, release = threading.Event(), threading.Event()

    def block(recorded):
        in_batch.set()
        release.wait(10)

    before = set(threading.enumerate())
    runner = ProjectionRunner(store, Tally(on_event=block)).start(interval=60)
    assert in_batch.wait(10)
    (thread,) = set(threading.enumerate()) - before
    wake = store.wake_waiters

    def wake_while_the_batch_still_runs():
        wake()
        release.set()

    monkeypatch.setattr(store, "wake_waiters", wake_while_the_batch_still_runs)
    runner.stop(timeout=10)
    assert not thread.is_alive() and not runner.running
    assert runner.position == store.head()          # the batch it was in finished and committed


@pytest.mark.parametrize("amount, problem", [
    (Decimal("0.005"), r"3 decimal places"),                      # DuckDB rounded it to 0.01, SQLite kept it
    (Decimal("12345678901234567.00"), r"17 digits before the decimal point"),
])
def test_sql_views_refuse_a_decimal_that_does_not_fit_its_column_instead_of_rounding_it(store, amount, problem):
    """tally.total is DECIMAL(18, 2). Rounding on write made the view depend on the batch size (each batch
    reads back the rounded total), and made DuckDB and SQLite disagree: refused, on both backends."""
    store.append("s0", [NewEvent("Added", {"n": amount})], expected_version=0)
    runner = ProjectionRunner(store, Tally())
    with pytest.raises(ProjectionError, match=rf"tally\.total: .*{problem}.*DECIMAL\(18, 2\)"):
        runner.catch_up()
    assert runner.position == 0 and rows_of(runner.projection) == []


def test_sql_views_store_decimals_that_fit_their_column_exactly(store):
    amounts = [Decimal("1.500"), Decimal("-3"), Decimal("1E+2"), Decimal("9999999999999999.99"), Decimal("0.00")]
    for index, amount in enumerate(amounts):
        store.append(f"s{index}", [NewEvent("Added", {"n": amount})], expected_version=0)
    runner = ProjectionRunner(store, Tally())
    runner.catch_up()
    assert [row["total"] for row in rows_of(runner.projection)] == amounts


def test_event_types_given_as_one_string_is_refused_not_read_as_a_set_of_letters():
    """("Added") is the string "Added", not a tuple: read as a collection it is {'A', 'd', 'e'}, the projection
    wants no event at all, and its checkpoint silently moves past every one of them."""
    class MissingComma(Tally):
        event_types = ("Added")

    with pytest.raises(TypeError, match=r"event_types .*\('Added',\)"):
        MissingComma(make_storage("documents"))


@pytest.mark.parametrize("interval", [0, -1, float("nan")])
def test_a_runner_refuses_an_interval_that_would_make_it_spin(store, interval):
    runner = ProjectionRunner(store, Tally())
    with pytest.raises(ValueError, match="interval must be a number of seconds > 0"):
        runner.start(interval=interval)
    assert not runner.running


def test_wait_for_refuses_a_nan_timeout_that_would_never_run_out(store):
    fill(store, streams=1, per_stream=1)
    runner = ProjectionRunner(store, Tally())
    with pytest.raises(ValueError, match="timeout must be a number of seconds >= 0"):
        runner.wait_for(1, timeout=float("nan"))


def test_sql_view_timestamps_before_the_year_1000_round_trip(backend):
    when = datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
    with new_store(backend, clock=lambda: when) as store:
        store.append("s0", [NewEvent("Added", {"n": Decimal("1.00")})], expected_version=0)
        runner = ProjectionRunner(store, Tally())
        runner.catch_up()
        assert [row["last_at"] for row in rows_of(runner.projection)] == [when]


@pytest.mark.parametrize("memory_kind", ["documents", "dataframe"])
def test_a_failed_batch_that_changed_a_list_in_place_leaves_the_memory_view_untouched(store, memory_kind):
    """A handler that appends to a list it got from view.get() must be changing its own copy: if the
    batch then fails, the live view must not show the change (and the rerun must not apply it twice)."""
    class Tags(Projection):
        name = "tags"

        def __init__(self, storage):
            super().__init__(storage)
            self.fail_at = None

        def handle(self, event, recorded, view):
            row = view.get(recorded.stream_id)
            if row is None:
                view.insert({"stream_id": recorded.stream_id, "tags": [event.data["tag"]]})
            else:
                row["tags"].append(event.data["tag"])
                view.update(recorded.stream_id, tags=row["tags"])
            if recorded.position == self.fail_at:
                raise RuntimeError("handler bug after the change")

    def tags_of(storage):
        return storage.get("p")["tags"] if memory_kind == "documents" else storage.frame.loc["p", "tags"]

    storage = Documents(key="stream_id") if memory_kind == "documents" else DataFrameTable("stream_id", ["stream_id", "tags"])
    for version, tag in enumerate("ab"):   # two appends: a batch never splits one append
        store.append("p", [NewEvent("Tagged", {"tag": tag})], expected_version=version)
    projection = Tags(storage)
    runner = ProjectionRunner(store, projection, batch_size=1)
    runner.run_once()
    projection.fail_at = 2
    with pytest.raises(ProjectionError):
        runner.run_once()
    assert runner.position == 1 and tags_of(storage) == ["a"]
    projection.fail_at = None
    runner.catch_up()
    assert tags_of(storage) == ["a", "b"]


def test_stop_takes_effect_after_the_batch_in_flight_not_after_the_whole_backlog(store):
    fill(store, streams=1, per_stream=15)                  # 30 events, 15 of them handled
    started = threading.Event()

    def slow(recorded):
        started.set()
        time.sleep(0.4)                                   # 15 handled events: 6 s of backlog

    before = set(threading.enumerate())
    runner = ProjectionRunner(store, Tally(on_event=slow), batch_size=2).start(interval=60)
    assert started.wait(10)
    (thread,) = set(threading.enumerate()) - before
    runner.stop(timeout=2)
    assert not thread.is_alive() and not runner.running
    stopped_at = runner.position
    assert stopped_at < store.head()
    assert runner.catch_up() == store.head() - stopped_at
    assert rows_of(runner.projection) == expected_rows(store)


def test_a_runner_whose_handler_hangs_reports_stop_timing_out_and_never_runs_twice(store):
    """stop(timeout) with a hanging handler raises StillRunningError; running stays True; no second thread."""
    from esdemo.store.errors import StillRunningError

    fill(store, streams=1, per_stream=1)
    in_batch, release = threading.Event(), threading.Event()

    def hang(recorded):
        in_batch.set()
        release.wait(30)

    before = set(threading.enumerate())
    runner = ProjectionRunner(store, Tally(on_event=hang)).start(interval=60)
    assert in_batch.wait(30)
    with pytest.raises(StillRunningError, match="still running"):
        runner.stop(timeout=0.05)
    assert runner.running
    runner.start()
    assert len(set(threading.enumerate()) - before) == 1
    release.set()
    runner.stop(timeout=30)
    assert not runner.running and runner.position == store.head()
