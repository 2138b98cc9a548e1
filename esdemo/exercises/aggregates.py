"""Notebook 05 · Aggregates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ..examples.orders import ItemAdded, Order, OrderCreated, OrderPaid, OrderSubmitted
from ..store.errors import ConflictError
from ..store.event_store import EventStore
from ..store.events import AppendResult
from ..tables import format_value
from ..write.aggregate import DomainError
from ..write.domain import EventRegistry
from ..write.repository import Repository
from .feedback import Feedback, _fresh_store, _no, _not_done, _ok, _RunawayLoop

_SUBMITTED_AT = datetime(2024, 1, 5, 12, tzinfo=timezone.utc)


def _order_for_coupons(cls: type, order_id: str, items: list[tuple[str, str, int]]) -> Any:
    order = cls.create(order_id, customer="c-7")
    for sku, price, quantity in items:
        order.add_item(sku, Decimal(price), quantity)
    return order


def _refusal_problem(order: Any, what: str, code: str, amount: Decimal) -> str | None:
    """None if apply_coupon(code, amount) is refused with DomainError and records nothing; else the hint."""
    before = len(order.pending_events)
    try:
        order.apply_coupon(code, amount)
    except DomainError:
        if len(order.pending_events) != before:
            return (f"{what} was refused, but only after recording a CouponApplied event. A command validates "
                    "first and records last, so a refused command leaves no trace.")
        return None
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        return (f"{what} raised {type(exc).__name__}({exc}); raise DomainError instead. Callers catch "
                "DomainError to tell a refused command (show it to the user) from a bug (fix the code).")
    return f"{what} was accepted. apply_coupon must refuse it with DomainError."


_COUPON_ITEMS = [("MUG-1", "12.00", 2), ("TEA-3", "8.50", 1)]  # total 32.50
_SWALLOWED = ("your apply swallows the Order's own events. End the match with `case _: super().apply(event)`, "
              "so Order.apply handles them.")


def _diagnose_coupon_class(CouponOrder: Any) -> str | None:  # noqa: N803 - the learner's class
    """None if ``CouponOrder`` is a class extending Order with an apply_coupon method; else what is missing."""
    if _not_done(CouponOrder) or not isinstance(CouponOrder, type):
        return "define the class first: class CouponOrder(Order): ..."
    if not issubclass(CouponOrder, Order):
        return ("CouponOrder must extend Order (class CouponOrder(Order): ...), so it keeps the order's "
                "commands and rules and only adds the coupon.")
    if not callable(getattr(CouponOrder, "apply_coupon", None)):
        return "CouponOrder has no apply_coupon method. Define the command apply_coupon(self, code, amount)."
    return None


def _create_order_with_items(CouponOrder: type) -> tuple[Any, str | None]:  # noqa: N803 - the learner's class
    """``(order, None)``: a new CouponOrder 'C-1' with two items worth 32.50; or ``(None, why it failed)``."""
    try:
        order = CouponOrder.create("C-1", customer="c-7")
    except Exception as exc:  # noqa: BLE001
        return None, (f"CouponOrder.create('C-1', customer='c-7') failed with {type(exc).__name__}: {exc}. Keep "
                      "__init__(self, id) and call super().__init__(id) first.")
    if order.status != "created":
        return None, (f"after CouponOrder.create(...) the order's status is {order.status!r}, not 'created': "
                      f"{_SWALLOWED}")
    try:
        for sku, price, quantity in _COUPON_ITEMS:
            order.add_item(sku, Decimal(price), quantity)
    except Exception as exc:  # noqa: BLE001
        return None, f"adding items to a CouponOrder failed with {type(exc).__name__}: {exc}."
    if order.total != Decimal("32.50"):
        return None, f"after two items worth 32.50 the total is {order.total}: {_SWALLOWED}"
    return order, None


def _diagnose_valid_coupon_refused(order: Any) -> str | None:
    """Apply the valid coupon SPRING (7.50 off); None if the command ran, else why it failed."""
    try:
        order.apply_coupon("SPRING", Decimal("7.50"))
    except DomainError as exc:
        return f"a valid coupon (7.50 off a total of 32.50, before submit) was refused: {exc}. Check your conditions."
    except TypeError as exc:
        if "has no case for" in str(exc):
            return ("apply has no case for CouponApplied: record() calls apply, which fell through to Order.apply. "
                    "Add `case CouponApplied(): ...` before `case _: super().apply(event)`.")
        return f"apply_coupon('SPRING', Decimal('7.50')) raised TypeError: {exc}"
    except Exception as exc:  # noqa: BLE001
        return f"apply_coupon('SPRING', Decimal('7.50')) raised {type(exc).__name__}: {exc}"
    return None


def _diagnose_recorded_coupon(order: Any, new: list[Any]) -> str | None:
    """None if the valid coupon recorded one right CouponApplied and lowered the total once; else the hint."""
    if len(new) != 1:
        return (f"a valid coupon should record exactly one event; yours recorded {len(new)}. "
                "Call self.record(CouponApplied(self.id, code, amount)) once, after the checks.")
    event = new[0]
    if type(event).__name__ != "CouponApplied":
        return f"the coupon recorded a {type(event).__name__}; record a CouponApplied(self.id, code, amount)."
    if (getattr(event, "code", None), getattr(event, "amount", None)) != ("SPRING", Decimal("7.50")):
        return (f"the event is {event!r}; it should carry the code and amount the command was given "
                "(CouponApplied(self.id, code, amount)).")
    if order.total == Decimal("17.50"):
        return ("the total went down twice (32.50 - 7.50 - 7.50 = 17.50): once in the command and once in apply. "
                "Change the total only in apply.")
    return None


def _diagnose_replay_differs(CouponOrder: type, order: Any) -> str | None:  # noqa: N803 - the learner's class
    """None if replaying the order's events into a blank CouponOrder gives the same state; else the differences."""
    replayed = CouponOrder(order.id)
    replayed.replay(list(order.pending_events), version=len(order.pending_events))
    live, again = order.snapshot_state(), replayed.snapshot_state()
    if live != again:
        differs = {k: (live.get(k), again.get(k)) for k in sorted(set(live) | set(again)) if live.get(k) != again.get(k)}
        shown = "; ".join(f"{k}: live {format_value(a)}, replayed {format_value(b)}" for k, (a, b) in differs.items())
        return (f"replaying the same events into a blank CouponOrder gives a different order ({shown}). The "
                "command changed the state itself; a load would lose that change. Only record in the command, "
                "and make every state change in apply, which runs for new and for replayed events alike.")
    return None


