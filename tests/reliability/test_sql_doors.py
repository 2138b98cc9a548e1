"""Issue 11, case 1: no SQL door of the store can rewrite the log.

The doors are ``query()``, ``sql()`` (read-only), ``transaction()`` and
``connection`` (they write the tables next to the log). Through every one of
them, ``events`` and ``streams`` stay exactly as ``append`` left them, the
refusal is the package's own error, and appending still works afterwards.
"""

from __future__ import annotations

import contextlib

import pytest
from store_factory import new_store

from esdemo import EventStore, NewEvent
from esdemo.store.errors import EventStoreError, ImmutableEventsError, ReadOnlyQueryError

FORGE_DATA = ("INSERT OR REPLACE INTO events SELECT position, stream_id, version, type, schema_version, "
              "'{\"amount\": 999}', metadata, event_id, recorded_at FROM events WHERE position = 1")
FORGE_NEW = ("INSERT INTO events SELECT position + 10, stream_id, version + 10, type, schema_version, data, metadata, "
             "{new_id}, recorded_at FROM events WHERE position = 1")

# Statements that would change the log, on any backend (dialect differences as {sqlite} / {duckdb} / {postgres}).
ATTACKS = {
    "insert or replace an event": FORGE_DATA,
    "insert a forged event": FORGE_NEW,
    "update an event": "UPDATE events SET data = '{\"amount\": 999}' WHERE position = 1",
    "delete an event": "DELETE FROM events WHERE position = 1",
    "reset a stream's version": "UPDATE streams SET version = 0",
    "delete a stream": "DELETE FROM streams",
    "invent a stream": "INSERT INTO streams VALUES ('Ghost-1', 5)",
    "drop the update trigger": {"sqlite": "DROP TRIGGER events_refuse_update",
                                "duckdb": "DROP TRIGGER events_refuse_update ON events",
                                "postgres": "DROP TRIGGER events_refuse_change ON events"},
    "drop the streams guard": {"sqlite": "DROP TABLE streams",
                               "duckdb": "DROP TRIGGER streams_refuse_update ON streams",
                               "postgres": "DROP TRIGGER streams_writers_only ON streams"},
    "drop the events table": "DROP TABLE events",
    "alter the events table": "ALTER TABLE events ADD COLUMN forged INTEGER",
    "rename the streams table": "ALTER TABLE streams RENAME TO streams_old",
    "shadow events with a temp table": "CREATE TEMP TABLE events (position INTEGER)",
    "add a trigger to events": {
        "sqlite": "CREATE TRIGGER sneaky AFTER INSERT ON events BEGIN UPDATE streams SET version = 0; END",
        "duckdb": "CREATE TRIGGER sneaky AFTER INSERT ON events FOR EACH STATEMENT UPDATE streams SET version = 0",
        "postgres": "CREATE TRIGGER sneaky AFTER INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION sneaky()",
    },
    "repoint the store's SQL": {"sqlite": "PRAGMA writable_schema = 1", "duckdb": "SET search_path = 'temp'",
                                "postgres": "SET search_path = pg_temp"},
}


def _statement(attack: str, backend: str) -> str:
    statement = ATTACKS[attack]
    if isinstance(statement, dict):
        statement = statement[backend]
    new_id = {"sqlite": "'00000000-0000-4000-8000-000000000099'", "postgres": "gen_random_uuid()"}.get(backend, "uuid()")
    statement = statement.replace("{new_id}", new_id)
    if backend == "postgres" and statement.startswith("INSERT OR REPLACE INTO events"):
        statement = statement.replace("INSERT OR REPLACE INTO", "INSERT INTO") + (
            " ON CONFLICT (position) DO UPDATE SET data = excluded.data")
    return statement


def _snapshot(store: EventStore) -> tuple:
    events = [(e.position, e.stream_id, e.version, e.type, e.data, e.event_id, e.recorded_at) for e in store.read_all()]
    return events, store.query("SELECT stream_id, version FROM streams ORDER BY stream_id")


@pytest.fixture
def logged(store, backend):
    if backend == "postgres":   # a function for the trigger attacks to call (PostgreSQL triggers run functions)
        with store.transaction() as cur:
            cur.execute("CREATE FUNCTION sneaky() RETURNS trigger LANGUAGE plpgsql AS "
                        "$$ BEGIN UPDATE streams SET version = 0; RETURN NULL; END $$")
    store.append("Account-1", [NewEvent("Deposited", {"amount": 10}), NewEvent("Deposited", {"amount": 20})],
                 expected_version=0)
    store.append("Account-2", [NewEvent("Deposited", {"amount": 5})], expected_version=0)
    with store.transaction() as cur:
        cur.execute("CREATE TABLE balances (account VARCHAR PRIMARY KEY, amount INTEGER)")
    return store


