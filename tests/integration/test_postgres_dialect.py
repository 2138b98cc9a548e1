"""What PostgreSQL spells differently: ``?`` placeholders through the store's doors, JSON operators."""

from __future__ import annotations

import pytest
from store_factory import new_store, require_postgres

from esdemo import NewEvent, read_conversation
from esdemo.store.backends.postgres import to_pyformat


@pytest.fixture
def pg_store():
    require_postgres()
    with new_store("postgres") as store:
        yield store


def test_question_marks_become_placeholders_outside_quotes_and_percent_signs_stay_literal():
    assert to_pyformat("SELECT ? WHERE a LIKE '50%?' AND b = ? -- why?") == \
        "SELECT %s WHERE a LIKE '50%%?' AND b = %s -- why?"
    assert to_pyformat('SELECT "odd?name" FROM t WHERE x = ?') == 'SELECT "odd?name" FROM t WHERE x = %s'


def test_the_doors_take_question_marks_and_percent_literals(pg_store):
    pg_store.append("a", [NewEvent("E", {"label": "50% off?"})], expected_version=0)
    assert pg_store.query("SELECT data ->> 'label' FROM events WHERE stream_id = ? AND type LIKE 'E%'", ["a"]) == [
        ("50% off?",)]
    assert pg_store.sql("SELECT count(*) AS n FROM events WHERE type = ?", ["E"])["n"].tolist() == [1]
    with pg_store.transaction() as cur:
        cur.execute("CREATE TABLE notes (k TEXT PRIMARY KEY, v TEXT)")
        cur.executemany("INSERT INTO notes VALUES (?, ?)", [("a", "1%"), ("b", "?")])
    assert pg_store.query("SELECT k, v FROM notes ORDER BY k") == [("a", "1%"), ("b", "?")]


def test_a_conversation_is_found_by_its_correlation_id(pg_store):
    ids = ["11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"]
    for n, correlation in enumerate([ids[0], ids[1], ids[0]]):
        pg_store.append(f"s{n}", [NewEvent("E", {"n": n}, metadata={"correlation_id": correlation})],
                        expected_version=0)
    assert [e.data["n"] for e in read_conversation(pg_store, ids[0])] == [0, 2]
