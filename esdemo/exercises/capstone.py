"""Notebook 15 · Capstone: an order system."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from ..examples.orders import Order, OrderCreated, OrderPaid, order_paid_v1
from ..read.projection import Projection
from ..read.projection_runner import ProjectionRunner
from ..store.clock import FakeClock
from ..store.event_store import EventStore
from ..store.events import RecordedEvent
from ..store.ids import seeded_ids
from ..write.domain import default_registry
from ..write.repository import AggregateNotFoundError, Repository
from .feedback import Feedback, _fresh_store, _no, _not_done, _ok

_CAPSTONE_SKUS = [("BOOK-1", "25.00"), ("MUG-1", "12.00"), ("TEA-3", "11.20"), ("LAMP-1", "74.00"), ("PEN-2", "2.50")]


def _capstone_shop(seed: int) -> list[RecordedEvent]:
    """A small shop of the check's own: three customers; payments V2 in three currencies, one old V1
    payment, an order submitted but never paid, and an abandoned cart. Events of orders interleave."""
    store = _capstone_store(seed, _fresh_store())
    events = store.read_all()
    store.close()
    return events


def _capstone_store(seed: int, store: Any) -> Any:
    """Fill ``store`` with the shop of :func:`_capstone_shop` and return it, open."""
    rng = random.Random(seed)
    orders = Repository(store, Order, id_factory=seeded_ids(seed))
    customers = [f"C-{rng.randrange(1000, 9999)}" for _ in range(3)]
    plan = (["v1"] + ["USD", "EUR", "GBP", "USD", "EUR"] + ["unpaid", "cart"]) * 2
    rng.shuffle(plan)
    live = []
    for n, fate in enumerate(plan):
        order = Order.create(f"{seed}-{n}", customer=customers[n % 3] if n < 3 else rng.choice(customers))
        for _ in range(rng.randrange(1, 4)):
            sku, price = rng.choice(_CAPSTONE_SKUS)
            order.add_item(sku, Decimal(price), rng.randrange(1, 4))
        orders.save(order)
        live.append((order, fate))
    for order, fate in live:                    # a second round, so that orders' events interleave in the log
        if fate == "cart":
            continue
        order.submit(at=datetime(2024, 2, 1, 12, tzinfo=timezone.utc))
        if fate == "v1":                        # paid through the old payment service: OrderPaid V1, no currency
            orders.save(order)
            store.append(order.stream_id, [order_paid_v1(order.id, order.total)], expected_version=order.version)
            continue
        if fate != "unpaid":
            order.pay(currency=fate)
        orders.save(order)
    return store


def _right_revenue_per_customer(events: list[RecordedEvent], *, skip_v1: bool = False) -> dict[tuple[str, str], Decimal]:
    customer_of: dict[str, str] = {}
    revenue: dict[tuple[str, str], Decimal] = {}
    for recorded in events:
        if recorded.type not in ("OrderCreated", "OrderPaid") or (skip_v1 and recorded.schema_version == 1
                                                                   and recorded.type == "OrderPaid"):
            continue
        event = default_registry.decode(recorded)
        if isinstance(event, OrderCreated):
            customer_of[event.order_id] = event.customer_id
        elif isinstance(event, OrderPaid):
            key = (customer_of[event.order_id], event.currency)
            revenue[key] = revenue.get(key, Decimal("0")) + event.amount
    return revenue


def _cart_values(events: list[RecordedEvent]) -> dict[tuple[str, str], Decimal]:
    """The typical wrong answer that adds up carts (ItemAdded) instead of payments, in USD."""
    customer_of, totals = {}, {}
    for recorded in events:
        if recorded.type == "OrderCreated":
            customer_of[recorded.data["order_id"]] = recorded.data["customer_id"]
        elif recorded.type == "ItemAdded":
            totals[recorded.data["order_id"]] = recorded.data["new_total"]
    revenue: dict[tuple[str, str], Decimal] = {}
    for order_id, total in totals.items():
        key = (customer_of[order_id], "USD")
        revenue[key] = revenue.get(key, Decimal("0")) + total
    return revenue


def _money_10(totals: dict[Any, Any]) -> str:
    return "{" + ", ".join(f"{key}: {value}" for key, value in sorted(totals.items(), key=str)) + "}"


def _call_revenue_per_customer(revenue_per_customer: Callable[[list[RecordedEvent]], Any],
                               events: list[RecordedEvent]) -> tuple[Any, str | None]:
    """``(answer, None)`` if the learner's function returned a dict; ``(None, why not)`` if it raised or did not."""
    try:
        answer = revenue_per_customer(list(events))
    except KeyError as exc:
        if exc.args and exc.args[0] == "currency":
            return None, ("KeyError: 'currency'. The shop's oldest payments are OrderPaid V1, stored before currencies "
                          "existed. Read events through default_registry.decode(recorded): its upcaster turns V1 into "
                          "V2 with currency 'USD', so your code sees one shape.")
        return None, (f"your function raised KeyError {exc}. OrderPaid names the order, not the customer: remember "
                      "each order's customer when you see its OrderCreated, and look it up at the payment.")
    except TypeError as exc:
        return None, (f"revenue_per_customer(events) raised TypeError: {exc}. It takes the list of recorded events "
                      "(store.read_all()) and returns a dict.")
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        return None, f"revenue_per_customer(events) raised {type(exc).__name__}: {exc}"
    if not isinstance(answer, dict):
        return None, (f"your function returned a {type(answer).__name__}; return a dict "
                      "{(customer_id, currency): Decimal amount}.")
    return answer, None


