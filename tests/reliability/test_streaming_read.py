"""Issue 11, case 5: the whole log can be scanned with bounded memory.

``iter_all()`` / ``read_all_pages()`` read the log one page (``page_size``
positions) at a time, so a scan never holds more than one page. The memory
figure itself is a benchmark (``python -m esdemo.benchmarks.scans``), not a
pass/fail test; here: the same events as ``read_all()``, and never more than
one page asked of the database at once.
"""

from __future__ import annotations

import pytest

from esdemo import NewEvent


def _fill(store, n: int = 23) -> None:
    for i in range(n):
        store.append(f"s-{i % 4}", [NewEvent("E", {"i": i})], expected_version=i // 4)


@pytest.fixture
def spied(store):
    """The store, with every read the backend is asked for recorded as (from_position, limit, rows)."""
    calls: list[tuple[int, int | None, int]] = []
    real = store._backend.read_all

    def read_all(from_position, limit):
        rows = real(from_position, limit)
        calls.append((from_position, limit, len(rows)))
        return rows

    store._backend.read_all = read_all
    return store, calls


@pytest.mark.parametrize("page_size", [1, 3, 7, 23, 1_000])
def test_iter_all_gives_the_same_events_as_read_all(store, page_size):
    _fill(store)
    assert list(store.iter_all(page_size=page_size)) == store.read_all()
    assert list(store.iter_all(5, page_size=page_size)) == store.read_all(5)


def test_no_read_asks_for_more_than_one_page(spied):
    store, calls = spied
    _fill(store, 50)
    calls.clear()
    assert sum(1 for _ in store.iter_all(page_size=8)) == 50
    assert calls and all(limit == 8 and rows <= 8 for _, limit, rows in calls)
    assert [start for start, _, _ in calls] == [1, 9, 17, 25, 33, 41, 49, 51]   # the last: anything new?


def test_pages_are_lists_in_position_order(store):
    _fill(store)
    pages = list(store.read_all_pages(page_size=10))
    assert [len(page) for page in pages] == [10, 10, 3]
    assert [e.position for page in pages for e in page] == list(range(1, 24))


def test_to_position_stops_there_and_ignores_what_is_appended_meanwhile(store):
    _fill(store)
    seen = []
    for event in store.iter_all(page_size=5, to_position=12):
        seen.append(event.position)
        if event.position == 3:
            store.append("late", [NewEvent("E", {})], expected_version=0)
    assert seen == list(range(1, 13))


def test_without_to_position_events_appended_during_the_scan_are_read_too(store):
    _fill(store, 6)
    seen = []
    for event in store.iter_all(page_size=4):
        seen.append(event.position)
        if event.position == 5:
            store.append("late", [NewEvent("E", {})], expected_version=0)
    assert seen == list(range(1, 8))


def test_an_empty_log_and_a_start_past_the_head(store):
    assert list(store.iter_all()) == []
    _fill(store, 3)
    assert list(store.read_all_pages(10)) == []


@pytest.mark.parametrize("arguments, error", [
    (dict(page_size=0), ValueError), (dict(page_size=None), TypeError), (dict(from_position=0), ValueError),
    (dict(to_position=-1), ValueError), (dict(page_size=2**63), ValueError),
])
def test_bad_arguments_are_refused(store, arguments, error):
    with pytest.raises(error):
        list(store.iter_all(**arguments))
