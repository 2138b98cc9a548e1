"""Notebook 10 · Schema evolution."""

from __future__ import annotations

import copy
import random
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ..store.events import RecordedEvent
from ..write.upcasting import UpcastError, Upcasters
from .feedback import Feedback, _no, _not_done, _ok

# ISO 4217 minor units of the currencies notebook 10's OrderPaid V3 uses: amount_minor is the amount
# in cents (pence), or in whole yen.
MINOR_UNITS = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0}


def _item_added_v1(rng: random.Random) -> dict[str, Any]:
    price = Decimal(rng.randrange(150, 25000)) / 100
    quantity = rng.randrange(1, 6)
    return {"order_id": str(rng.randrange(20000, 30000)), "sku": rng.choice(["MUG-2", "TEA-1", "LAMP-1", "SOCK-1"]),
            "price": price, "quantity": quantity, "new_total": price * quantity + Decimal(rng.randrange(0, 5000)) / 100}


def check_rename_upcaster(rename_price: Callable[[dict[str, Any]], dict[str, Any]]) -> Feedback:
    """Exercise 08.1: the upcaster ``ItemAdded`` V1 -> V2, where V2 renames ``price`` to ``unit_price``.

    The check registers the function in a fresh :class:`~esdemo.write.upcasting.Upcasters`
    and runs V1 items of its own through it: ``price`` must become
    ``unit_price`` (the same ``Decimal``), and nothing else may change. It also
    calls the function directly: an upcaster is pure, so the dict it is given
    must come back untouched.
    """
    if _not_done(rename_price) or not callable(rename_price):
        return _no("define rename_price(data) first: it gets an ItemAdded V1 data dict and returns the V2 dict.")
    upcasters = Upcasters()
    upcasters.register("ItemAdded", 1, rename_price)
    rng = random.Random(8)
    items = [_item_added_v1(rng) for _ in range(5)]
    for v1 in items:
        try:
            version, v2 = upcasters.upcast("ItemAdded", 1, v1)
        except UpcastError as exc:
            if exc.__cause__ is None:  # it returned something that is not a dict
                return _no(f"{exc} Build the V2 dict and return it (a new dict: the one you are given must not change).")
            return _no(f"your upcaster raised {exc.__cause__!r} on the V1 data {v1!r}. V1 has the fields "
                       f"{sorted(v1)}; read `price` from it and return the V2 dict.")
        if "unit_price" not in v2:
            return _no(f"what you return has no `unit_price` ({sorted(v2)}). V2's name for the unit price is unit_price.")
        if "price" in v2:
            return _no("V2 has no `price` any more, but your result still has it: readers of V2 would see two "
                       "names for one thing. Remove it (data.pop('price')).")
        if isinstance(v2["unit_price"], float):
            return _no("unit_price is a float. Keep the Decimal exactly as stored: money is never a float, and "
                       "an upcaster must not change a value it only renames.")
        if v2["unit_price"] != v1["price"]:
            return _no(f"unit_price must be the V1 price unchanged: for price={v1['price']} you returned "
                       f"unit_price={v2['unit_price']!r}.")
        dropped = sorted(set(v1) - {"price"} - set(v2))
        if dropped:
            return _no(f"you dropped {dropped}. An upcaster changes only what the new version changes; copy "
                       "the rest, e.g. {**data, 'unit_price': ...} without 'price'.")
        added = sorted(set(v2) - set(v1) - {"unit_price"})
        if added:
            return _no(f"you added {added}, but V2 only renames price to unit_price.")
        changed = sorted(k for k in v1 if k != "price" and v2[k] != v1[k])
        if changed:
            return _no(f"you changed {changed}; only the name of price changes in V2.")
    for v1 in items:
        given = copy.deepcopy(v1)
        try:
            rename_price(given)
        except Exception as exc:  # it passed through Upcasters above; a learner's bug all the same
            return _no(f"called directly on {v1!r}, your upcaster raised {exc!r}.")
        if given != v1:
            return _no("your upcaster changed the dict it was given (before: "
                       f"{sorted(v1)}, after: {sorted(given)}). An upcaster is a pure function, data in, data out: "
                       "the same stored event is read again and again, and a reader after yours must see it as "
                       "stored. Build a new dict, e.g. {k: v for k, v in data.items() if k != 'price'} plus unit_price.")
    return _ok(f"on {len(items)} fresh ItemAdded V1 events, price became unit_price, every other field came "
               "through unchanged, and the input was left as it was (pure). The stored events are still V1.")


def _payment(position: int, schema_version: int, data: dict[str, Any]) -> RecordedEvent:
    return RecordedEvent(position, f"Order-{data['order_id']}", 1, "OrderPaid", schema_version, data, {},
                         uuid.UUID(int=position), datetime(2024, 6, 1, 9, tzinfo=timezone.utc))


def _payments_of_every_version(rng: random.Random) -> list[RecordedEvent]:
    """A log with V1, V2 and V3 payments (USD, EUR, GBP and JPY) and some events of other types between them."""
    events: list[RecordedEvent] = []
    for n in range(18):
        position = len(events) + 1
        order_id = str(30000 + n)
        if n % 4 == 3:
            events.append(RecordedEvent(position, f"Order-{order_id}", 1, "ItemAdded", 1,
                                        {"order_id": order_id, "sku": "TEA-1", "price": Decimal("6.40"), "quantity": 1,
                                         "new_total": Decimal("6.40")}, {}, uuid.UUID(int=position),
                                        datetime(2024, 6, 1, 9, tzinfo=timezone.utc)))
            continue
        version = n % 3 + 1
        currency = "USD" if version == 1 else rng.choice(sorted(MINOR_UNITS))
        amount = Decimal(rng.randrange(100, 90000)) / 100
        if currency == "JPY":
            amount = Decimal(rng.randrange(300, 40000))
        if version == 1:
            events.append(_payment(position, 1, {"order_id": order_id, "amount": amount}))
        elif version == 2:
            events.append(_payment(position, 2, {"order_id": order_id, "amount": amount, "currency": currency}))
        else:
            minor = int(amount.scaleb(MINOR_UNITS[currency]))
            events.append(_payment(position, 3, {"order_id": order_id, "amount_minor": minor, "currency": currency}))
    return events