def _diagnose_coupon_state(order: Any) -> str | None:
    """None if apply lowered the total to 25.00 and set the coupon to 'SPRING'; else which one it missed."""
    if order.total != Decimal("25.00"):
        return (f"after 7.50 off 32.50 the total is {order.total}, expected 25.00: in apply, lower self.total by "
                "event.amount.")
    if getattr(order, "coupon", None) != "SPRING":
        return (f"after the coupon, order.coupon is {getattr(order, 'coupon', None)!r}; apply should set it to the "
                "event's code ('SPRING').")
    return None


def _first_wrong_refusal(CouponOrder: type, order: Any) -> str | None:  # noqa: N803 - the learner's class
    """Each coupon the rules forbid, in turn; the first one not refused cleanly, or None."""
    submitted = _order_for_coupons(CouponOrder, "C-2", _COUPON_ITEMS)
    submitted.submit(at=_SUBMITTED_AT)
    paid = _order_for_coupons(CouponOrder, "C-3", [("BAG-9", "40.00", 1)])
    paid.submit(at=_SUBMITTED_AT)
    paid.pay()
    cases = [
        (order, "a second coupon on the same order", "AGAIN", Decimal("1.00")),
        (submitted, "a coupon on a submitted order", "LATE", Decimal("1.00")),
        (paid, "a coupon on a paid order", "LATER", Decimal("1.00")),
        (_order_for_coupons(CouponOrder, "C-4", [("PEN-2", "2.50", 3)]), "a coupon of 0.00", "ZERO", Decimal("0.00")),
        (_order_for_coupons(CouponOrder, "C-5", [("PEN-2", "2.50", 3)]), "a coupon of -5.00", "MINUS", Decimal("-5.00")),
        (_order_for_coupons(CouponOrder, "C-6", [("PEN-2", "2.50", 3)]), "a coupon of 7.51 on a total of 7.50", "BIG",
         Decimal("7.51")),
    ]
    for target, what, code, amount in cases:
        problem = _refusal_problem(target, what, code, amount)
        if problem:
            return problem
    return None


