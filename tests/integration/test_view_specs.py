"""The read-side testing kit: given(events).then_view(...), on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from esdemo import Documents, NewEvent, Projection, SpecError, SpecFailed, given
from esdemo.examples.order_views import OrderSummary
from esdemo.examples.orders import ItemAdded, OrderCreated, OrderPaid, OrderSubmitted, order_paid_v1
from esdemo.read.testing import given as view_given
from esdemo.read.testing import row_diff


@pytest.fixture(params=["duckdb", "sqlite"])
def backend(request) -> str:
    """The spec kit's then_view open in-memory stores of their own, which PostgreSQL does not have (it needs a URL): these
    run on the two embedded backends; the store contract itself runs on all three (tests/conftest.py)."""
    return request.param


AT = datetime(2024, 3, 1, 12, tzinfo=timezone.utc)
T0 = datetime(2024, 1, 1, 9, tzinfo=timezone.utc)
ORDER = [OrderCreated("1", "c-42"), ItemAdded("1", "BOOK-1", Decimal("25.00"), 2, Decimal("50.00")),
         OrderSubmitted("1", AT)]


def test_rows_are_compared_on_the_columns_the_spec_names(backend):
    rows = given(ORDER + [OrderPaid("1", Decimal("50.00"), "EUR")]).then_view(OrderSummary, rows=[
        {"order_id": "1", "status": "paid", "item_count": 2, "total": Decimal("50"), "currency": "EUR"}],
        backend=backend)
    assert rows[0]["customer_id"] == "c-42"
    assert rows[0]["paid_at"] == T0 + timedelta(minutes=4)  # given event n is recorded at 09:00 + n minutes


def test_old_event_versions_are_stored_as_given_and_upcast_by_the_projection(backend):
    view_given(ORDER + [order_paid_v1("1", Decimal("50.00"))]).then_view(
        OrderSummary, [{"order_id": "1", "status": "paid", "currency": "USD"}], backend=backend)


def test_a_wrong_row_fails_with_a_marked_diff(backend):
    with pytest.raises(SpecFailed) as failure:
        given(ORDER).then_view(OrderSummary, rows=[
            {"order_id": "1", "status": "submitted", "item_count": 1, "total": Decimal("25")}], backend=backend)
    text = str(failure.value)
    assert text.splitlines()[:3] == [
        "View spec failed for order_summary",
        "  given: OrderCreated, ItemAdded, OrderSubmitted",
        "  then:  1 of 1 rows differ; first difference: row order_id='1', column 'item_count'"]
    assert [line for line in text.splitlines() if line.startswith("  >>")] == [
        "  >>               item_count  1              2"]


def test_missing_and_extra_rows(backend):
    with pytest.raises(SpecFailed, match="expected 2 rows, the view has 1"):
        given(ORDER).then_view(OrderSummary, rows=[{"order_id": "1"}, {"order_id": "2"}], backend=backend)
    with pytest.raises(SpecFailed, match="expected 0 rows, the view has 1") as failure:
        given(ORDER).then_view(OrderSummary, rows=[], backend=backend)
    assert "(none)" in str(failure.value) or "present" in str(failure.value)


def test_a_query_result(backend):
    count = given(ORDER + [OrderCreated("2", "c-7")]).then_view(
        OrderSummary, query=lambda store: store.query("SELECT count(*) FROM order_summary"), equals=[(2,)],
        backend=backend)
    assert count == [(2,)]
    with pytest.raises(SpecFailed, match=r"expected: \[\(3,\)\]\n  actual:   \[\(2,\)\]"):
        given(ORDER + [OrderCreated("2", "c-7")]).then_view(
            OrderSummary, query=lambda store: store.query("SELECT count(*) FROM order_summary"), equals=[(3,)],
            backend=backend)


def test_a_handler_that_fails_fails_the_spec(backend):
    with pytest.raises(SpecFailed, match="the projection failed: KeyError"):
        given(ItemAdded("9", "X", Decimal("1"), 1, Decimal("1"))).then_view(OrderSummary, rows=[], backend=backend)


class Streams(Projection):
    name = "streams"

    def default_storage(self):
        return Documents(key="stream_id")

    def handle(self, event, recorded, view):
        row = view.get(recorded.stream_id) or {"stream_id": recorded.stream_id, "events": 0}
        view.upsert({**row, "events": row["events"] + 1})


def test_raw_events_pairs_for_streams_and_memory_views(backend):
    given(("a", NewEvent("X", {})), ("b", NewEvent("X", {})), ("a", NewEvent("Y", {}))).then_view(
        Streams, [{"stream_id": "a", "events": 2}, {"stream_id": "b", "events": 1}], backend=backend)


def test_bad_view_specs():
    with pytest.raises(SpecError, match="needs what to expect"):
        given(ORDER).then_view(OrderSummary)
    with pytest.raises(SpecError, match="Projection class"):
        given(ORDER).then_view(object, rows=[])
    with pytest.raises(SpecError, match="has no registry"):
        given(ORDER).then_view(Streams, rows=[])
    with pytest.raises(SpecError, match="not an event type order_summary's registry knows"):
        given([object()]).then_view(OrderSummary, rows=[])


def test_row_diff_is_empty_when_rows_agree():
    assert row_diff([{"k": 1, "v": "a"}], [{"k": 1, "v": "a", "other": 3}], key=("k",)) == ("1 rows as expected", "")


def test_a_single_stream_event_pair_is_not_taken_for_a_list(backend):
    given(("a", NewEvent("X", {}))).then_view(Streams, [{"stream_id": "a", "events": 1}], backend=backend)