def _diagnose_wrong_revenue(answer: dict[Any, Any], expected: dict[tuple[str, str], Decimal],
                            events: list[RecordedEvent]) -> str:
    """Why ``answer`` (zeros dropped) differs from ``expected``: the first typical mistake it shows, in turn."""
    if any(isinstance(value, float) for value in answer.values()):
        return "the amounts are floats. Money stays Decimal all the way: start each total at Decimal('0')."
    if not all(isinstance(value, (Decimal, int)) and not isinstance(value, bool) for value in answer.values()):
        return f"the values must be Decimal amounts; yours include {next(iter(answer.values()))!r}."
    if answer and all(isinstance(key, str) for key in answer):
        customers = {customer for customer, _ in expected}
        if set(answer) <= customers:
            return ("your keys are customers only, so amounts in USD, EUR and GBP were added together. Never add "
                    "different currencies: key the totals by (customer_id, currency).")
        return (f"your keys are {sorted(answer)[:3]}...; key the totals by (customer_id, currency), e.g. "
                f"{next(iter(expected))}.")
    if answer == _right_revenue_per_customer(events, skip_v1=True):
        return ("the USD revenue of the old payments is missing: OrderPaid V1 events have no 'currency' field, "
                "and your code skipped them. Decode with default_registry.decode(recorded): the upcaster makes "
                "every V1 payment a V2 payment in USD.")
    if answer == _cart_values(events) or sum(answer.values()) > sum(expected.values()):
        return ("your totals are higher than what was paid: they count items of orders that were never paid "
                "(an abandoned cart, an unpaid order). Revenue is what OrderPaid says was paid: add up "
                "OrderPaid amounts, not ItemAdded prices.")
    customers = {customer for customer, _ in expected}
    if any(isinstance(key, tuple) and key and key[0] not in customers for key in answer):
        return (f"your keys {sorted(answer, key=str)[:2]}... are not (customer_id, currency). OrderPaid names "
                "the order: look up the order's customer, remembered from its OrderCreated.")
    return f"on a shop of the check's own, the answer is {_money_10(expected)}; yours is {_money_10(answer)}."


def check_revenue_per_customer(revenue_per_customer: Callable[[list[RecordedEvent]], Any]) -> Feedback:
    """Exercise 10.1: ``revenue_per_customer(events) -> {(customer_id, currency): Decimal}`` from the log.

    Run on two shops of the check's own (payments V1 and V2 in three
    currencies, an unpaid order, an abandoned cart, events interleaved).
    """
    if _not_done(revenue_per_customer) or not callable(revenue_per_customer):
        return _no("define revenue_per_customer(events) first.")
    for seed in (1001, 1002):
        events = _capstone_shop(seed)
        expected = _right_revenue_per_customer(events)
        answer, problem = _call_revenue_per_customer(revenue_per_customer, events)
        if problem:
            return _no(problem)
        answer = {key: value for key, value in answer.items() if value != 0}
        if answer != expected:
            return _no(_diagnose_wrong_revenue(answer, expected, events))
    return _ok("payments only (no carts, no unpaid orders), V1 payments upcast to USD, currencies kept apart, and each "
               "payment credited to the customer who created the order: right on two shops you had never seen.")