def _through(door: str, store: EventStore, statement: str) -> None:
    if door == "connection":
        store.connection.execute(statement)
    elif door == "transaction":
        with store.transaction() as cur:
            cur.execute("INSERT INTO balances VALUES ('Account-1', 30)")   # rolled back with the refusal
            cur.execute(statement)
    elif door == "query":
        store.query(statement)
    else:
        store.sql(statement)


@pytest.mark.parametrize("door", ["query", "sql", "transaction", "connection"])
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_no_door_changes_the_log(logged, backend, door, attack):
    store, before = logged, _snapshot(logged)
    expected = ReadOnlyQueryError if door in ("query", "sql") else ImmutableEventsError
    with pytest.raises(expected) as refused:
        _through(door, store, _statement(attack, backend))
    message = str(refused.value)
    assert ("store.transaction()" in message) and ("append" in message)   # says what to do instead
    assert _snapshot(store) == before
    assert store.query("SELECT count(*) FROM balances") == [(0,)]          # the whole transaction rolled back
    # the store's own write path still works, and continues the log where it was
    result = store.append("Account-1", [NewEvent("Deposited", {"amount": 1})], expected_version=2)
    assert (result.version, result.position) == (3, 4)
    assert [e.position for e in store.read_all()] == [1, 2, 3, 4]


def test_the_error_belongs_to_the_package(logged):
    with pytest.raises(EventStoreError, match="(?i)immutable.*correcting event"):
        logged.connection.execute("UPDATE streams SET version = 0")


@pytest.mark.parametrize("door", ["transaction", "connection"])
def test_write_doors_still_write_the_tables_next_to_the_log(logged, door):
    if door == "transaction":
        with logged.transaction() as cur:
            cur.execute("INSERT INTO balances VALUES ('Account-1', 30)")
            cur.execute("UPDATE balances SET amount = amount + 1")
    else:
        logged.connection.execute("INSERT INTO balances VALUES ('Account-1', 31)")
    with logged.transaction() as cur:   # DDL on other tables is fine too
        cur.execute("CREATE TABLE balances_copy AS SELECT * FROM balances")
        cur.execute("DROP TABLE balances")
        cur.execute("ALTER TABLE balances_copy RENAME TO balances")
    assert logged.query("SELECT account, amount FROM balances") == [("Account-1", 31)]


def test_query_reads_everything(logged):
    assert logged.query("SELECT count(*) FROM events") == [(3,)]
    assert list(logged.sql("SELECT stream_id, version FROM streams ORDER BY stream_id")["version"]) == [2, 1]
    with logged.transaction() as cur:
        cur.execute("INSERT INTO balances VALUES ('Account-1', 30)")
    assert logged.query("SELECT amount FROM balances") == [(30,)]


def test_a_statement_the_append_path_sent_cannot_be_replayed_through_a_door(logged):
    """SQLite compiles a statement once and caches it by its text: the append's own UPDATE of streams,
    sent again word for word through a door, must not reuse the compiled (authorized) one."""
    logged.append("Account-1", [NewEvent("Deposited", {"amount": 1})], expected_version=2)   # an UPDATE of streams
    for statement in ("UPDATE streams SET version = ? WHERE stream_id = ?",
                      "INSERT INTO streams (stream_id, version) VALUES (?, ?)"):
        with pytest.raises(ImmutableEventsError):
            logged.connection.execute(statement, (0, "Account-1") if "UPDATE" in statement else ("Ghost", 1))
    assert logged.stream_version("Account-1") == 3


def test_query_cannot_reuse_a_write_compiled_through_a_write_door(logged):
    logged.connection.execute("INSERT INTO balances VALUES ('Account-9', 1)")
    logged.connection.execute("DELETE FROM balances")
    for statement in ("INSERT INTO balances VALUES ('Account-9', 1)", "DELETE FROM balances"):
        with pytest.raises(ReadOnlyQueryError):
            logged.query(statement)
    assert logged.query("SELECT count(*) FROM balances") == [(0,)]


