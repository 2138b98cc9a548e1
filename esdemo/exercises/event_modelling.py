"""Event modelling: name the events, and decide what an integration event carries."""

from __future__ import annotations

import copy
import random
import re
from decimal import Decimal
from typing import Any

from .feedback import Feedback, _no, _not_done, _ok

KINDS = ("event", "command", "crud")
"""The verdicts of exercise 1: a good domain ``event``, a ``command`` in disguise, a ``crud``-shaped smell."""

PROPOSED_EVENTS: dict[str, str] = {
    "OrderUpdated": "written whenever the customer puts another product in the basket",
    "UpdateOrder": "written when the customer checks out, after which the order can no longer change",
    "PaymentProcess": "written when the payment provider tells us the card was charged",
    "ShipOrder": "written when the courier has collected the parcel from the warehouse",
    "CustomerAddressChanged": "written when a customer who moved house enters the new address",
    "OrderStatusSetToPaid": "written when the bank transfer for an order arrives",
    "StockReserved": "written when the warehouse sets aside the items of a submitted order",
    "OrderDeleted": "written when a customer cancels an order before paying (the old system deleted its row)",
    "PaymentFailed": "written when the payment provider declines the card",
}
"""Exercise 1: the names a team proposed, each with when it is written."""

_ANSWERS: dict[str, tuple[str, frozenset[str], str]] = {
    "OrderUpdated": ("crud", frozenset({"ItemAdded", "OrderItemAdded", "ItemAddedToOrder", "LineItemAdded",
                                        "ProductAdded", "ProductAddedToOrder", "ItemPutInBasket"}),
                     "it says a row changed, not what happened: the fact is that an item was added"),
    "UpdateOrder": ("command", frozenset({"OrderSubmitted", "OrderPlaced", "OrderCheckedOut", "CheckoutCompleted"}),
                    ("it is an order given (imperative), and a vague one; the fact is that the customer submitted "
                     "(placed) the order")),
    "PaymentProcess": ("command", frozenset({"OrderPaid", "PaymentReceived", "PaymentCaptured", "PaymentTaken",
                                             "PaymentSucceeded", "PaymentCompleted", "PaymentAccepted",
                                             "PaymentCharged", "CardCharged"}),
                       ("it names the work to do, not its outcome; and a process can still fail. The fact is that "
                        "the payment went through (the order was paid)")),
    "ShipOrder": ("command", frozenset({"OrderShipped", "ParcelShipped", "OrderDispatched", "ParcelDispatched",
                                        "ParcelCollected", "ShipmentDispatched", "ParcelHandedToCourier"}),
                  ("it is imperative: someone asks for a shipment, which may be refused. The fact is that the order "
                   "was shipped")),
    "CustomerAddressChanged": ("event", frozenset({"CustomerAddressChanged", "CustomerMoved", "CustomerRelocated"}),
                               ("it is past tense and says one business fact, in the words the business uses; "
                                "'Changed' on one meaningful attribute is fine (CustomerMoved is even closer to the "
                                "reason)")),
    "OrderStatusSetToPaid": ("crud", frozenset({"OrderPaid", "PaymentReceived", "TransferReceived",
                                                "BankTransferReceived", "PaymentCaptured", "PaymentSucceeded"}),
                             "it describes a column being set, not the business fact behind it: the money arrived"),
    "StockReserved": ("event", frozenset({"StockReserved"}),
                      "it is past tense and names exactly what happened in the warehouse's words"),
    "OrderDeleted": ("crud", frozenset({"OrderCancelled", "OrderCanceled", "OrderCancelledByCustomer",
                                        "OrderWithdrawn", "OrderAbandoned"}),
                     ("it repeats what the old database did to a row; in an event log nothing is deleted, and the "
                      "business fact is that the customer cancelled")),
    "PaymentFailed": ("event", frozenset({"PaymentFailed", "PaymentDeclined", "CardDeclined", "PaymentRejected"}),
                      ("it is past tense and names a fact the business cares about (a storming session finds it "
                       "next to OrderPaid)")),
}


