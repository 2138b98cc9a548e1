"""The checks of the testing notebook's exercises: a right answer passes, each typical wrong one is explained."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from esdemo import DomainError, given
from esdemo.examples.order_views import OrderSummary as RealSummary
from esdemo.examples.orders import ItemAdded, OrderCreated, OrderPaid, OrderSubmitted
from esdemo.examples.orders import Order as RealOrder
from esdemo.exercises import ORDER_MUTANTS, SUMMARY_MUTANTS, check_order_specs, check_summary_specs

AT = datetime(2024, 3, 1, 12, tzinfo=timezone.utc)
CREATED = OrderCreated("1", "c-42")
TWO_BOOKS = ItemAdded("1", "BOOK-1", Decimal("25.00"), 2, Decimal("50.00"))
SUBMITTED = OrderSubmitted("1", AT)


def total_spec(Order):
    given(CREATED, aggregate=Order).when(lambda o: o.add_item("BOOK-1", Decimal("25.00"), 2)).then(TWO_BOOKS)


def submitted_spec(Order):
    given(CREATED, TWO_BOOKS, SUBMITTED, aggregate=Order) \
        .when(lambda o: o.add_item("PEN", Decimal("1"))).then_raises(DomainError, match="already been submitted")


def paid_twice_spec(Order):
    given(CREATED, TWO_BOOKS, SUBMITTED, OrderPaid("1", Decimal("50.00"), "USD"), aggregate=Order) \
        .when(lambda o: o.pay()).then_raises(DomainError, match="paid")


def good_order_specs(Order):
    total_spec(Order)
    submitted_spec(Order)
    paid_twice_spec(Order)


def test_specs_that_catch_every_planted_bug_pass():
    feedback = check_order_specs(good_order_specs)
    assert feedback, feedback.message
    assert "all 3 planted bugs" in feedback.message


def test_each_planted_bug_is_caught_by_its_own_spec_only():
    for spec, bug in [(total_spec, "the total ignores the quantity"),
                      (submitted_spec, "a submitted order still accepts items"),
                      (paid_twice_spec, "an order can be paid twice")]:
        feedback = check_order_specs(spec)
        assert not feedback and "catch 1 of 3" in feedback.message
        assert bug not in feedback.message.split("Still escaping:")[1]


def test_a_missing_answer():
    assert "define order_specs(Order) first" in check_order_specs(...).message
    assert "define summary_specs(OrderSummary) first" in check_summary_specs(None).message


def test_a_spec_that_fails_on_the_real_order_is_reported_with_its_diff():
    def wrong(Order):
        given(CREATED, aggregate=Order).when(lambda o: o.add_item("BOOK-1", Decimal("25.00"), 2)).then(
            ItemAdded("1", "BOOK-1", Decimal("25.00"), 2, Decimal("25.00")))
    feedback = check_order_specs(wrong)
    assert not feedback
    assert "fails on the real Order" in feedback.message and "field 'new_total'" in feedback.message


def test_specs_on_the_imported_class_catch_nothing_and_say_why():
    feedback = check_order_specs(lambda Order: good_order_specs(RealOrder))
    assert not feedback and "use the Order passed to order_specs" in feedback.message


def test_a_spec_error_and_a_crash_are_explained():
    assert "cannot run as written" in check_order_specs(lambda Order: given(aggregate=Order).then()).message
    assert "Take one parameter" in check_order_specs(lambda: None).message

    def outside_the_kit(Order):
        order = Order.create("1", "c")
        order.add_item("BOOK-1", Decimal("25.00"), 2)
        order.submit(at=AT)
        order.add_item("PEN", Decimal("1"))     # raises DomainError on the real Order: not inside a spec
    assert "raised DomainError" in check_order_specs(outside_the_kit).message

    def asserts(Order):
        order = Order.create("1", "c")
        order.add_item("BOOK-1", Decimal("25.00"), 2)
        assert order.total == Decimal("50.00")
    feedback = check_order_specs(asserts)
    assert not feedback and "crashed instead of failing" in feedback.message


def test_the_mutants_really_differ_from_the_order():
    assert len(ORDER_MUTANTS) == 3 and all(m.__name__ == "Order" for m in ORDER_MUTANTS.values())
    assert len(SUMMARY_MUTANTS) == 2


PAID = OrderPaid("1", Decimal("50.00"), "EUR")


def good_summary_specs(OrderSummary):
    given(CREATED, TWO_BOOKS, SUBMITTED, PAID).then_view(OrderSummary, rows=[
        {"order_id": "1", "status": "paid", "item_count": 2, "total": Decimal("50.00"),
         "paid_amount": Decimal("50.00"), "currency": "EUR"}])


def test_a_view_spec_that_catches_both_projection_bugs_passes():
    feedback = check_summary_specs(good_summary_specs)
    assert feedback, feedback.message


def test_a_view_spec_that_only_looks_at_status_misses_both_bugs():
    def status_only(OrderSummary):
        given(CREATED, TWO_BOOKS, SUBMITTED, PAID).then_view(OrderSummary, rows=[{"order_id": "1", "status": "paid"}])
    feedback = check_summary_specs(status_only)
    assert not feedback and "no planted bug was caught" in feedback.message


def test_a_view_spec_with_one_item_per_line_misses_the_line_count_bug():
    def single_items(OrderSummary):
        given(CREATED, ItemAdded("1", "PEN", Decimal("1"), 1, Decimal("1")), SUBMITTED,
              OrderPaid("1", Decimal("1"), "USD")).then_view(OrderSummary, rows=[
                  {"order_id": "1", "item_count": 1, "paid_amount": Decimal("1")}])
    feedback = check_summary_specs(single_items)
    assert not feedback and "Still escaping: item_count counts lines instead of items" in feedback.message


def test_a_view_spec_wrong_on_the_real_projection():
    def wrong(OrderSummary):
        given(CREATED, TWO_BOOKS).then_view(OrderSummary, rows=[{"order_id": "1", "item_count": 1}])
    feedback = check_summary_specs(wrong)
    assert not feedback and "fails on the real" in feedback.message and "item_count" in feedback.message
    assert RealSummary.name == "order_summary"
