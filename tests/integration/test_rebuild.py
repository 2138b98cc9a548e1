"""Blue/green rebuilds: a new generation is filled beside the live one, then switched to in one commit."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from projection_kit import COLUMNS, Tally, expected_rows, fill, make_storage, rows_of
from store_factory import new_store

from esdemo import NewEvent
from esdemo.read.projection import ProjectionError
from esdemo.read.projection_runner import ProjectionRunner
from esdemo.read.rebuild import rebuild, rebuild_set_based
from esdemo.read.sql_views import SqlTable

TALLY_SQL = """
    SELECT stream_id, count(*) AS events,
           sum(CAST(data->>'$.n."$decimal"' AS DECIMAL(18, 2))) AS total,
           string_agg(CAST(position AS VARCHAR), ',' ORDER BY position) AS positions,
           arg_max(recorded_at, position) AS last_at
    FROM {events} WHERE type = 'Added' GROUP BY stream_id
"""


def tables(store) -> set[str]:
    if store.backend == "duckdb":
        sql = "SELECT table_name AS name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
    elif store.backend == "postgres":
        sql = ("SELECT table_name AS name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
               "AND table_schema = current_schema()")
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    return set(store.sql(sql)["name"])


def built(store, kind) -> Tally:
    fill(store)
    projection = Tally(make_storage(kind))
    ProjectionRunner(store, projection).catch_up()
    return projection


def test_rebuild_replays_everything_into_a_new_generation_and_switches_to_it(store, kind):
    projection = built(store, kind)
    old = projection.storage.live_target
    report = rebuild(store, projection, batch_size=4)
    assert report.old_target == old and report.new_target == projection.storage.live_target != old
    assert report.events == report.position == store.head() and report.method == "per-event"
    assert projection.storage.position() == store.head()
    assert rows_of(projection) == expected_rows(store)
    if kind == "sql":
        assert (report.old_target, report.new_target) == ("tally_1", "tally_2")
        assert "tally_1" not in tables(store) and "tally_2" in tables(store)      # step 4: the old table is gone
        assert set(store.sql("SELECT name FROM checkpoints")["name"]) == {"tally_2"}


def test_step_by_step_readers_see_the_old_view_until_the_switch(store, kind):
    """The four steps done by hand, with reads in between: nothing half-built is ever visible."""
    projection = built(store, kind)
    old_rows, storage = rows_of(projection), projection.storage
    target = storage.new_target()                                         # 1. create
    runner = ProjectionRunner(store, projection, batch_size=3, target=target)
    runner.run_once()                                                     # 2. replay (partly)
    assert runner.position == 3 and storage.position(target) == 3
    assert rows_of(projection) == old_rows
    fill(store, per_stream=2, start=4)                                    # writes arrive meanwhile
    runner.catch_up()
    assert rows_of(projection) == old_rows                                # still the old, complete view
    runner.switch_over()                                                  # 3. + 4. one commit
    assert storage.live_target == target
    assert rows_of(projection) == expected_rows(store) and storage.position() == store.head()


def test_events_appended_after_the_replay_are_applied_by_the_switch(store, kind):
    projection = built(store, kind)
    storage = projection.storage
    runner = ProjectionRunner(store, projection, target=storage.new_target())
    runner.catch_up()
    store.append("s0", [NewEvent("Added", {"n": Decimal("100.00")})], expected_version=4)
    assert runner.switch_over() == 1
    assert rows_of(projection) == expected_rows(store)


def test_the_live_runner_continues_on_the_new_generation(store, kind):
    projection = built(store, kind)
    live = ProjectionRunner(store, projection)
    rebuild(store, projection)
    fill(store, per_stream=1, start=4)
    assert live.catch_up() == 4
    assert rows_of(projection) == expected_rows(store)


def test_a_failed_rebuild_drops_its_generation_and_leaves_the_live_view_alone(store, kind):
    projection = built(store, kind)
    old_rows, old_target = rows_of(projection), projection.storage.live_target
    broken = Tally(projection.storage, fail_at=6)
    with pytest.raises(ProjectionError, match="position 6"):
        rebuild(store, broken, batch_size=2)
    assert projection.storage.live_target == old_target and rows_of(projection) == old_rows
    if kind == "sql":
        assert tables(store) >= {"tally_1"} and "tally_2" not in tables(store)
        assert ProjectionRunner(store, projection).catch_up() == 0


def test_rebuild_fixes_a_view_whose_columns_changed(store):
    projection = built(store, "sql")

    class TallyV2(Tally):
        def default_storage(self):
            return SqlTable(key="stream_id", columns={**COLUMNS, "first_at": "TIMESTAMP"})

        def handle(self, event, recorded, view):
            first = recorded.stream_id not in view
            super().handle(event, recorded, view)
            if first:
                view.update(recorded.stream_id, first_at=recorded.recorded_at)

    v2 = TallyV2()
    with pytest.raises(ProjectionError, match="Rebuild it"):
        ProjectionRunner(store, v2).run_once()
    rebuild(store, v2)
    with pytest.raises(ProjectionError, match="Rebuild it"):   # the old code, still running, is stopped too
        ProjectionRunner(store, projection).run_once()
    rows = rows_of(v2)
    assert [row["first_at"] for row in rows] == [store.read(row["stream_id"])[0].recorded_at for row in rows]
    assert ProjectionRunner(store, v2).catch_up() == 0


def test_progress_bar_is_optional(store, capsys):
    projection = built(store, "sql")
    rebuild(store, projection)
    assert capsys.readouterr().err == ""
    rebuild(store, projection, progress=True, batch_size=5)
    assert "tally" in capsys.readouterr().err


def test_set_based_and_per_event_rebuilds_give_identical_tables(store):
    if store.backend != "duckdb":
        pytest.skip("the set-based SQL uses DuckDB's JSON operators and aggregates")
    projection = built(store, "sql")
    rebuild(store, projection)
    per_event = rows_of(projection)
    report = rebuild_set_based(store, projection, TALLY_SQL)
    set_based = rows_of(projection)
    assert set_based == per_event == expected_rows(store)
    assert report.method == "set-based" and report.position == projection.storage.position() == store.head()
    assert (report.old_target, report.new_target) == ("tally_2", "tally_3")
    fill(store, per_stream=1, start=4)
    assert ProjectionRunner(store, projection).catch_up() == 4          # the live runner goes on from the head
    assert rows_of(projection) == expected_rows(store)


def test_set_based_rebuild_refuses_what_it_cannot_do(store):
    with pytest.raises(TypeError, match="rebuild\\(\\) instead"):
        rebuild_set_based(store, Tally(make_storage("documents")), TALLY_SQL)
    with pytest.raises(ValueError, match="rebuild_sql"):
        rebuild_set_based(store, Tally())
    projection = built(store, "sql")
    with pytest.raises(Exception):
        rebuild_set_based(store, projection, "SELECT no_such_column FROM {events}")
    assert projection.storage.live_target == "tally_1" and "tally_2" not in tables(store)


def test_readers_see_the_old_view_while_a_rebuild_is_paused_inside_a_batch(kind):
    """DuckDB lets readers and a writer work at once (MVCC): a reader mid-rebuild sees the complete old view.
    (SQLite's single connection would make the reader wait for the batch instead.)"""
    from esdemo import EventStore

    store = EventStore()
    projection = built(store, kind)
    old_rows = rows_of(projection)
    reached, release, reports = threading.Event(), threading.Event(), []

    def pause(recorded):
        if recorded.position == 7:
            reached.set()
            release.wait(10)

    projection.on_event = pause
    worker = threading.Thread(target=lambda: reports.append(rebuild(store, projection, batch_size=3)))
    worker.start()
    assert reached.wait(10)
    assert rows_of(projection) == old_rows
    fill(store, per_stream=1, start=4)                                   # writes during the rebuild
    assert rows_of(projection) == old_rows
    release.set()
    worker.join(10)
    assert reports and rows_of(projection) == expected_rows(store)
    store.close()


def test_a_reader_transaction_keeps_its_snapshot_across_the_switch(backend):
    """A query that started before the switch finishes on the old table, even after it was dropped (DuckDB),
    or the switch waits for it (SQLite). Either way it never sees a mix of old and new."""

    store = new_store(backend)
    projection = built(store, "sql")
    fill(store, per_stream=1, start=4)                                   # the rebuild will have more rows
    in_snapshot, read_again, seen = threading.Event(), threading.Event(), []

    def reader():
        with store.transaction() as cur:
            seen.append(cur.execute("SELECT count(*), sum(events) FROM tally").fetchone())
            in_snapshot.set()
            read_again.wait(10)
            seen.append(cur.execute("SELECT count(*), sum(events) FROM tally").fetchone())

    thread = threading.Thread(target=reader)
    thread.start()
    assert in_snapshot.wait(10)
    rebuilder = threading.Thread(target=rebuild, args=(store, projection))
    rebuilder.start()
    rebuilder.join(timeout=20 if backend == "duckdb" else 0.5)
    if backend == "duckdb":
        assert not rebuilder.is_alive(), "DuckDB switched while the reader's snapshot was open"
    read_again.set()
    thread.join(10)
    rebuilder.join(20)
    assert seen[0] == seen[1]
    assert tuple(store.sql("SELECT count(*) AS n, sum(events) AS e FROM tally").iloc[0]) != seen[0]
    assert rows_of(projection) == expected_rows(store)
    store.close()


def test_a_live_batch_that_loses_to_the_switch_is_retried_on_the_new_table():
    """DuckDB: a live runner's batch is paused while a rebuild switches tables and drops the old one.
    Its commit then conflicts; nothing of it is kept, and catch_up retries it on the new table."""
    from esdemo import EventStore

    store = EventStore()
    projection = built(store, "sql")
    fill(store, per_stream=1, start=4)
    live_projection = Tally()
    live = ProjectionRunner(store, live_projection, batch_size=100)
    paused, release, outcome = threading.Event(), threading.Event(), []

    def pause_once(recorded):
        if not paused.is_set():
            paused.set()
            release.wait(10)

    live_projection.on_event = pause_once
    worker = threading.Thread(target=lambda: outcome.append(live.catch_up()))
    worker.start()
    assert paused.wait(10)
    rebuild(store, projection)                                           # switches while the live batch is open
    release.set()
    worker.join(10)
    assert outcome == [0]                                                # the retry found nothing left to do
    assert rows_of(projection) == expected_rows(store)
    assert ProjectionRunner(store, live_projection).position == store.head()
    store.close()


def test_a_set_based_query_with_duplicate_keys_fails_at_once_with_the_databases_message(store):
    if store.backend != "duckdb":
        pytest.skip("DuckDB SQL")
    projection = built(store, "sql")
    duplicated = TALLY_SQL + " UNION ALL " + TALLY_SQL
    with pytest.raises(Exception, match="(?i)duplicate key") as failure:
        rebuild_set_based(store, projection, duplicated)
    assert not isinstance(failure.value, ProjectionError)      # not mistaken for a race and retried
    assert projection.storage.live_target == "tally_1" and "tally_2" not in tables(store)


@pytest.mark.parametrize("bad", [{"batch_size": 0}, {"decoder": "not a function"}])
def test_a_rebuild_refused_for_bad_arguments_leaves_no_generation_behind(store, bad):
    projection = built(store, "sql")
    before_tables = tables(store)
    before_checkpoints = store.sql("SELECT name, position FROM checkpoints ORDER BY name").to_dict("records")
    with pytest.raises((ValueError, TypeError)):
        rebuild(store, projection, **bad)
    assert tables(store) == before_tables
    assert store.sql("SELECT name, position FROM checkpoints ORDER BY name").to_dict("records") == before_checkpoints
    assert rebuild(store, projection).old_target == "tally_1"          # and the next rebuild works as usual