def _diagnose_save_and_load(CouponOrder: type, order: Any, coupon_event: type) -> str | None:  # noqa: N803
    """None if the order saved to a real store and loaded again is the same order; else what came back."""
    registry = EventRegistry()
    for cls in (OrderCreated, ItemAdded, OrderSubmitted, OrderPaid, coupon_event):
        registry.register(cls)
    with _fresh_store() as store:
        repository = Repository(store, CouponOrder, registry=registry)
        repository.save(order)
        loaded = repository.load(order.id)
        if loaded.snapshot_state() != order.snapshot_state():
            return (f"saved and loaded again, the order is {loaded.snapshot_state()} instead of "
                    f"{order.snapshot_state()}. State must come only from the events.")
    return None


def check_coupon_order(CouponOrder: Any) -> Feedback:  # noqa: N803 - the learner's class
    """Exercise 04.1: an Order with a coupon command that validates, records, and changes state only in apply.

    The check runs the learner's class on orders of its own: a valid coupon,
    each rule (after submit or payment, a second coupon, zero, more than the
    total), a replay of the recorded events into a blank order, and a save
    and load through a real store.
    """
    problem = _diagnose_coupon_class(CouponOrder)
    if problem:
        return _no(problem)
    order, problem = _create_order_with_items(CouponOrder)
    if problem:
        return _no(problem)
    recorded = len(order.pending_events)
    problem = (_diagnose_valid_coupon_refused(order)
               or _diagnose_recorded_coupon(order, order.pending_events[recorded:]))
    if problem:
        return _no(problem)
    coupon_event = order.pending_events[recorded]
    problem = (_diagnose_replay_differs(CouponOrder, order)
               or _diagnose_coupon_state(order)
               or _first_wrong_refusal(CouponOrder, order)
               or _diagnose_save_and_load(CouponOrder, order, type(coupon_event)))
    if problem:
        return _no(problem)
    return _ok("the coupon command validates first and records one CouponApplied; apply changes the total, so a "
               "replay (and a load from the store) gives the same order; a second coupon, a coupon after submit or "
               "payment, and amounts of zero or more than the total are refused with nothing recorded.")


def _clerk(store: EventStore, order_id: str, command: Callable[[Order], None]) -> None:
    """Another user, with a repository of their own, runs ``command`` on the order and saves it."""
    other = Repository(store, Order)
    order = other.load(order_id)
    command(order)
    other.save(order)


def _interfere(orders: Repository, action: Callable[[], None], times: int) -> list[int]:
    """Patch ``orders.load``: after each of the first ``times`` loads, ``action`` runs. Returns the load count."""
    real_load, loads = orders.load, [0]

    def load(*args: Any, **kwargs: Any) -> Any:
        loads[0] += 1
        if loads[0] > 20:
            raise _RunawayLoop()
        aggregate = real_load(*args, **kwargs)
        if loads[0] <= times:
            action()
        return aggregate

    orders.load = load  # type: ignore[method-assign]
    return loads


def _seed_order(store: EventStore, order_id: str, *, submit: bool) -> None:
    order = Order.create(order_id, customer="c-9")
    order.add_item("BOOK-1", Decimal("25.00"), 2)
    if submit:
        order.submit(at=_SUBMITTED_AT)
    Repository(store, Order).save(order)


_TEA = Decimal("8.00")


def _diagnose_retry_after_conflict(execute: Callable[..., Any]) -> str | None:
    """Another clerk adds an item between the load and the save: None if the retry ran the command on the new state."""
    with _fresh_store() as store:
        _seed_order(store, "A-1", submit=False)
        orders = Repository(store, Order)
        loads = _interfere(orders, lambda: _clerk(store, "A-1", lambda o: o.add_item("MUG-1", Decimal("12.00"))), 1)
        try:
            result = execute(orders, "A-1", lambda order: order.add_item("TEA-3", _TEA))
        except ConflictError:
            return ("another clerk added an item between your load and your save, and the ConflictError escaped. "
                    "Catch it, load the order again, run the command on the new order, save again.")
        except _RunawayLoop:
            return ("your function kept loading the order (more than 20 times) after one conflict. Load, run the "
                    "command, save; go round again only on ConflictError.")
        except TypeError as exc:
            return (f"call signature mismatch ({exc}). Use execute(orders, order_id, command, attempts=3), and "
                    "call command(order) with the loaded order.")
        items = [e for e in store.read("Order-A-1") if e.type == "ItemAdded"]
        mine = [e for e in items if e.data["sku"] == "TEA-3"]
        if not mine:
            return "nothing of yours was saved: after command(order), call orders.save(order)."
        if len(mine) > 1:
            return f"the command was saved {len(mine)} times; save once per successful attempt."
        expected_total = [e for e in items if e.version < mine[0].version][-1].data["new_total"] + _TEA
        if mine[0].data["new_total"] != expected_total:
            return (f"your ItemAdded says new_total={mine[0].data['new_total']}, but after the other clerk's item "
                    f"the total was {expected_total - _TEA} + {_TEA} = {expected_total}. The retry saved a decision "
                    "made on the old order. Load the order again inside the loop and run the command on it.")
        if loads[0] < 2:
            return ("your function saved without loading the order again after the conflict; load it again "
                    "inside the loop.")
        if not isinstance(result, AppendResult):
            return (f"it worked, but execute returned {result!r}; return what orders.save(order) returns (an "
                    "AppendResult), so the caller knows the new version and position.")
    return None


