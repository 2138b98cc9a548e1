"""Checks for "Sagas and process managers": write the compensation; make a reaction idempotent."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from ..examples.checkout import CancelOrder, CheckoutProcess, RefundPayment, ReleaseStock, compensations, run_scenario
from .feedback import Feedback, _no, _not_done, _ok

PLANS = [["stock"], ["stock", "payment"], []]


def _describe(plan: Any) -> str:
    try:
        return "[" + ", ".join(f"({step!r}, {type(command).__name__})" for step, command in plan) + "]"
    except Exception:  # not a list of pairs: show it as it is
        return repr(plan)


def _diagnose_wrong_plan(completed: Any, plan: list[Any], want: list[tuple[str, Any]]) -> str:
    """Why ``plan`` differs from the right undo plan ``want`` after ``completed``: its first typical mistake."""
    kinds = [type(command) for _, command in plan] if all(isinstance(p, tuple) and len(p) == 2 for p in plan) else None
    if kinds is None:
        return (f"return a list of (step, command) pairs, e.g. [('release-stock', ReleaseStock(order_id, reason))]; "
                f"got {plan!r}.")
    if CancelOrder not in kinds:
        return (f"after {completed} the order must end cancelled: add ('cancel-order', CancelOrder(order_id, "
                "reason)) as the last step, or it stays 'placed' for ever.")
    if "payment" not in completed and RefundPayment in kinds:
        return (f"after {completed} nothing was charged, so there is nothing to refund: undo only the steps that "
                "completed.")
    if "stock" not in completed and ReleaseStock in kinds:
        return f"after {completed} nothing was reserved: undo only the steps that completed."
    if "stock" in completed and ReleaseStock not in kinds:
        return f"after {completed} the stock is still reserved: release it with ReleaseStock."
    if "payment" in completed and RefundPayment not in kinds:
        return (f"after {completed} the customer was charged: refund with RefundPayment (a new event; the "
                "charge stays in the log).")
    if sorted(map(repr, plan)) == sorted(map(repr, want)):
        return (f"right steps, wrong order: {_describe(plan)}. Undo newest first (refund, then release), and "
                "cancel the order last, once everything it held is given back.")
    return (f"for completed={completed} the plan is {_describe(plan)}; expected {_describe(want)} (the step names "
            "'refund-payment', 'release-stock', 'cancel-order' name the command ids; keep the reason).")


def _diagnose_in_checkout(compensate: Callable[[str, list[str], str], Any]) -> str | None:
    """Run the learner's plan inside the checkout process: None if both scenarios end with the shop made whole."""
    class Learners(CheckoutProcess):
        def compensations(self, order_id: str, completed: list[str], reason: str) -> list[tuple[str, Any]]:
            return list(compensate(order_id, completed, reason))

    for scenario in ("declined", "refused"):
        try:
            run = run_scenario(scenario, backend="sqlite", process=Learners)
        except Exception as exc:
            return f"in the {scenario} scenario the process manager failed with {exc!r}."
        try:
            ledger, on_hand, status = run.ledger, run.shop.warehouse().on_hand, run.shop.order_status("A1")
        finally:
            run.store.close()
        if on_hand != {"BOOK-1": 10, "PEN-2": 10} or status != "cancelled" or ledger["PaymentRefunded"] != \
                ledger["PaymentCharged"]:
            return f"in the {scenario} scenario the shop ended with stock {on_hand}, order {status}, ledger {ledger}."
    return None


def check_compensation(compensate: Callable[[str, list[str], str], Any]) -> Feedback:
    """Exercise 1: ``compensate(order_id, completed, reason)`` returns the undo plan as ``[(step, command), ...]``.

    It is checked on three histories, then run inside the checkout process
    on a declined payment and a refused shipment: the stock must be back,
    the charge refunded once, the order cancelled, and no event deleted.
    """
    if _not_done(compensate) or not callable(compensate):
        return _no("define compensate(order_id, completed, reason) first.")
    for completed in PLANS:
        try:
            plan = list(compensate("Z9", list(completed), "payment declined"))
        except Exception as exc:  # a learner's bug: report it, never raise from a check
            return _no(f"compensate('Z9', {completed}, 'payment declined') raised {exc!r}.")
        want = compensations("Z9", list(completed), "payment declined")
        if plan != want:
            return _no(_diagnose_wrong_plan(completed, plan, want))
    problem = _diagnose_in_checkout(compensate)
    if problem:
        return _no(problem)
    return _ok("newest first, only what completed, and the order cancelled last: the declined payment gave its stock "
               "back, and the refused shipment refunded once. Nothing was deleted: the log shows the charge and the refund.")


def _deliveries(rng: random.Random) -> tuple[list[dict[str, Any]], list[int]]:
    """Confirmed orders as messages, delivered at least once: a batch redelivered and a stray duplicate."""
    customers = ["c-1", "c-2", "c-1", "c-3", "c-2", "c-1"]
    messages = [{"message_id": f"m-{rng.randrange(10**6):06d}-{i}", "customer_id": c, "order_id": f"O{i + 1}"}
                for i, c in enumerate(customers)]
    order = [0, 1, 2, 1, 2, 3, 4, 4, 5, 0]
    return messages, order


def check_idempotent_reaction(award_points: Callable[[dict[str, Any], dict[str, Any]], Any]) -> Feedback:
    """Exercise 2: ``award_points(message, db)`` gives 10 points per confirmed order, once per message.

    ``db`` is ``{"points": {customer_id: int}, "seen": set of message ids}``
    (the consumer's own database: its points and its inbox). Messages arrive
    at least once: some twice, a batch again.
    """
    if _not_done(award_points) or not callable(award_points):
        return _no("define award_points(message, db) first.")
    messages, order = _deliveries(random.Random(13))
    db: dict[str, Any] = {"points": {}, "seen": set()}
    for index in order:
        try:
            award_points(dict(messages[index]), db)
        except Exception as exc:
            return _no(f"award_points raised {exc!r} on {messages[index]!r}. db is {{'points': {{...}}, 'seen': set()}}.")
    want: dict[str, int] = {}
    for message in messages:
        want[message["customer_id"]] = want.get(message["customer_id"], 0) + 10
    points = db.get("points")
    if points == want and set(db.get("seen", ())) == {m["message_id"] for m in messages}:
        return _ok(f"{len(order)} deliveries of {len(messages)} messages, points {dict(sorted(want.items()))}: each "
                   "message applied once, and its id remembered with the points (in a database: one transaction).")
    every = {}
    for index in order:
        customer = messages[index]["customer_id"]
        every[customer] = every.get(customer, 0) + 10
    if points == every:
        return _no(f"every delivery counted ({dict(sorted(points.items()))} instead of {dict(sorted(want.items()))}): "
                   "delivery is at least once. Skip a message whose message_id is in db['seen'], and add it there.")
    if points == {c: 10 for c in want}:
        return _no("each customer got 10 points once, whatever they bought: deduplicate by the message id, not the "
                   "customer (c-1 confirmed three different orders).")
    if points == want:
        return _no("the points are right but db['seen'] does not hold the message ids: remember each message id you "
                   "applied, or the next redelivery (after a restart) counts it again.")
    return _no(f"after all deliveries points={points!r}; expected {dict(sorted(want.items()))}.")
