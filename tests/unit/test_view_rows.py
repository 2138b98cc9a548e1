"""ViewRows: the insert/update vocabulary of the seed's projection, as a batch's working set."""

from __future__ import annotations

import copy

import pytest

from esdemo.read.view_rows import ViewRows


def rows(**kwargs) -> ViewRows:
    return ViewRows("order_summary", "order_id", ["order_id", "status", "total"], **kwargs)


def test_insert_update_delete_and_the_changes_handed_to_the_storage():
    view = rows(load={"old": {"order_id": "old", "status": "paid", "total": 5}}.get)
    view.insert({"order_id": "12345", "status": "created"})
    assert view["12345"] == {"order_id": "12345", "status": "created", "total": None}   # missing columns: None
    assert view.update("12345", total=25) == {"order_id": "12345", "status": "created", "total": 25}
    view.delete("old")
    written, removed = view.changes()
    assert written == [{"order_id": "12345", "status": "created", "total": 25}] and removed == ["old"]
    assert len(view) == 2 and "old" not in view and "12345" in view


def test_rows_are_loaded_once_and_absent_rows_are_remembered():
    calls = []

    def load(key):
        calls.append(key)
        return {"order_id": key, "status": "created", "total": 0} if key == "a" else None

    view = rows(load=load)
    assert view.get("a")["status"] == "created" and view.get("a") is not None
    assert view.get("b") is None and "b" not in view
    assert calls == ["a", "b"]
    assert view.changes() == ([], [])               # reading changes nothing


def test_a_returned_row_is_a_copy():
    view = ViewRows("docs", "id", copy_row=copy.deepcopy)
    original = {"id": 1, "reviews": []}
    view.insert(original)
    original["reviews"].append("sneaked in")
    got = view[1]
    got["reviews"].append("also sneaked in")
    assert view[1] == {"id": 1, "reviews": []}


def test_mistakes_get_clear_errors():
    view = rows()
    view.insert({"order_id": "1"})
    with pytest.raises(ValueError, match="already has a row with order_id='1'"):
        view.insert({"order_id": "1"})
    with pytest.raises(KeyError, match="no row with order_id='2'"):
        view.update("2", status="paid")
    with pytest.raises(KeyError, match="no row"):
        view.delete("2")
    with pytest.raises(ValueError, match=r"no column\(s\) \['colour'\]"):
        view.update("1", colour="red")
    with pytest.raises(ValueError, match="cannot change the key"):
        view.update("1", order_id="9")
    with pytest.raises(ValueError, match="needs a value for its key"):
        view.insert({"status": "created"})
    with pytest.raises(TypeError, match="dict of column"):
        view.insert(["1", "created"])
    with pytest.raises(ValueError, match="must be among the columns"):
        ViewRows("v", "id", ["name"])


def test_composite_keys_are_tuples():
    view = ViewRows("daily", ("day", "currency"), ["day", "currency", "revenue"])
    view.upsert({"day": "2024-01-01", "currency": "USD", "revenue": 10})
    view.upsert({"day": "2024-01-01", "currency": "USD", "revenue": 12})
    assert view[("2024-01-01", "USD")]["revenue"] == 12
    assert view.changes()[0] == [{"day": "2024-01-01", "currency": "USD", "revenue": 12}]
    with pytest.raises(TypeError, match="tuple of 2 values"):
        view.get("2024-01-01")


def test_prefetch_loads_every_missing_key_in_one_call():
    calls = []

    def load_many(keys):
        calls.append(keys)
        return {key: {"order_id": key, "status": "created", "total": 0} for key in keys if key != "absent"}

    view = rows(load=lambda key: pytest.fail("no single-row load after a prefetch"), load_many=load_many)
    view.prefetch(["a", "b", "a", None, "absent"])
    assert calls == [["a", "b", "absent"]]
    assert view["a"]["status"] == "created" and view.get("absent") is None
    view.prefetch(["a", "b"])                       # already known: no second query
    assert len(calls) == 1
    rows().prefetch(["x"])                          # a storage without load_many: nothing happens