def _diagnose_paid_by_another_clerk(execute: Callable[..., Any]) -> str | None:
    """Another clerk pays first: None if the order's DomainError reached the caller and the order was paid once."""
    with _fresh_store() as store:
        _seed_order(store, "B-1", submit=True)
        orders = Repository(store, Order)
        _interfere(orders, lambda: _clerk(store, "B-1", lambda o: o.pay()), 1)
        try:
            execute(orders, "B-1", lambda order: order.pay())
        except DomainError:
            pass
        except ConflictError:
            return ("when another clerk paid first, your function let ConflictError escape. Reload and run pay() "
                    "again: the order itself will then refuse, because it is already paid.")
        except _RunawayLoop:
            return ("when another clerk paid first, your function kept retrying. A DomainError is the order's "
                    "answer; let it reach the caller instead of trying again.")
        else:
            payments = [e for e in store.read("Order-B-1") if e.type == "OrderPaid"]
            if len(payments) > 1:
                return (f"the order was paid {len(payments)} times! Your retry saved pay() decided on the stale "
                        "order. Load the order again inside the loop and run the command on it.")
            return ("another clerk paid first; on the retry the order refused (it is already paid), but your "
                    "function returned as if it had worked. Let DomainError reach the caller: a broken rule is an "
                    "answer, and retrying cannot change it.")
    return None


def _diagnose_always_conflicting(execute: Callable[..., Any]) -> str | None:
    """A clerk always gets in first: None if execute gave up after ``attempts`` loads with ConflictError."""
    with _fresh_store() as store:
        _seed_order(store, "C-1", submit=False)
        orders = Repository(store, Order)
        loads = _interfere(orders, lambda: _clerk(store, "C-1", lambda o: o.add_item("PEN-2", Decimal("2.50"))), 99)
        try:
            execute(orders, "C-1", lambda order: order.add_item("TEA-3", _TEA), attempts=3)
        except ConflictError:
            if loads[0] != 3:
                return (f"with attempts=3 your function loaded the order {loads[0]} times; try exactly `attempts` "
                        "times, then re-raise.")
        except _RunawayLoop:
            return ("with a clerk who always gets in first, your function retries forever. After `attempts` "
                    "tries, re-raise the ConflictError.")
        else:
            return ("when every attempt conflicts, your function returned normally. After `attempts` tries, "
                    "re-raise the ConflictError so the caller knows nothing was saved.")
    return None


def check_execute(execute: Any) -> Feedback:
    """Exercise 04.2: ``execute(orders, order_id, command, attempts=3)``, the command handler with retries.

    Three scenarios on a store of the check's own: another clerk adds an item
    between the learner's load and save (the retry must run the command on
    the new state); another clerk pays first (the retry must let the order's
    DomainError through, so the order is paid once); and a clerk who always
    gets in first (give up after ``attempts`` with ConflictError).
    """
    if _not_done(execute) or not callable(execute):
        return _no("define execute(orders, order_id, command, attempts=3) first.")
    problem = (_diagnose_retry_after_conflict(execute)
               or _diagnose_paid_by_another_clerk(execute)
               or _diagnose_always_conflicting(execute))
    if problem:
        return _no(problem)
    return _ok("it loads, runs the command, and saves with the loaded version; on a conflict it runs the command "
               "again on the reloaded order (so the order was paid only once), lets the order's DomainError through, "
               "and gives up after `attempts` conflicts.")
