"""Notebook 07 · Testing and failure handling."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from ..examples.money import money
from ..examples.order_views import OrderSummary
from ..examples.orders import ItemAdded, Order, OrderPaid
from ..store.errors import SpecError, SpecFailed
from .feedback import Feedback, _no, _not_done, _ok

# -- Exercise 1: specs that catch planted bugs in the order aggregate -------------------------------------------

def _mutant(name: str, methods: dict[str, Any]) -> type[Order]:
    """A copy of Order with one bug; it calls itself Order, as a bug in the real class would."""
    cls = type("Order", (Order,), {"stream_prefix": "Order", **methods})
    cls.__qualname__ = f"Order[{name}]"
    return cls


def _total_ignores_quantity(self: Order, sku: str, price: Decimal, quantity: int = 1) -> None:
    self._require_status("created", "add items to")
    price = money(price, "an item's price")
    self.record(ItemAdded(self.id, sku, price, quantity, self.total + price))  # the bug: price, not price * quantity


def _items_after_submit(self: Order, sku: str, price: Decimal, quantity: int = 1) -> None:
    if self.status != "submitted":  # the bug: a submitted order still takes items
        self._require_status("created", "add items to")
    price = money(price, "an item's price")
    self.record(ItemAdded(self.id, sku, price, quantity, self.total + price * quantity))


def _paid_twice(self: Order, *, currency: str = "USD") -> None:
    if self.status == "paid":  # the bug: a second payment is recorded instead of refused
        self.record(OrderPaid(self.id, self.total, currency))
        return
    Order.pay(self, currency=currency)


ORDER_MUTANTS: dict[str, type[Order]] = {
    "the total ignores the quantity": _mutant("total", {"add_item": _total_ignores_quantity}),
    "a submitted order still accepts items": _mutant("after-submit", {"add_item": _items_after_submit}),
    "an order can be paid twice": _mutant("paid-twice", {"pay": _paid_twice}),
}
"""The planted bugs of exercise 1, by what they get wrong."""


def _run(specs: Callable[[Any], Any], subject: Any) -> BaseException | None:
    try:
        specs(subject)
    except Exception as exc:  # noqa: BLE001 - a learner's code may raise anything; report it
        return exc
    return None


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: " + (" / ".join(line.strip() for line in lines[:4]) if lines else "(no message)")


def _check_specs(specs: Any, what: str, real: Any, mutants: dict[str, Any], param: str) -> Feedback:
    if _not_done(specs) or not callable(specs):
        return _no(f"define {what}({param}) first: a function that runs your specs against the {param} it is given.")
    problem = _run(specs, real)
    if isinstance(problem, SpecFailed):
        return _no(f"a spec fails on the real {real.__name__ if isinstance(real, type) else real}, so it describes "
                   f"something the code does not do: {_first_line(problem)}")
    if isinstance(problem, SpecError):
        return _no(f"a spec cannot run as written: {problem}")
    if isinstance(problem, TypeError) and "positional argument" in str(problem):
        return _no(f"calling {what}({param}) failed ({problem}). Take one parameter, {param}, and use it in "
                   f"every spec.")
    if problem is not None:
        return _no(f"{what} raised {_first_line(problem)} on the real code. Every check belongs in a spec "
                   "(given(...).when(...).then(...) or .then_raises(...)).")
    escaped, crashed = [], []
    for bug, mutant in mutants.items():
        outcome = _run(specs, mutant)
        if outcome is None:
            escaped.append(bug)
        elif not isinstance(outcome, SpecFailed):
            crashed.append(f"{bug} ({_first_line(outcome)})")
    if crashed:
        return _no("on a buggy version your specs crashed instead of failing: " + "; ".join(crashed) +
                   ". A spec should fail with SpecFailed: put the command inside when(...).")
    if len(escaped) == len(mutants):
        return _no(f"no planted bug was caught. Do your specs use the {param} passed to {what} (not one you "
                   "imported)? Then add a spec for each rule the bugs break.")
    if escaped:
        return _no(f"your specs pass on the real code and catch {len(mutants) - len(escaped)} of {len(mutants)} "
                   f"planted bugs. Still escaping: {'; '.join(escaped)}. Which spec would notice that?")
    return _ok(f"your specs pass on the real code and catch all {len(mutants)} planted bugs: "
               f"{'; '.join(mutants)}.")


def check_order_specs(order_specs: Any) -> Feedback:
    """Exercise 1: ``order_specs(Order)`` runs given/when/then specs against the class it is given.

    They must pass on the real ``Order`` and fail (``SpecFailed``) on each of
    :data:`ORDER_MUTANTS`, three copies of ``Order`` with one bug each.
    """
    return _check_specs(order_specs, "order_specs", Order, ORDER_MUTANTS, "Order")


# -- Exercise 2: a view spec that catches a planted bug in the order summary ------------------------------------

class _LinesNotItems(OrderSummary):
    def handle(self, event: Any, recorded: Any, view: Any) -> None:
        if isinstance(event, ItemAdded):  # the bug: counts lines, not items
            row = view[event.order_id]
            view.update(event.order_id, item_count=row["item_count"] + 1,
                        total=row["total"] + event.price * event.quantity)
            return
        super().handle(event, recorded, view)


class _PaymentWithoutAmount(OrderSummary):
    def handle(self, event: Any, recorded: Any, view: Any) -> None:
        if isinstance(event, OrderPaid):  # the bug: the status moves, the amount and currency are lost
            view.update(event.order_id, status="paid", paid_at=recorded.recorded_at)
            return
        super().handle(event, recorded, view)


SUMMARY_MUTANTS: dict[str, type[OrderSummary]] = {
    "item_count counts lines instead of items": _LinesNotItems,
    "a payment's amount and currency are lost": _PaymentWithoutAmount,
}
"""The planted bugs of exercise 2."""


def check_summary_specs(summary_specs: Any) -> Feedback:
    """Exercise 2: ``summary_specs(OrderSummary)`` runs ``given(...).then_view(OrderSummary, rows=[...])``
    specs; they must pass on the real projection and fail on each of :data:`SUMMARY_MUTANTS`."""
    return _check_specs(summary_specs, "summary_specs", OrderSummary, SUMMARY_MUTANTS, "OrderSummary")


__all__ = ["ORDER_MUTANTS", "SUMMARY_MUTANTS", "check_order_specs", "check_summary_specs"]