def _timeline_shop() -> tuple[Repository, dict[str, datetime]]:
    """Order T-1: created, item, submitted, paid, one save (one minute) apart; T-2: a cart. Returns the times."""
    store = _fresh_store()                      # FakeClock: 09:00, then one minute per append
    orders = Repository(store, Order, id_factory=seeded_ids(10))
    order = Order.create("T-1", customer="C-1")
    orders.save(order)                                                  # 09:00 created
    order.add_item("BOOK-1", Decimal("25.00"))
    orders.save(order)                                                  # 09:01
    cart = Order.create("T-2", customer="C-2")
    cart.add_item("PEN-2", Decimal("2.50"))
    orders.save(cart)                                                   # 09:02 (another order)
    order.submit(at=datetime(2024, 1, 1, 9, 3, tzinfo=timezone.utc))
    orders.save(order)                                                  # 09:03 submitted
    order.pay(currency="EUR")
    orders.save(order)                                                  # 09:04 paid
    times = {event.type: event.recorded_at for event in store.read("Order-T-1")}
    return orders, times


def check_status_at(status_at: Callable[..., Any]) -> Feedback:
    """Exercise 10.2: ``status_at(orders, order_id, when)``: the order's status at an instant, or ``None``.

    A temporal query: only replaying the stream up to ``when`` can answer it;
    a view knows only the present.
    """
    if _not_done(status_at) or not callable(status_at):
        return _no("define status_at(orders, order_id, when) first.")
    orders, times = _timeline_shop()
    second = timedelta(seconds=1)
    cases = [
        ("T-1", times["OrderCreated"] - second, None, "before it was created"),
        ("T-1", times["OrderCreated"], "created", "at the very instant it was created"),
        ("T-1", times["ItemAdded"] + 30 * second, "created", "after its first item"),
        ("T-1", times["OrderSubmitted"], "submitted", "at the instant OrderSubmitted was recorded"),
        ("T-1", times["OrderPaid"] - second, "submitted", "a second before the payment"),
        ("T-1", times["OrderPaid"] + timedelta(days=30), "paid", "a month later"),
        ("T-2", times["OrderPaid"], "created", "for the cart T-2"),
        ("T-9", times["OrderPaid"], None, "for an order that never existed"),
    ]
    for order_id, when, expected, what in cases:
        shown = f"status_at(orders, {order_id!r}, {when:%H:%M:%S})"
        try:
            answer = status_at(orders, order_id, when)
        except AggregateNotFoundError:
            return _no(f"{shown} ({what}) raised AggregateNotFoundError. At that moment the order did not exist: catch "
                       "the error and return None.")
        except TypeError as exc:
            return _no(f"{shown} raised TypeError: {exc}. Use status_at(orders, order_id, when), with orders a "
                       "Repository and when an aware datetime.")
        except Exception as exc:  # noqa: BLE001
            return _no(f"{shown} ({what}) raised {type(exc).__name__}: {exc}")
        if isinstance(answer, Order):
            return _no(f"{shown} returned the Order itself; return its status (order.status), a string.")
        if answer == expected:
            continue
        if answer == "paid" and order_id == "T-1":
            return _no(f"{shown} ({what}) returned 'paid': the order's status now, not at that moment. Replay the stream "
                       "only up to `when`: orders.load(order_id, as_of=when).")
        if expected in ("created", "submitted") and what.startswith("at the"):
            return _no(f"{shown} ({what}) returned {answer!r}, expected {expected!r}: an event recorded exactly at "
                       "`when` has happened by then (as_of keeps events recorded at or before it).")
        return _no(f"{shown} ({what}) returned {answer!r}, expected {expected!r}.")
    return _ok("it replays only the events recorded up to `when` (that instant included), and returns None before the "
               "order existed: a question no view that only stores the present can answer.")


def _weekday_store(seed: int) -> EventStore:
    """The capstone shop, its appends 7 hours apart, so that its payments fall on different weekdays."""
    clock = FakeClock(datetime(2024, 2, 1, 9, tzinfo=timezone.utc), timedelta(hours=7))
    return _capstone_store(seed, EventStore(clock=clock))


