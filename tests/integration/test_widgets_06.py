"""Notebook 06's widgets: the projection stepper and the checkpoint crash, and the view-reading helpers."""

from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from esdemo import DataFrameTable, Documents, EventStore, FakeClock, ProjectionRunner, Repository, seeded_ids
from esdemo.examples.order_views import OrderAnalytics, OrderSummary
from esdemo.examples.orders import Order
from esdemo.tables import live_rows, view_table
from esdemo.widgets import (
    CHECKPOINT_STRATEGIES,
    ProjectionStepper,
    build_checkpoint_crash_widget,
    build_projection_stepper,
    crash_and_restart,
)

T0 = datetime(2024, 3, 1, 9, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def events():
    """Three orders, one command per append so the streams interleave: 12345 (paid, USD), 12346 (paid, EUR), 12347 (cart)."""
    with EventStore(clock=FakeClock(T0, step=timedelta(minutes=5))) as store:
        orders = Repository(store, Order, id_factory=seeded_ids(5))
        made = {}
        for order_id, customer in [("12345", "c-42"), ("12346", "c-7"), ("12347", "c-42")]:
            made[order_id] = Order.create(order_id, customer=customer)
            orders.save(made[order_id])
        for order_id, sku, price, quantity in [("12345", "BOOK-1", "25.00", 2), ("12346", "MUG-1", "12.00", 1),
                                               ("12347", "TEA-3", "8.00", 3), ("12345", "PEN-2", "2.50", 1)]:
            made[order_id].add_item(sku, Decimal(price), quantity)
            orders.save(made[order_id])
        for order_id, currency in [("12345", "USD"), ("12346", "EUR")]:
            made[order_id].submit(at=T0 + timedelta(hours=1))
            orders.save(made[order_id])
            made[order_id].pay(currency=currency)
            orders.save(made[order_id])
        return store.read_all()


def rows_after(events, count, make=OrderSummary):
    """The independent answer: a fresh projection caught up, in one batch, on the first ``count`` events."""
    with EventStore() as store:
        store.restore(events[:count])
        projection = make()
        ProjectionRunner(store, projection).catch_up()
        return live_rows(projection)


def test_live_rows_reads_every_storage_the_same_way(events):
    columns = list(OrderSummary().default_storage().columns)
    found = []
    with EventStore() as store:
        store.restore(events)
        for storage in (None, Documents(key="order_id"), DataFrameTable(key="order_id", columns=columns)):
            projection = OrderSummary(storage)
            ProjectionRunner(store, projection).catch_up()
            found.append([{name: row.get(name) for name in columns} for row in live_rows(projection)])
    assert found[0] == found[1] == found[2]         # documents hold only the fields written: .get() fills the rest
    assert [row["order_id"] for row in found[0]] == ["12345", "12346", "12347"]
    assert found[0][0]["total"] == Decimal("52.50") and found[0][2]["paid_at"] is None


def test_view_table_formats_values_and_indexes_by_key():
    rows = [{"order_id": "1", "total": Decimal("50.00"), "paid_at": None, "at": T0}]
    table = view_table(rows, "order_id")
    assert list(table.index) == ["1"] and table.loc["1"].tolist() == ["50.00", "", "2024-03-01 09:00"]
    with pytest.raises(ValueError, match="key column"):
        view_table(rows, "sku")


def test_each_step_applies_one_event_and_shows_the_view_a_runner_would_have(events):
    stepper = ProjectionStepper(events, OrderSummary)
    assert stepper.last.checkpoint == 0 and stepper.last.rows == () and stepper.last.lag == len(events)
    for count, event in enumerate(events, start=1):
        step = stepper.step()
        assert step.event == event and step.checkpoint == count == stepper.checkpoint
        assert list(step.rows) == rows_after(events, count)
        assert step.changed == (event.data["order_id"],)
        assert step.lag == len(events) - count
    assert "caught up" in step.describe()
    after = stepper.step()
    assert after.event is None and after.checkpoint == len(events) and after.describe().startswith("Nothing left")
    stepper.close()


def test_a_type_the_view_does_not_handle_only_moves_the_checkpoint(events):
    stepper = ProjectionStepper(events, OrderAnalytics)       # it handles OrderPaid only
    step = stepper.step()
    assert (step.event.type, step.handled, step.changed, step.rows, step.checkpoint) == ("OrderCreated", False, (), (), 1)
    assert "only the checkpoint moved" in step.describe()
    paid = [e.position for e in events if e.type == "OrderPaid"][0]
    step = stepper.run_to(paid)
    assert step.handled and len(step.rows) == 1 and step.rows[0]["revenue"] == Decimal("52.50")
    assert step.table().loc[(T0.date().isoformat(), "USD"), "orders_paid"] == "1"
    stepper.close()


def test_reset_and_run_to_go_back_to_an_empty_view_and_forward_again(events):
    stepper = ProjectionStepper(events, OrderSummary)
    stepper.run_to(len(events))
    assert stepper.reset().checkpoint == 0 and live_rows(stepper.projection) == []
    assert list(stepper.run_to(4).rows) == rows_after(events, 4)
    assert stepper.run_to(2).checkpoint == 2 and list(stepper.last.rows) == rows_after(events, 2)
    with pytest.raises(ValueError, match="between 0 and"):
        stepper.run_to(len(events) + 1)
    stepper.close()


def test_the_stepper_refuses_what_it_cannot_step_through(events):
    with pytest.raises(ValueError, match="pass the events"):
        ProjectionStepper([], OrderSummary)
    with pytest.raises(ValueError, match="start at position 1"):
        ProjectionStepper(events[2:], OrderSummary)
    with pytest.raises(TypeError, match="RecordedEvents"):
        ProjectionStepper(["OrderCreated"], OrderSummary)
    with pytest.raises(TypeError, match="not a Projection"):
        ProjectionStepper(events, dict)


def test_the_stepper_widget_shows_the_event_the_checkpoint_and_the_changed_row(events):
    panel = build_projection_stepper(events, OrderSummary)
    assert "Nothing applied yet" in panel.result.value and "The view is empty" in panel.result.value
    for _ in range(3):
        panel.controls["next"].click()
    third = events[2]
    assert f"Applied position 3, {third.type}" in panel.result.value
    assert f"Checkpoint 3, head {len(events)}: {len(events) - 3} events behind" in panel.result.value
    highlighted = [line for line in panel.result.value.split("<tr") if "background" in line]
    assert len(highlighted) == 1 and f"<td>{third.data['order_id']}</td>" in highlighted[0]
    assert panel.result.value.count("<tr") == 1 + 3                # a header and three orders
    panel.controls["end"].click()
    assert "caught up" in panel.result.value and panel.stepper.checkpoint == len(events)
    panel.controls["reset"].click()
    assert "Nothing applied yet" in panel.result.value and panel.stepper.checkpoint == 0


def test_a_crash_between_two_separate_writes_doubles_or_skips_a_payment(events):
    paid = [e for e in events if e.type == "OrderPaid"]
    first = paid[0].position
    twice = crash_and_restart(events, "view, then checkpoint", first)
    assert twice.twice == [first] and twice.skipped == [] and not twice.correct
    assert twice.saved_checkpoint == first - 1
    assert twice.revenue == {"USD": Decimal("105.00"), "EUR": Decimal("12.00")}
    assert twice.expected == {"USD": Decimal("52.50"), "EUR": Decimal("12.00")}
    assert "counted twice" in twice.describe()
    skipped = crash_and_restart(events, "checkpoint, then view", first)
    assert skipped.skipped == [first] and skipped.saved_checkpoint == first
    assert skipped.revenue == {"EUR": Decimal("12.00")} and "never counted" in skipped.describe()
    once = crash_and_restart(events, "one transaction", paid[-1].position)
    assert once.correct and once.counted == (1, 1) and once.saved_checkpoint == paid[-1].position - 1
    assert once.table()["counted"].tolist() == [1, 1]


def test_crash_and_restart_refuses_an_unknown_strategy_or_a_position_without_a_payment(events):
    with pytest.raises(ValueError, match="strategy must be one of"):
        crash_and_restart(events, "twice", events[-1].position)
    with pytest.raises(ValueError, match="position of an OrderPaid"):
        crash_and_restart(events, "one transaction", 1)


def test_the_crash_widget_shows_the_outcome_of_the_chosen_strategy(events):
    panel = build_checkpoint_crash_widget(events)
    paid = [e.position for e in events if e.type == "OrderPaid"]
    assert [value for _, value in panel.controls["crash_at"].options] == paid
    assert "counted twice" in panel.result.value
    panel.controls["strategy"].value = "checkpoint, then view"
    assert "never counted" in panel.result.value
    panel.controls["strategy"].value = "one transaction"
    panel.controls["crash_at"].value = paid[1]
    assert f"position {paid[1]}" in panel.result.value and "Every payment counted once" in panel.result.value
    assert html.escape(CHECKPOINT_STRATEGIES["one transaction"]) in panel.result.value