def test_query_cannot_leave_a_transaction_open(logged, backend):
    with logged.transaction() as cur:   # compiles BEGIN ... (cached on SQLite)
        cur.execute("INSERT INTO balances VALUES ('Account-1', 1)")
    for statement in ("BEGIN", "BEGIN IMMEDIATE" if backend == "sqlite" else "BEGIN TRANSACTION"):
        with pytest.raises(ReadOnlyQueryError):
            logged.query(statement)
    assert logged.append("Account-2", [NewEvent("Deposited", {})], expected_version=1).version == 2


def test_the_connection_keeps_its_guard(logged, backend):
    if backend == "sqlite":
        with pytest.raises(ImmutableEventsError):
            logged.connection.set_authorizer(None)
        with pytest.raises(ImmutableEventsError):
            logged.connection.deserialize(b"")
        cursor = logged.connection.cursor()
    else:
        cursor = logged.connection.cursor()   # a new connection handed out by the door is guarded too
    with pytest.raises(ImmutableEventsError):
        cursor.execute("UPDATE streams SET version = 0")
    assert logged.stream_version("Account-1") == 2


def test_a_trigger_on_a_view_table_cannot_write_the_log(logged, backend):
    """A trigger's body runs with the rights of whoever fires it: a door, not the append path."""
    body = "UPDATE streams SET version = 0"
    create = {"sqlite": f"CREATE TRIGGER sneaky AFTER INSERT ON balances BEGIN {body}; END",
              "duckdb": f"CREATE TRIGGER sneaky AFTER INSERT ON balances FOR EACH STATEMENT {body}",
              "postgres": "CREATE TRIGGER sneaky AFTER INSERT ON balances FOR EACH STATEMENT EXECUTE FUNCTION sneaky()",
              }[backend]
    with contextlib.suppress(ImmutableEventsError):   # may already be refused when created
        logged.connection.execute(create)
    with pytest.raises(ImmutableEventsError):
        logged.connection.execute("INSERT INTO balances VALUES ('Account-1', 1)")
    assert logged.stream_version("Account-1") == 2


def test_bulk_load_is_the_one_door_that_writes_events_and_it_checks_the_result(backend):
    generate = {
        "duckdb": "INSERT INTO events SELECT i + 1, 'S-' || CAST(i % 2 AS VARCHAR), i // 2 + 1, 'E', 1, '{}', '{}', "
                  "uuid(), TIMESTAMP '2024-01-01' FROM range(?) AS r(i)",
        "sqlite": "WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i + 1 < ?) "
                  "INSERT INTO events SELECT i + 1, 'S-' || (i % 2), i / 2 + 1, 'E', 1, '{}', '{}', "
                  "'00000000-0000-4000-8000-' || printf('%012x', i), '2024-01-01 00:00:00.000000' FROM r",
        "postgres": "INSERT INTO events SELECT i + 1, 'S-' || (i % 2), i / 2 + 1, 'E', 1, '{}', '{}', "
                    "gen_random_uuid(), TIMESTAMP '2024-01-01' FROM generate_series(0, ? - 1) AS r(i)",
    }[backend]
    with new_store(backend) as store:
        assert store.bulk_load(generate, [6]) == 6
        assert (store.stream_version("S-0"), store.stream_version("S-1")) == (3, 3)
        assert store.append("S-0", [NewEvent("E", {})], expected_version=3).position == 7
        with pytest.raises(EventStoreError, match="continue"):   # new streams, but a hole after the head
            store.bulk_load(generate.replace("i + 1, 'S-'", "i + 100, 'T-'").replace("%012x', i)", "%012x', i + 99)"),
                            [6])
        with pytest.raises(EventStoreError, match="clash"):      # the same positions and versions again
            store.bulk_load(generate, [6])
        assert store.head() == 7
        with pytest.raises(ValueError, match="INSERT INTO events"):
            store.bulk_load("UPDATE streams SET version = 0")


