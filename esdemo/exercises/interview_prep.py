"""Notebook 17 · Interview prep."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from ..store.events import RecordedEvent
from .feedback import Feedback, _no, _not_done, _ok

READ_PLANS = ("view", "wait", "write model")  # what exercise 11.1's read_plan may answer


def _right_read_plan(checkpoint: int, required: int | None, waited_s: float, max_wait_s: float) -> str:
    if required is None or checkpoint >= required:
        return "view"
    return "wait" if waited_s < max_wait_s else "write model"


def _read_plan_cases(rng: random.Random) -> list[tuple[int, int | None, float, float]]:
    """(view_checkpoint, required_position, waited_s, max_wait_s): every branch and both edges."""
    cases = []
    for _ in range(3):
        required = rng.randrange(50, 5000)
        budget = rng.choice([0.2, 0.5, 2.0])
        cases += [
            (required + rng.randrange(1, 40), required, 0.0, budget),       # the view is past the write
            (required, required, 0.0, budget),                               # exactly at it
            (rng.randrange(0, 40), None, 0.0, budget),                       # nothing written this session
            (required - rng.randrange(1, 40), required, budget / 4, budget),  # behind, time left
            (required - 1, required, budget, budget),                        # behind, budget just spent
            (required - rng.randrange(1, 40), required, budget * 3, budget),  # behind, long past the budget
        ]
    return cases


def check_read_plan(read_plan: Callable[..., str]) -> Feedback:
    """Exercise 11.1: read-your-writes. ``read_plan(view_checkpoint, required_position, waited_s, max_wait_s)``.

    Returns ``"view"`` when the view has applied the position the user wrote
    at (or the user wrote nothing: ``required_position is None``), ``"wait"``
    while ``waited_s < max_wait_s``, and ``"write model"`` once the budget is
    spent (read the aggregate from the event store instead).
    """
    if _not_done(read_plan) or not callable(read_plan):
        return _no("define read_plan(view_checkpoint, required_position, waited_s, max_wait_s) first.")
    cases = _read_plan_cases(random.Random(11))
    for checkpoint, required, waited, budget in cases:
        expected = _right_read_plan(checkpoint, required, waited, budget)
        try:
            got = read_plan(checkpoint, required, waited, budget)
        except TypeError as exc:
            if required is None:
                return _no(f"with required_position=None your function raised {exc!r}. None means the user wrote "
                           "nothing in this session: any view is recent enough, return 'view'.")
            return _no(f"your function raised {exc!r}; call signature: read_plan(view_checkpoint, "
                       "required_position, waited_s, max_wait_s).")
        except Exception as exc:  # a learner's bug: report it, never raise from a check
            return _no(f"read_plan({checkpoint}, {required}, {waited}, {budget}) raised {exc!r}.")
        if got == expected:
            continue
        call = f"read_plan({checkpoint}, {required}, {waited}, {budget})"
        if got not in READ_PLANS:
            return _no(f"{call} returned {got!r}; return one of {', '.join(repr(p) for p in READ_PLANS)}.")
        if required is None:
            return _no(f"{call} returned {got!r}. None means the user wrote nothing in this session: any view is "
                       "recent enough, return 'view'.")
        if checkpoint == required:
            return _no(f"{call} returned {got!r}, but the view's checkpoint equals the position of the write. A "
                       "checkpoint is the position of the last event the view has applied, so the write is in the "
                       "view: use >=, not >.")
        if checkpoint > required:
            return _no(f"{call} returned {got!r}: the view is already past the write, serve it.")
        if got == "view":
            return _no(f"{call} returned 'view', but the view has applied only up to {checkpoint} and the write is at "
                       f"{required}: the user would not see their own change.")
        if waited < budget:
            return _no(f"{call} returned 'write model' at once. The view is usually only milliseconds behind; "
                       "wait while waited_s < max_wait_s, and fall back only when the budget is spent.")
        try:
            forever = read_plan(checkpoint, required, budget * 100, budget) == "wait"
        except Exception:  # only a probe for the hint; the answer is wrong either way
            forever = False
        if waited == budget and not forever:
            return _no(f"{call} returned 'wait', but the budget is spent at waited_s == max_wait_s: fall back to "
                       "the write model (wait only while waited_s < max_wait_s).")
        return _no(f"{call} returned 'wait' long after the budget ran out: a read that waits for ever is an outage. "
                   "Once waited_s >= max_wait_s, read from the write model.")
    return _ok(f"on {len(cases)} situations it serves the view once the checkpoint has reached the write "
               "(equal counts), waits while the budget lasts, then reads from the write model.")


def _payments_delivered_at_least_once(rng: random.Random) -> tuple[list[RecordedEvent], list[int]]:
    """Twelve OrderPaid events at positions with holes, and a delivery order with redeliveries."""
    positions = sorted(rng.sample(range(1, 90), 12))
    events = [RecordedEvent(position, f"Order-{50000 + n}", 4, "OrderPaid", 2,
                            {"order_id": str(50000 + n), "amount": Decimal(rng.randrange(500, 30000)) / 100,
                             "currency": "USD"}, {}, uuid.UUID(int=position),
                            datetime(2024, 6, 1, 9, tzinfo=timezone.utc) + timedelta(minutes=position))
              for n, position in enumerate(positions)]
    # A batch of five; a crash, so the runner redelivers from the fourth; a duplicate of the ninth; the rest.
    order = [0, 1, 2, 3, 4, 3, 4, 5, 6, 7, 8, 8, 9, 10, 11]
    return events, order


def _simulate(events: list[RecordedEvent], order: list[int], skip: Callable[[int, int], bool]) -> Decimal:
    checkpoint, revenue = 0, Decimal("0")
    for i in order:
        if skip(events[i].position, checkpoint):
            continue
        revenue += events[i].data["amount"]
        checkpoint = events[i].position
    return revenue


def check_idempotent_handler(apply_payment: Callable[[dict[str, Any], RecordedEvent], Any]) -> Feedback:
    """Exercise 11.2: a revenue handler that applies each event once although events arrive at least once.

    ``apply_payment(view, event)`` gets ``view = {"checkpoint": int, "revenue":
    Decimal}`` and a ``RecordedEvent``; it changes ``view`` in place (or
    returns the new view dict). The check delivers payments with a
    redelivered batch and a duplicate, at positions with holes.
    """
    if _not_done(apply_payment) or not callable(apply_payment):
        return _no("define apply_payment(view, event) first.")
    events, order = _payments_delivered_at_least_once(random.Random(111))
    view: dict[str, Any] = {"checkpoint": 0, "revenue": Decimal("0")}
    for i in order:
        try:
            returned = apply_payment(view, events[i])
        except Exception as exc:  # a learner's bug: report it, never raise from a check
            return _no(f"apply_payment raised {exc!r} on the event at position {events[i].position}. The view is a "
                       "dict {'checkpoint': int, 'revenue': Decimal}; the amount is event.data['amount'].")
        if isinstance(returned, dict):
            view = returned
    expected = sum((e.data["amount"] for e in events), Decimal("0"))
    revenue, checkpoint = view.get("revenue"), view.get("checkpoint")
    if isinstance(revenue, float):
        return _no("the revenue is a float: add Decimals.")
    if revenue == expected and checkpoint == events[-1].position:
        return _ok(f"{len(order)} deliveries of {len(events)} events, revenue {expected}: each event counted once, "
                   "and the checkpoint moved with the revenue.")
    holes = ", ".join(str(e.position) for e in events[:4])
    if checkpoint == 0 and revenue == 0:
        return _no(f"nothing was applied: the revenue is still 0. If you apply only position == checkpoint + 1: a view "
                   f"receives only the types it handles, so positions have holes (here {holes}, ...); skip only what "
                   "is <= checkpoint.")
    if checkpoint == 0:
        return _no("view['checkpoint'] never moved. After applying an event, set it to event.position, in the same "
                   "step as the revenue (in a database: the same transaction); it is how the view knows what it has "
                   "done.")
    if revenue == _simulate(events, order, lambda position, cp: False):
        return _no(f"the revenue counts every delivery ({revenue} instead of {expected}). Delivery is at least once: "
                   "skip an event whose position is <= view['checkpoint'].")
    if revenue == _simulate(events, order, lambda position, cp: position < cp):
        return _no(f"the event AT the checkpoint was counted again ({revenue} instead of {expected}). The checkpoint is "
                   "the position of the last event applied, so skip position <= checkpoint, not < .")
    if revenue == _simulate(events, order, lambda position, cp: position != cp + 1):
        return _no(f"you applied only the event at checkpoint + 1 ({revenue} instead of {expected}). A view receives "
                   f"only the types it handles, so positions have holes (here {holes}, ...): skip only what is "
                   "<= checkpoint.")
    return _no(f"after all deliveries the view holds revenue={revenue!r}, checkpoint={checkpoint!r}; expected "
               f"revenue={expected}, checkpoint={events[-1].position}.")