def _past_tense_hint(name: str) -> str:
    return ("name the fact in the past tense, in the business's words (Noun + past participle, e.g. "
            f"'OrderShipped'); {name!r} is not a name this check accepts here")


def check_event_names(verdicts: Any) -> Feedback:
    """Exercise 1: ``verdicts`` maps each name of :data:`PROPOSED_EVENTS` to ``(kind, better_name)``.

    ``kind`` is one of :data:`KINDS`; ``better_name`` is the past-tense name to
    use (for a good event: its own name, or ``None`` to keep it). Several good
    renames are accepted for each; the feedback lists every wrong entry and why.
    """
    if _not_done(verdicts) or not isinstance(verdicts, dict):
        return _no("make verdicts a dict {proposed name: (kind, better name)}, one entry for each of the "
                   f"{len(PROPOSED_EVENTS)} names in PROPOSED_EVENTS.")
    missing = [name for name in PROPOSED_EVENTS if name not in verdicts]
    extra = [name for name in verdicts if name not in PROPOSED_EVENTS]
    if missing or extra:
        return _no(f"give one verdict for each proposed name: missing {missing}, unknown {extra}.")
    problems: list[str] = []
    for name, verdict in verdicts.items():
        if not (isinstance(verdict, tuple) and len(verdict) == 2):
            problems.append(f"{name}: write a pair (kind, better name), e.g. ('command', 'OrderShipped'); "
                            f"got {verdict!r}")
            continue
        kind, better = verdict
        right_kind, renames, why = _ANSWERS[name]
        if kind not in KINDS:
            problems.append(f"{name}: the kind must be one of {KINDS}, got {kind!r}")
            continue
        if kind != right_kind:
            problems.append(f"{name} is not {_ARTICLE[kind]}: {why}")
            continue
        if (better is None or better == "") and right_kind == "event":
            continue
        if not isinstance(better, str) or not better:
            problems.append(f"{name}: give the better name as text ({_past_tense_hint(str(better))})")
        elif better in renames:
            continue
        elif better.lower() in {r.lower() for r in renames}:
            problems.append(f"{name}: {better!r} is the right idea; write it in PascalCase like the other events")
        elif re.match(r"^(Update|Set|Change|Process|Ship|Submit|Cancel|Pay|Add|Delete|Create)", better):
            problems.append(f"{name}: {better!r} starts with a verb in the imperative, so it reads as a command; "
                            + _past_tense_hint(better))
        elif re.search(r"(Updated|Changed|Modified|Saved|Deleted|StatusSet|SetTo)", better):
            problems.append(f"{name}: {better!r} is still CRUD-shaped (it says data changed, not what happened); "
                            "what does the sentence after the name say happened?")
        else:
            problems.append(f"{name}: {_past_tense_hint(better)} (it is {PROPOSED_EVENTS[name]})")
    if problems:
        return _no(f"{len(problems)} of {len(PROPOSED_EVENTS)} verdicts to revisit: " + " | ".join(problems))
    return _ok("every name classified and every rename a past-tense business fact. Commands ask (and may be "
               "refused), events state what happened, and a CRUD name hides the reason the data changed.")


_ARTICLE = {"event": "a good domain event", "command": "a command in disguise", "crud": "a CRUD-shaped smell"}

# --------------------------------------------------------------------------- exercise 2

PERSONAL_FIELDS = ("customer_name", "customer_email", "shipping_address", "card_last4")
_SKUS = ["BOOK-1", "PEN-2", "MUG-3", "LAMP-4", "SOCK-5", "CARD-6", "TEA-7"]


