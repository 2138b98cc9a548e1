"""The checks of notebook 15's exercises accept right answers and explain each typical mistake."""

from __future__ import annotations

from datetime import timedelta, timezone
from decimal import Decimal

import pytest

from esdemo import AggregateNotFoundError, Projection, SqlTable, default_registry
from esdemo.examples.orders import OrderCreated, OrderPaid, payment_of
from esdemo.exercises import (
    check_payments_by_weekday,
    check_revenue_per_customer,
    check_status_at,
)

# -- Exercise 1: revenue_per_customer --------------------------------------------------------------------


def right(events):
    customer_of, revenue = {}, {}
    for recorded in events:
        if recorded.type not in ("OrderCreated", "OrderPaid"):
            continue
        event = default_registry.decode(recorded)
        if isinstance(event, OrderCreated):
            customer_of[event.order_id] = event.customer_id
        elif isinstance(event, OrderPaid):
            key = (customer_of[event.order_id], event.currency)
            revenue[key] = revenue.get(key, Decimal("0")) + event.amount
    return revenue


def right_with_a_versioned_handler(events):
    customer_of, revenue = {}, {}
    for recorded in events:
        if recorded.type == "OrderCreated":
            customer_of[recorded.data["order_id"]] = recorded.data["customer_id"]
        elif recorded.type == "OrderPaid":
            amount, currency = payment_of(recorded)
            key = (customer_of[recorded.data["order_id"]], currency)
            revenue[key] = revenue.get(key, Decimal("0")) + amount
    return revenue


def raw_currency(events):
    customer_of, revenue = {}, {}
    for recorded in events:
        if recorded.type == "OrderCreated":
            customer_of[recorded.data["order_id"]] = recorded.data["customer_id"]
        elif recorded.type == "OrderPaid":
            key = (customer_of[recorded.data["order_id"]], recorded.data["currency"])
            revenue[key] = revenue.get(key, Decimal("0")) + recorded.data["amount"]
    return revenue


def skips_v1(events):
    return right([e for e in events if not (e.type == "OrderPaid" and "currency" not in e.data)])


def adds_currencies(events):
    totals = {}
    for (customer, _), amount in right(events).items():
        totals[customer] = totals.get(customer, Decimal("0")) + amount
    return totals


def counts_carts(events):
    customer_of, total_of = {}, {}
    for recorded in events:
        if recorded.type == "OrderCreated":
            customer_of[recorded.data["order_id"]] = recorded.data["customer_id"]
        elif recorded.type == "ItemAdded":
            total_of[recorded.data["order_id"]] = recorded.data["new_total"]
    revenue = {}
    for order_id, total in total_of.items():
        key = (customer_of[order_id], "USD")
        revenue[key] = revenue.get(key, Decimal("0")) + total
    return revenue


def keyed_by_order(events):
    revenue = {}
    for recorded in events:
        if recorded.type == "OrderPaid":
            event = default_registry.decode(recorded)
            key = (event.order_id, event.currency)
            revenue[key] = revenue.get(key, Decimal("0")) + event.amount
    return revenue


def floats(events):
    return {key: float(value) for key, value in right(events).items()}


def drops_the_last_payment(events):
    last = max(i for i, e in enumerate(events) if e.type == "OrderPaid" and e.schema_version == 2)
    return right(events[:last] + events[last + 1:])


def hard_coded(events):
    return {("C-1234", "USD"): Decimal("100.00")}


@pytest.mark.parametrize("answer", [right, right_with_a_versioned_handler])
def test_right_answers_pass(answer):
    feedback = check_revenue_per_customer(answer)
    assert feedback, feedback.message


@pytest.mark.parametrize("answer, hint", [
    (..., "define revenue_per_customer"),
    (raw_currency, "KeyError: 'currency'"),
    (skips_v1, "OrderPaid V1 events have no 'currency'"),
    (adds_currencies, "key the totals by (customer_id, currency)"),
    (counts_carts, "never paid"),
    (keyed_by_order, "look up the order's customer"),
    (floats, "floats"),
    (hard_coded, "are not (customer_id, currency)"),
    (drops_the_last_payment, "the answer is"),
    (lambda events: list(right(events).items()), "return a dict"),
    (lambda: {}, "TypeError"),
])
def test_typical_mistakes_get_a_specific_hint(answer, hint):
    feedback = check_revenue_per_customer(answer)
    assert not feedback and hint in feedback.message, feedback.message


# -- Exercise 2: status_at ---------------------------------------------------------------------------------


def status_right(orders, order_id, when):
    try:
        return orders.load(order_id, as_of=when).status
    except AggregateNotFoundError:
        return None


def status_by_hand(orders, order_id, when):
    status = None
    for event in orders.store.read(f"Order-{order_id}"):
        if event.recorded_at > when:
            break
        status = {"OrderCreated": "created", "OrderSubmitted": "submitted", "OrderPaid": "paid"}.get(event.type, status)
    return status


def status_now(orders, order_id, when):
    try:
        return orders.load(order_id).status
    except AggregateNotFoundError:
        return None


