"""An event-storming board as data: the timeline of domain events, and who or what causes each one.

In an event-storming session people stick orange notes (domain events, in the
past tense) along a wall in time order, then add in front of each the blue
note (the command that caused it), the yellow one (the actor who sent it) or
the lilac one (the policy, "whenever X, then Y", that sent it instead), and the
green one (the read model the actor looked at to decide). :class:`Step` is
one column of that wall, :func:`storming_board` lays a list of them out as a
table, and :func:`policy_sentences` reads the policies back as sentences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

BOARD_COLUMNS = ("#", "read model", "actor / policy", "command", "event")


class BoardError(ValueError):
    """A board that does not hold together (a step with no event, a policy woken by nothing earlier, ...)."""


@dataclass(frozen=True)
class Step:
    """One column of the wall: an ``event`` and what caused it.

    The cause is a ``command`` sent either by an ``actor`` (a person or an outside
    system, who looked at ``read_model`` to decide) or by a ``policy`` woken by
    an earlier event, its ``trigger``. An event with neither (a clock, the
    outside world) is allowed: storming finds those too.
    """

    event: str
    command: str | None = None
    actor: str | None = None
    policy: str | None = None
    trigger: str | None = None
    read_model: str | None = None


def _check(steps: Sequence[Step]) -> None:
    seen: list[str] = []
    for n, step in enumerate(steps, start=1):
        if not isinstance(step, Step) or not step.event:
            raise BoardError(f"step {n} has no event: every column of the board starts with its orange note "
                             "(a domain event in the past tense), e.g. Step('OrderPaid', ...)")
        if step.actor and step.policy:
            raise BoardError(f"step {n} ({step.event}) names both an actor ({step.actor!r}) and a policy "
                             f"({step.policy!r}): a command has one sender; split it into two steps")
        if step.policy and step.trigger not in seen:
            raise BoardError(f"step {n}: the policy {step.policy!r} is woken by {step.trigger!r}, which is not an "
                             f"earlier event on the board (earlier: {', '.join(seen) or 'none'}); a policy reacts to something that already "
                             "happened, so put its trigger before it")
        if step.trigger and not step.policy:
            raise BoardError(f"step {n} ({step.event}) has a trigger ({step.trigger!r}) but no policy: name the "
                             "policy that reacts to it (\"whenever X, then Y\")")
        seen.append(step.event)


def storming_board(steps: Sequence[Step]) -> pd.DataFrame:
    """The wall as a table, one row per event in time order: read model, actor or policy, command, event.

    A policy shows as ``policy: <name> (on <trigger>)``; an empty cell shows as ``""``.
    Raises :class:`BoardError` when a step has no event, two senders, or a policy
    whose trigger is not an earlier event.
    """
    _check(steps)
    rows = []
    for n, step in enumerate(steps, start=1):
        sender = f"policy: {step.policy} (on {step.trigger})" if step.policy else (step.actor or "")
        rows.append({"#": n, "read model": step.read_model or "", "actor / policy": sender,
                     "command": step.command or "", "event": step.event})
    return pd.DataFrame(rows, columns=list(BOARD_COLUMNS)).set_index("#")


def policy_sentences(steps: Sequence[Step]) -> list[str]:
    """Each policy on the board as the sentence a domain expert would say: "whenever X, then Y"."""
    _check(steps)
    return [f"{step.policy}: whenever {step.trigger}, then {step.command or '(no command yet)'}"
            for step in steps if step.policy]


ORDER_STORMING: tuple[Step, ...] = (
    Step("OrderCreated", "CreateOrder", actor="customer", read_model="product catalogue"),
    Step("ItemAdded", "AddItem", actor="customer", read_model="product catalogue"),
    Step("OrderSubmitted", "SubmitOrder", actor="customer", read_model="basket with its total"),
    Step("StockReserved", "ReserveStock", policy="reserve what is ordered", trigger="OrderSubmitted",
         read_model="stock on hand"),
    Step("PaymentFailed", "TakePayment", actor="payment provider"),
    Step("OrderCancelled", "CancelOrder", policy="no payment, no order", trigger="PaymentFailed"),
    Step("StockReleased", "ReleaseStock", policy="give back what a cancelled order held", trigger="OrderCancelled"),
    Step("OrderPaid", "TakePayment", actor="payment provider"),
    Step("OrderShipped", "ShipOrder", actor="warehouse clerk", read_model="picking list of paid orders"),
)
"""The course's order domain as a storming session finds it: the happy path's events (OrderCreated,
ItemAdded, OrderSubmitted, OrderPaid) and what the room adds around them (stock, a failed payment,
a cancellation). One board holds both endings of the payment: ``TakePayment`` ends in
``PaymentFailed`` or in ``OrderPaid``."""