def sample_paid_order(seed: int = 0) -> dict[str, Any]:
    """A paid order as the order service knows it internally: lines, prices and the customer's personal data."""
    rng = random.Random(seed)
    lines = [{"sku": sku, "quantity": rng.randint(1, 4), "unit_price": Decimal(rng.randint(150, 4000)) / 100}
             for sku in rng.sample(_SKUS, rng.randint(1, 3))]
    name = rng.choice(["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"])
    return {
        "order_id": f"o-{rng.randrange(1000, 9999)}",
        "customer_id": f"c-{rng.randrange(100, 999)}",
        "customer_name": name,
        "customer_email": name.split()[0].lower() + "@example.com",
        "shipping_address": f"{rng.randint(1, 99)} Main St",
        "card_last4": f"{rng.randrange(10000):04d}",
        "lines": lines,
        "total": sum((line["unit_price"] * line["quantity"] for line in lines), Decimal(0)),
    }


def _values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [v for item in value.values() for v in _values(item)] + list(value.keys())
    if isinstance(value, (list, tuple)):
        return [v for item in value for v in _values(item)]
    return [value]


def check_warehouse_message(warehouse_message: Any, seed: int = 17) -> Feedback:
    """Exercise 2: ``warehouse_message(order)`` -> the payload of the integration event ``order.paid`` for the warehouse.

    The warehouse picks and packs from it without calling the order service
    back (event-carried state transfer): ``order_id`` and ``lines`` as
    ``[{"sku", "quantity"}]`` in the order's line order; nothing personal (no
    name, e-mail, address, card) and no prices; the order is not changed.
    """
    if _not_done(warehouse_message) or not callable(warehouse_message):
        return _no("define warehouse_message(order) returning a dict, the payload of 'order.paid'.")
    for n in range(4):
        order = sample_paid_order(seed + n)
        before = copy.deepcopy(order)
        try:
            message = warehouse_message(order)
        except Exception as exc:  # noqa: BLE001
            return _no(f"warehouse_message raised {type(exc).__name__}: {exc} for order {order['order_id']}.")
        if order != before:
            return _no("warehouse_message changed the order it was given; build a new dict and leave the "
                       "order service's data alone.")
        if not isinstance(message, dict):
            return _no(f"return a dict (the message's payload), got {type(message).__name__}.")
        leaked = [f for f in PERSONAL_FIELDS if f in message or order[f] in _values(message)]
        if leaked:
            return _no(f"the message carries personal data ({', '.join(leaked)}): every consumer would store it and "
                       "you could no longer erase it. The warehouse does not need it; leave it out.")
        if message.get("order_id") != order["order_id"]:
            return _no(f"the message must name the order: order_id {order['order_id']!r}, found "
                       f"{message.get('order_id')!r}.")
        lines = message.get("lines")
        if lines is None:
            return _no("the message carries no 'lines': that is a thin notification, and the warehouse would "
                       "have to call the order service back to learn what to pick. Carry the lines.")
        want = [{"sku": line["sku"], "quantity": line["quantity"]} for line in order["lines"]]
        if not isinstance(lines, list) or any(not isinstance(line, dict) for line in lines):
            return _no("'lines' must be a list of dicts {'sku': ..., 'quantity': ...}.")
        priced = [key for line in lines for key in line if key not in ("sku", "quantity")]
        if priced:
            return _no(f"the lines carry {sorted(set(priced))}: the warehouse picks by sku and quantity only. "
                       "Prices in the message become a contract you must keep for every consumer; leave them out.")
        if lines != want:
            return _no(f"for order {order['order_id']} the lines should be {want}, found {lines}.")
        prices = {line["unit_price"] for line in order["lines"]} | {order["total"]}
        if "total" in message or any(value in prices for value in _values(message) if isinstance(value, Decimal)):
            return _no("the message carries prices or the total: the warehouse has no use for them, and each field "
                       "you publish is one you must keep for every consumer. Leave them out.")
    return _ok("the warehouse can pick from the message alone (event-carried state transfer), and nothing "
               "personal or price-related left the order service.")