def status_exclusive(orders, order_id, when):
    return status_right(orders, order_id, when - timedelta(microseconds=1))      # events strictly before `when`


def status_lets_not_found_escape(orders, order_id, when):
    return orders.load(order_id, as_of=when).status


def status_returns_the_order(orders, order_id, when):
    try:
        return orders.load(order_id, as_of=when)
    except AggregateNotFoundError:
        return None


@pytest.mark.parametrize("answer", [status_right, status_by_hand])
def test_right_status_at_passes(answer):
    feedback = check_status_at(answer)
    assert feedback, feedback.message


@pytest.mark.parametrize("answer, hint", [
    (None, "define status_at"),
    (status_now, "the order's status now"),
    (status_exclusive, "recorded exactly at `when` has happened by then"),
    (status_lets_not_found_escape, "catch the error and return None"),
    (status_returns_the_order, "return its status"),
    (lambda orders, order_id, when: "created", "expected None"),
    (lambda orders, order_id: None, "TypeError"),
])
def test_typical_status_at_mistakes_get_a_specific_hint(answer, hint):
    feedback = check_status_at(answer)
    assert not feedback and hint in feedback.message, feedback.message


# -- Notebook 16, exercise 1: PaymentsByWeekday --------------------------------------------------------------


class PaymentsByWeekday(Projection):
    name = "payments_by_weekday"
    event_types = ("OrderPaid",)
    registry = default_registry

    def default_storage(self):
        return SqlTable(key=("weekday", "currency"), columns={
            "weekday": "INTEGER", "currency": "VARCHAR", "orders": "INTEGER", "revenue": "DECIMAL(18, 2)"})

    def handle(self, event, recorded, view):
        key = (recorded.recorded_at.astimezone(timezone.utc).weekday(), event.currency)
        row = view.get(key, {"orders": 0, "revenue": Decimal("0")})
        view.upsert({"weekday": key[0], "currency": key[1], "orders": row["orders"] + 1,
                     "revenue": row["revenue"] + event.amount})


class WeekdayFromRawData(PaymentsByWeekday):
    registry = None

    def handle(self, event, recorded, view):
        if "currency" not in recorded.data:
            return
        key = (recorded.recorded_at.weekday(), recorded.data["currency"])
        row = view.get(key, {"orders": 0, "revenue": Decimal("0")})
        view.upsert({"weekday": key[0], "currency": key[1], "orders": row["orders"] + 1,
                     "revenue": row["revenue"] + recorded.data["amount"]})


class WeekdayRawCurrency(WeekdayFromRawData):
    def handle(self, event, recorded, view):
        recorded.data["currency"]
        super().handle(event, recorded, view)


class WeekdayEveryEvent(PaymentsByWeekday):
    event_types = ("OrderPaid", "OrderSubmitted")

    def handle(self, event, recorded, view):
        key = (recorded.recorded_at.weekday(), getattr(event, "currency", "USD"))
        row = view.get(key, {"orders": 0, "revenue": Decimal("0")})
        view.upsert({"weekday": key[0], "currency": key[1], "orders": row["orders"] + 1,
                     "revenue": row["revenue"] + getattr(event, "amount", Decimal("0"))})


class WeekdayIsoNumbers(PaymentsByWeekday):
    def handle(self, event, recorded, view):
        key = (recorded.recorded_at.isoweekday() + 10, event.currency)
        row = view.get(key, {"orders": 0, "revenue": Decimal("0")})
        view.upsert({"weekday": key[0], "currency": key[1], "orders": row["orders"] + 1,
                     "revenue": row["revenue"] + event.amount})


class WeekdayWrongColumns(PaymentsByWeekday):
    def default_storage(self):
        return SqlTable(key=("day", "currency"), columns={
            "day": "INTEGER", "currency": "VARCHAR", "orders": "INTEGER", "revenue": "DECIMAL(18, 2)"})

    def handle(self, event, recorded, view):
        key = (recorded.recorded_at.weekday(), event.currency)
        row = view.get(key, {"orders": 0, "revenue": Decimal("0")})
        view.upsert({"day": key[0], "currency": key[1], "orders": row["orders"] + 1,
                     "revenue": row["revenue"] + event.amount})


def test_payments_by_weekday_right_answer_passes():
    assert check_payments_by_weekday(PaymentsByWeekday)


@pytest.mark.parametrize("answer, hint", [
    (..., "define the class"),
    (PaymentsByWeekday(), "pass the class itself"),
    (WeekdayFromRawData, "OrderPaid V1"),
    (WeekdayRawCurrency, "KeyError: 'currency'"),
    (WeekdayEveryEvent, "Only OrderPaid counts"),
    (WeekdayIsoNumbers, "from 0 (Monday)"),
    (WeekdayWrongColumns, "no column"),
])
def test_payments_by_weekday_mistakes_get_a_specific_hint(answer, hint):
    feedback = check_payments_by_weekday(answer)
    assert not feedback
    assert hint in feedback.message, feedback.message