def _revenue(events: list[RecordedEvent], *, skip_v1: bool = False, v3_scale: Callable[[str], int] | None = None
             ) -> dict[str, Decimal]:
    """The right answer, or (with the keyword arguments) a typical wrong one, for diagnosis."""
    totals: dict[str, Decimal] = {}
    for e in events:
        if e.type != "OrderPaid" or (skip_v1 and e.schema_version == 1):
            continue
        if e.schema_version == 3:
            exponent = MINOR_UNITS[e.data["currency"]] if v3_scale is None else v3_scale(e.data["currency"])
            amount, currency = Decimal(e.data["amount_minor"]).scaleb(-exponent), e.data["currency"]
        else:
            amount, currency = e.data["amount"], e.data.get("currency", "USD")
        totals[currency] = totals.get(currency, Decimal("0")) + amount
    return totals


def check_revenue_by_currency(revenue_by_currency: Callable[[list[RecordedEvent]], dict[str, Decimal]]) -> Feedback:
    """Exercise 08.2: a versioned handler that totals OrderPaid V1, V2 and V3 per currency, from raw events.

    V1 ``{order_id, amount}`` (all USD), V2 ``{order_id, amount, currency}``,
    V3 ``{order_id, amount_minor, currency}`` (an int in the currency's minor
    unit: cents, pence, whole yen). Other event types are skipped. A version
    the function does not know must raise, not be skipped or guessed.
    """
    if _not_done(revenue_by_currency) or not callable(revenue_by_currency):
        return _no("define revenue_by_currency(events) first: it returns {currency: Decimal total}.")
    events = _payments_of_every_version(random.Random(88))
    expected = _revenue(events)
    try:
        result = revenue_by_currency(list(events))
    except KeyError as exc:
        if exc.args == ("currency",):
            return _no("KeyError 'currency': an OrderPaid V1 has no currency. Match on event.schema_version: "
                       "V1 payments were all in USD (the rule the add_currency upcaster encodes).")
        if exc.args == ("amount",):
            return _no("KeyError 'amount': an OrderPaid V3 stores amount_minor, an int in the currency's minor "
                       "unit, not amount. Handle case 3 separately.")
        return _no(f"your function raised KeyError {exc}. Read only the fields each version has, and skip events "
                   "that are not OrderPaid.")
    except Exception as exc:  # a learner's bug: report it, never raise from a check
        return _no(f"your function raised {exc!r} on a log with OrderPaid V1, V2 and V3 and other event types. "
                   "If that is your own 'unknown version' error, one of those cases is missing.")
    if not isinstance(result, dict):
        return _no(f"return a dict {{currency: Decimal total}}, got {type(result).__name__}.")
    if any(isinstance(v, float) for v in result.values()):
        return _no("some totals are floats. Add Decimals (Decimal(amount_minor).scaleb(-2) turns 1250 cents "
                   "into Decimal('12.50') exactly).")
    if result != expected:
        if result == _revenue(events, skip_v1=True):
            return _no("the USD total is missing the V1 payments. A V1 event has no currency field, but it is a "
                       "payment in USD: count it.")
        if result == _revenue(events, v3_scale=lambda currency: 0):
            return _no("the V3 amounts are counted in minor units (cents as if they were dollars). Divide "
                       "amount_minor by 10 ** MINOR_UNITS[currency].")
        if result == _revenue(events, v3_scale=lambda currency: 2):
            return _no("JPY is off by a factor of 100: the yen has no minor unit (MINOR_UNITS['JPY'] == 0). "
                       "Use the currency's own exponent, not a fixed 100.")
        wrong = sorted(c for c in set(result) | set(expected) if result.get(c) != expected.get(c))
        return _no(f"the totals differ for {wrong}: expected {_money_dict(expected, wrong)}, "
                   f"you returned {_money_dict(result, wrong)}. Check each version's case.")
    future = [_payment(1, 4, {"order_id": "40000", "amount": Decimal("10.00"), "currency": "EUR",
                              "method": "invoice"})]
    try:
        revenue_by_currency(future)
    except ValueError:
        return _ok(f"V1, V2 and V3 payments add up to {_money_dict(expected, sorted(expected))}, and a V4 it "
                   "cannot know makes it fail loudly. Every reader written this way must learn every new version.")
    except Exception as exc:  # a learner's bug or the wrong error: report it, never raise from a check
        return _no(f"given an OrderPaid V4 your function raised {type(exc).__name__} ({exc}), not the ValueError "
                   "the instructions ask for. Raise ValueError on purpose, naming the version, e.g. "
                   "raise ValueError(f'OrderPaid V{event.schema_version} is unknown'): an accidental "
                   "KeyError says nothing about why.")
    return _no("the totals are right, but given an OrderPaid V4 your function returned normally. A versioned "
               "handler that meets a version it does not know must raise (e.g. ValueError): skipping or guessing "
               "would report wrong revenue without anyone noticing.")


def _money_dict(totals: dict[str, Any], currencies: list[str]) -> str:
    return "{" + ", ".join(f"{c}: {totals.get(c, '—')}" for c in currencies) + "}"