MORE_WAYS_IN = {
    "duckdb": [
        "TRUNCATE events",
        "TRUNCATE streams",
        "MERGE INTO streams USING (SELECT 'Account-1' AS stream_id) AS src ON streams.stream_id = src.stream_id "
        "WHEN MATCHED THEN UPDATE SET version = 0",
        "WITH x AS (SELECT 1) UPDATE streams SET version = 0",
        "INSERT INTO events BY NAME SELECT 9 AS position, 'Account-1' AS stream_id, 9 AS version, 'E' AS type, "
        "1 AS schema_version, '{}' AS data, '{}' AS metadata, uuid() AS event_id, now()::TIMESTAMP AS recorded_at",
        "COPY events FROM '{csv}'",
        "CREATE OR REPLACE TABLE streams AS SELECT 'Account-1' AS stream_id, 0 AS version",
    ],
    "sqlite": [
        "REPLACE INTO events SELECT * FROM events",
        "WITH x AS (SELECT 1) UPDATE streams SET version = 0",
        "INSERT OR IGNORE INTO streams VALUES ('Ghost-1', 1)",
        "CREATE TEMP TRIGGER sneaky AFTER INSERT ON main.events BEGIN UPDATE streams SET version = 0; END",
        "CREATE TEMP VIEW streams AS SELECT 'Account-1' AS stream_id, 0 AS version",
        "PRAGMA main.writable_schema = 1",
    ],
    "postgres": [
        "TRUNCATE events",
        "TRUNCATE streams",
        "MERGE INTO streams USING (SELECT 'Account-1' AS stream_id) AS src ON streams.stream_id = src.stream_id "
        "WHEN MATCHED THEN UPDATE SET version = 0",
        "WITH x AS (SELECT 1) UPDATE streams SET version = 0",
        "INSERT INTO streams VALUES ('Account-1', 0) ON CONFLICT (stream_id) DO UPDATE SET version = 0",
        "CREATE TEMP VIEW streams AS SELECT 'Account-1' AS stream_id, 0 AS version",
        "SELECT set_config('esdemo.log_writer', 'on', false); UPDATE streams SET version = 0",
    ],
}


@pytest.mark.parametrize("index", range(7))
def test_more_ways_in_through_a_file_backed_store(backend, store_file, tmp_path, index):
    if index >= len(MORE_WAYS_IN[backend]):
        pytest.skip(f"{backend} has {len(MORE_WAYS_IN[backend])} of these")
    with EventStore(store_file, backend=backend) as store:
        store.append("Account-1", [NewEvent("Deposited", {"amount": 10})], expected_version=0)
        before = _snapshot(store)
        csv = tmp_path / "forged.csv"
        if backend == "duckdb":
            store.connection.execute(
                f"COPY (SELECT 5 AS position, 'Account-1' AS stream_id, 5 AS version, 'E' AS type, 1 AS schema_version, "
                f"'{{}}' AS data, '{{}}' AS metadata, uuid() AS event_id, now()::TIMESTAMP AS recorded_at) TO '{csv}'")
        with pytest.raises(ImmutableEventsError):
            store.connection.execute(MORE_WAYS_IN[backend][index].replace("{csv}", str(csv)))
        assert _snapshot(store) == before
        assert store.append("Account-1", [NewEvent("Deposited", {})], expected_version=1).position == 2


def test_duckdb_relational_api_meets_the_triggers_too(backend, logged):
    if backend != "duckdb":
        pytest.skip("DuckDB's Python relational API")
    with pytest.raises(Exception, match="UPDATE on streams"):
        logged.connection.table("streams").update({"version": 0})
    assert logged.stream_version("Account-1") == 2


@pytest.mark.parametrize("smuggled", [
    "; UPDATE streams SET version = 0",
    "; DROP TABLE events",
    " ON CONFLICT DO UPDATE SET data = '{\"amount\": 999}'",
])
def test_bulk_load_runs_one_insert_and_nothing_else(logged, smuggled):
    before = _snapshot(logged)
    insert = ("INSERT INTO events SELECT position, stream_id, version, type, schema_version, data, metadata, "
              "event_id, recorded_at FROM events WHERE position = 1")
    with pytest.raises((ValueError, EventStoreError)):
        logged.bulk_load(insert + smuggled)
    assert _snapshot(logged) == before


def test_query_may_read_the_schema_through_table_valued_pragmas_but_still_not_write_it(backend, tmp_path):
    """A view checks its columns with SELECT ... FROM pragma_table_info(...) through store.query (read-only)."""
    from esdemo import EventStore, ReadOnlyQueryError

    if backend != "sqlite":
        pytest.skip("pragma_table_info is SQLite's")
    with EventStore(backend="sqlite") as store:
        with store.transaction() as cur:
            cur.execute("CREATE TABLE my_view (id INTEGER, name TEXT)")
        assert [r[0] for r in store.query("SELECT name FROM pragma_table_info(?) ORDER BY cid", ["my_view"])] == ["id", "name"]
        with pytest.raises(ReadOnlyQueryError):
            store.query("UPDATE sqlite_master SET sql = 'x' WHERE name = 'events'")
        with pytest.raises(ReadOnlyQueryError):
            store.query("PRAGMA writable_schema = 1")