def _right_payments_by_weekday(events: list[RecordedEvent], *, skip_v1: bool = False) -> dict[tuple[int, str], tuple[int, Decimal]]:
    totals: dict[tuple[int, str], tuple[int, Decimal]] = {}
    for recorded in events:
        if recorded.type != "OrderPaid" or (skip_v1 and recorded.schema_version == 1):
            continue
        event = default_registry.decode(recorded)
        key = (recorded.recorded_at.astimezone(timezone.utc).weekday(), event.currency)
        orders, revenue = totals.get(key, (0, Decimal("0")))
        totals[key] = (orders + 1, revenue + event.amount)
    return totals


def _table(totals: dict[tuple[int, str], tuple[int, Decimal]]) -> str:
    return ", ".join(f"({day}, {currency}): {orders} paid, {revenue}" for (day, currency), (orders, revenue)
                     in sorted(totals.items()))


def check_payments_by_weekday(projection_class: Any) -> Feedback:
    """Exercise 95.1: ``PaymentsByWeekday``, a new view over old history: orders paid and revenue per
    UTC weekday (0 = Monday) and currency, with columns ``weekday, currency, orders, revenue``.

    The check runs the class with a :class:`ProjectionRunner` over two shops of
    its own (V1 and V2 payments, unpaid orders, carts, payments on several
    weekdays) and compares the view's rows with the right answer.
    """
    if _not_done(projection_class):
        return _no("define the class PaymentsByWeekday first.")
    if not (isinstance(projection_class, type) and issubclass(projection_class, Projection)):
        return _no(f"pass the class itself (PaymentsByWeekday), a subclass of Projection; got {projection_class!r}.")
    for seed in (1003, 1004):
        with _weekday_store(seed) as store:
            expected = _right_payments_by_weekday(store.read_all())
            try:
                projection = projection_class()
            except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
                return _no(f"PaymentsByWeekday() raised {type(exc).__name__}: {exc}. The class needs a name, "
                           "event_types, default_storage() and handle(event, recorded, view).")
            try:
                ProjectionRunner(store, projection).catch_up()
                rows = projection.storage.rows()
            except Exception as exc:  # noqa: BLE001
                cause = exc.__cause__ or exc
                if isinstance(cause, KeyError) and cause.args and cause.args[0] == "currency":
                    return _no("KeyError: 'currency' on an OrderPaid V1, written before currencies existed. Set "
                               "registry = default_registry on the class and read the decoded event: the upcaster "
                               "turns every V1 payment into a V2 one in USD.")
                return _no(f"running the view raised {type(cause).__name__}: {cause}")
            try:
                answer = {(row["weekday"], row["currency"]): (row["orders"], row["revenue"]) for row in rows}
            except KeyError as exc:
                return _no(f"the view's rows have no column {exc}; use the columns weekday, currency, orders, revenue "
                           "(see PaymentsByHour in section 8.1).")
            if answer == expected:
                continue
            if answer == _right_payments_by_weekday(store.read_all(), skip_v1=True):
                return _no("the payments recorded by the old payment service (OrderPaid V1, no currency) are missing: "
                           "the silent failure of section 8.1 again. Set registry = default_registry and match on the "
                           "decoded OrderPaid, never on the stored data.")
            paid = sum(orders for orders, _ in expected.values())
            if sum(orders for orders, _ in answer.values()) > paid:
                return _no(f"your view counts {sum(orders for orders, _ in answer.values())} payments, but the shop "
                           f"had {paid}. Only OrderPaid counts: set event_types = ('OrderPaid',) and ignore the rest.")
            days = {day for day, _ in answer}
            if days and not days <= set(range(7)):
                return _no(f"your weekdays are {sorted(days, key=str)}; use recorded.recorded_at.weekday() in UTC, "
                           "an int from 0 (Monday) to 6 (Sunday).")
            return _no(f"on a shop of the check's own the view should hold {_table(expected)}; yours holds "
                       f"{_table(answer)}.")
    return _ok("one row per weekday and currency, from decoded payments (V1 counted in USD), nothing but OrderPaid: "
               "a new view, right over history it had never seen.")
