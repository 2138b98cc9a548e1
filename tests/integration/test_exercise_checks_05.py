"""The checks of notebook 05's exercises accept right answers and explain each typical mistake."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from esdemo import ConflictError, DomainError, DomainEvent, EventRegistry
from esdemo.examples.orders import Order
from esdemo.exercises import check_coupon_order, check_execute

registry = EventRegistry()  # the notebook registers CouponApplied in default_registry; the check must not need it


@registry.event("CouponApplied")
@dataclass(frozen=True, slots=True)
class CouponApplied(DomainEvent):
    order_id: str
    code: str
    amount: Decimal


# -- Exercise 1: CouponOrder ----------------------------------------------------------------------

class RightCouponOrder(Order):
    def __init__(self, id):
        super().__init__(id)
        self.coupon = None

    def apply_coupon(self, code, amount):
        if self.status != "created":
            raise DomainError(f"cannot apply a coupon to order {self.id}: it is {self.status}")
        if self.coupon is not None:
            raise DomainError(f"order {self.id} already has coupon {self.coupon}")
        if not Decimal("0") < amount <= self.total:
            raise DomainError(f"a coupon takes off more than 0 and at most {self.total}, got {amount}")
        self.record(CouponApplied(self.id, code, amount))

    def apply(self, event):
        match event:
            case CouponApplied():
                self.coupon = event.code
                self.total -= event.amount
            case _:
                super().apply(event)


class ChangesStateInTheCommand(RightCouponOrder):
    def apply_coupon(self, code, amount):
        super().apply_coupon(code, amount)
        self.coupon = code  # harmless twice; but see below

    def apply(self, event):
        match event:
            case CouponApplied():
                pass  # "the command already did it"
            case _:
                super().apply(event)


class ChangesStateInTheCommandOnly(ChangesStateInTheCommand):
    def apply_coupon(self, code, amount):
        super().apply_coupon(code, amount)
        self.total -= amount


class SubtractsTwice(RightCouponOrder):
    def apply_coupon(self, code, amount):
        super().apply_coupon(code, amount)
        self.total -= amount


class SwallowsOtherEvents(RightCouponOrder):
    def apply(self, event):
        match event:
            case CouponApplied():
                self.coupon = event.code
                self.total -= event.amount


class NoApplyCase(RightCouponOrder):
    def apply(self, event):
        Order.apply(self, event)


class RecordsBeforeValidating(RightCouponOrder):
    def apply_coupon(self, code, amount):
        self.record(CouponApplied(self.id, code, amount))
        if self.coupon is not None and len([e for e in self.pending_events if isinstance(e, CouponApplied)]) > 1:
            raise DomainError("only one coupon")


class RaisesValueError(RightCouponOrder):
    def apply_coupon(self, code, amount):
        if amount <= 0:
            raise ValueError("amount must be positive")
        super().apply_coupon(code, amount)


class AllowsCouponAfterPayment(RightCouponOrder):
    def apply_coupon(self, code, amount):
        if self.status == "submitted":
            raise DomainError("submitted")
        if self.coupon is not None or not Decimal("0") < amount <= self.total:
            raise DomainError("no")
        self.record(CouponApplied(self.id, code, amount))


class AllowsTwoCoupons(RightCouponOrder):
    def apply_coupon(self, code, amount):
        if self.status != "created" or not Decimal("0") < amount <= self.total:
            raise DomainError("no")
        self.record(CouponApplied(self.id, code, amount))


class AllowsMoreThanTheTotal(RightCouponOrder):
    def apply_coupon(self, code, amount):
        if self.status != "created" or self.coupon is not None or amount <= 0:
            raise DomainError("no")
        self.record(CouponApplied(self.id, code, amount))


class ForgetsTheCode(RightCouponOrder):
    def apply(self, event):
        match event:
            case CouponApplied():
                self.total -= event.amount
            case _:
                super().apply(event)


class HardCodedTotal(RightCouponOrder):
    def apply(self, event):
        match event:
            case CouponApplied():
                self.coupon = event.code
                self.total = Decimal("42.50")
            case _:
                super().apply(event)


def test_coupon_order_accepts_a_correct_solution():
    feedback = check_coupon_order(RightCouponOrder)
    assert feedback, feedback.message


@pytest.mark.parametrize("answer, hint", [
    (..., "define the class first"),
    (dict, "must extend Order"),
    (Order, "has no apply_coupon method"),
    (ChangesStateInTheCommand, "replaying the same events into a blank CouponOrder gives a different order"),
    (ChangesStateInTheCommandOnly, "The command changed the state itself"),
    (SubtractsTwice, "went down twice"),
    (SwallowsOtherEvents, "swallows the Order's own events"),
    (NoApplyCase, "apply has no case for CouponApplied"),
    (RecordsBeforeValidating, "only after recording"),
    (RaisesValueError, "raise DomainError instead"),
    (AllowsCouponAfterPayment, "a coupon on a paid order was accepted"),
    (AllowsTwoCoupons, "a second coupon on the same order was accepted"),
    (AllowsMoreThanTheTotal, "a coupon of 7.51 on a total of 7.50 was accepted"),
    (ForgetsTheCode, "order.coupon is None"),
    (HardCodedTotal, "expected 25.00"),
])
def test_coupon_order_explains_each_typical_mistake(answer, hint):
    feedback = check_coupon_order(answer)
    assert not feedback
    assert hint in feedback.message, feedback.message


# -- Exercise 2: execute -------------------------------------------------------------------------

def execute_right(orders, order_id, command, attempts=3):
    for attempt in range(1, attempts + 1):
        order = orders.load(order_id)
        command(order)
        try:
            return orders.save(order)
        except ConflictError:
            if attempt == attempts:
                raise


def execute_without_retry(orders, order_id, command, attempts=3):
    order = orders.load(order_id)
    command(order)
    return orders.save(order)


def execute_bumping_the_version(orders, order_id, command, attempts=3):
    order = orders.load(order_id)
    command(order)
    for _ in range(attempts):
        try:
            return orders.save(order)
        except ConflictError as conflict:
            order.version = conflict.actual  # "just take the new version"


def execute_swallowing_domain_errors(orders, order_id, command, attempts=3):
    for _ in range(attempts):
        try:
            order = orders.load(order_id)
            command(order)
            return orders.save(order)
        except Exception:  # noqa: BLE001 - the mistake under test
            continue


def execute_forever(orders, order_id, command, attempts=3):
    while True:
        order = orders.load(order_id)
        command(order)
        try:
            return orders.save(order)
        except ConflictError:
            pass


def execute_gives_up_quietly(orders, order_id, command, attempts=3):
    for _ in range(attempts):
        order = orders.load(order_id)
        command(order)
        try:
            return orders.save(order)
        except ConflictError:
            pass


def execute_forgets_to_save(orders, order_id, command, attempts=3):
    command(orders.load(order_id))


def execute_returns_nothing(orders, order_id, command, attempts=3):
    execute_right(orders, order_id, command, attempts)


def execute_with_another_signature(orders, order_id):
    return None


def test_execute_accepts_a_correct_solution():
    feedback = check_execute(execute_right)
    assert feedback, feedback.message


@pytest.mark.parametrize("answer, hint", [
    (..., "define execute"),
    (execute_without_retry, "the ConflictError escaped"),
    (execute_bumping_the_version, "The retry saved a decision made on the old order"),
    (execute_swallowing_domain_errors, "Let DomainError reach the caller"),
    (execute_forever, "retries forever"),
    (execute_gives_up_quietly, "returned normally"),
    (execute_forgets_to_save, "call orders.save(order)"),
    (execute_returns_nothing, "return what orders.save(order) returns"),
    (execute_with_another_signature, "call signature mismatch"),
])
def test_execute_explains_each_typical_mistake(answer, hint):
    feedback = check_execute(answer)
    assert not feedback
    assert hint in feedback.message, feedback.message


def test_paying_twice_is_named_when_the_stale_payment_is_saved():
    def pay_stale(orders, order_id, command, attempts=3):
        """Right for AddItem (it reloads), but re-saves the stale order when paying."""
        order = orders.load(order_id)
        command(order)
        try:
            return orders.save(order)
        except ConflictError as conflict:
            if order.status == "paid":
                order.version = conflict.actual
                return orders.save(order)
            return execute_right(orders, order_id, command, attempts)

    feedback = check_execute(pay_stale)
    assert not feedback and "paid 2 times" in feedback.message, feedback.message
