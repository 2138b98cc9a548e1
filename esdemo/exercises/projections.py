"""Notebook 06 · Projections."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ..examples.orders import Order, payment_of
from ..read.projection_runner import ProjectionRunner
from ..store.event_store import EventStore
from ..store.events import RecordedEvent
from ..tables import live_rows
from ..write.repository import Repository
from .feedback import Feedback, _fresh_store, _no, _not_done, _ok
from .harness import CrashingStore, make_projection, order_shop, run_projection


def _statuses(store: EventStore, orders: Repository) -> dict[str, int]:
    """The write model's answer: how many orders are in each status."""
    counts: dict[str, int] = {}
    for (stream_id,) in store.query("SELECT DISTINCT stream_id FROM events"):
        status = orders.load(stream_id.removeprefix("Order-")).status
        counts[status] = counts.get(status, 0) + 1
    return counts


def check_status_board(StatusBoard: Any) -> Feedback:  # noqa: N803 - the learner's class
    """Exercise 05.1: a projection counting the orders in each status, with one row per status.

    The view has a key column ``status`` and a column ``orders``. The check
    runs the class on a shop of its own (orders left as carts, submitted,
    and paid, their events interleaved), compares with the write model, then
    pays one more order and checks that the count moves from submitted to paid.
    """
    projection = make_projection(StatusBoard, "StatusBoard")
    if isinstance(projection, str):
        return _no(projection)
    rng = random.Random(51)
    store, orders = order_shop(51, created=rng.randrange(2, 5), submitted=rng.randrange(2, 5), paid=rng.randrange(3, 7))
    expected = _statuses(store, orders)
    problem = run_projection(store, projection)
    if problem:
        return _no(problem)
    rows = live_rows(projection)
    if rows and not {"status", "orders"} <= set(rows[0]):
        return _no(f"the view's rows have the columns {sorted(rows[0])}; the exercise asks for a key column 'status' "
                   "and a column 'orders'.")
    got = {row["status"]: row["orders"] for row in rows if row["orders"]}
    if not got:
        if projection.registry is None:
            return _no("the view is empty. Without registry = default_registry, handle() receives RecordedEvents, "
                       "and no case OrderCreated(...) ever matches. Add registry = default_registry to the class.")
        return _no("the view is empty: no case in handle() matched. Match on the domain events, e.g. "
                   "case OrderCreated(): ..., and list their types in event_types.")
    total = sum(expected.values())
    if got == expected:
        orders_to_pay = [stream_id.removeprefix("Order-") for (stream_id,) in store.query(
            "SELECT stream_id FROM events WHERE type = 'OrderSubmitted' AND stream_id NOT IN "
            "(SELECT stream_id FROM events WHERE type = 'OrderPaid') ORDER BY position")]
        order = orders.load(orders_to_pay[0])
        order.pay()
        orders.save(order)
        ProjectionRunner(store, projection).catch_up()
        later = {row["status"]: row["orders"] for row in live_rows(projection) if row["orders"]}
        if later != _statuses(store, orders):
            return _no(f"right at first, but after one more payment the view says {later}; expected "
                       f"{_statuses(store, orders)}.")
        return _ok(f"{total} orders, {got}, as the write model says; and a new payment moved one order from "
                   "submitted to paid.")
    if sum(got.values()) > total:
        return _no(f"your counts add up to {sum(got.values())} orders, but there are {total}: {got}. An order is in "
                   "one status at a time: when it moves on, take it out of the old status (orders - 1) as you add it "
                   "to the new one.")
    missing = sorted(status for status in expected if status not in got)
    if missing:
        return _no(f"no orders counted as {missing} ({got}, expected {expected}). Does event_types list every event "
                   "that changes the status (OrderCreated, OrderSubmitted, OrderPaid), with a case for each?")
    return _no(f"the view says {got}; the write model says {expected}.")


def create_revenue_tables(store: EventStore) -> None:
    """Exercise 05.2's tables, next to the log: ``revenue`` and its checkpoint.

    ``revenue(currency VARCHAR PRIMARY KEY, amount DECIMAL(18, 2))`` and
    ``revenue_checkpoint(position BIGINT)``, which holds one row, 0 at first.
    """
    with store.transaction() as cur:
        cur.execute("CREATE TABLE revenue (currency VARCHAR PRIMARY KEY, amount DECIMAL(18, 2) NOT NULL)")
        cur.execute("CREATE TABLE revenue_checkpoint (position BIGINT NOT NULL)")
        cur.execute("INSERT INTO revenue_checkpoint VALUES (0)")


def _revenue_state(store: EventStore) -> tuple[dict[str, Decimal], int]:
    revenue = {currency: amount for currency, amount in store.query("SELECT currency, amount FROM revenue")}
    (checkpoint,) = store.query("SELECT position FROM revenue_checkpoint")[0]
    return revenue, checkpoint


def _true_revenue(store: EventStore) -> tuple[dict[str, Decimal], int]:
    """Revenue per currency over the whole log, and the position of the last payment."""
    revenue: dict[str, Decimal] = {}
    last = 0
    for event in store.iter_all():
        if event.type == "OrderPaid":
            amount, currency = payment_of(event)
            revenue[currency] = revenue.get(currency, Decimal("0")) + amount
            last = event.position
    return revenue, last


def _money_05(totals: dict[str, Decimal]) -> str:
    return "{" + ", ".join(f"{currency}: {amount}" for currency, amount in sorted(totals.items())) + "}"


def _payments_log(seed: int) -> list[RecordedEvent]:
    """A log with payments in USD, EUR and GBP among other order events, then two late EUR payments."""
    store, orders = order_shop(seed, created=2, submitted=2, paid=5, currencies=("USD", "EUR", "GBP"))
    for n in range(2):
        order = Order.create(f"late-{seed}-{n}", customer="c-1")
        order.add_item("TEA-3", Decimal("8.00"), n + 1)
        order.submit(at=datetime(2024, 1, 2, 12, tzinfo=timezone.utc))
        order.pay(currency="EUR")
        orders.save(order)
    events = store.read_all()
    store.close()
    return events


def _revenue_store(events: list[RecordedEvent]) -> EventStore:
    """A fresh store holding ``events`` and exercise 05.2's two tables."""
    store = _fresh_store()
    store.restore(events)
    create_revenue_tables(store)
    return store


def _revenue_problem(store: EventStore, what: str) -> str | None:
    """None if the revenue view and its checkpoint agree with the log, else what is wrong."""
    revenue, checkpoint = _revenue_state(store)
    truth, last_payment = _true_revenue(store)
    if any(isinstance(amount, float) for amount in revenue.values()):
        return f"{what}: the amounts are floats. Keep Decimal (the column is DECIMAL(18, 2))."
    if revenue != truth:
        more = sum(revenue.values(), Decimal("0")) > sum(truth.values(), Decimal("0"))
        return (f"{what}: revenue {_money_05(revenue)}, but the log says "
                f"{_money_05(truth)}" + (" (too much: payments counted twice)." if more else "."))
    if not last_payment <= checkpoint <= store.head():
        return (f"{what}: the revenue is right, but revenue_checkpoint says {checkpoint}; it must be the position of "
                f"the last event processed ({store.head()}), or the next run will process events again.")
    return None


def _crash_points(writes: list[str]) -> list[int]:
    """Where to pull the plug (1-based write numbers): on the first and the last write to ``revenue``, and right
    after each, which is where a view and a checkpoint written separately disagree. Else on the first 12 writes."""
    touches_view = [n for n, sql in enumerate(writes, start=1)
                    if "revenue" in sql.lower() and "revenue_checkpoint" not in sql.lower()]
    if not touches_view:
        return list(range(1, min(len(writes), 12) + 1))
    points = {touches_view[0], touches_view[0] + 1, touches_view[-1], touches_view[-1] + 1}
    return sorted(n for n in points if n <= len(writes))


def check_project_revenue(project_revenue: Callable[[EventStore], Any]) -> Feedback:
    """Exercise 05.2: ``project_revenue(store)`` adds the payments after the checkpoint to ``revenue``, exactly once.

    The check runs it on a log of its own (payments in USD, EUR and GBP
    between other order events), runs it again, appends more payments and
    runs it once more. Then it pulls the plug on a write to ``revenue``
    and on the write right after it, restarts, and checks that every
    payment is counted exactly once: which holds only if the view and the
    checkpoint are written in ONE transaction.
    """
    if _not_done(project_revenue) or not callable(project_revenue):
        return _no("define project_revenue(store) first.")
    log = _payments_log(52)
    late = len(log) - 8                                       # the two late orders are the last 8 events
    store = _revenue_store(log[:late])
    watched = CrashingStore(store)
    try:
        project_revenue(watched)
    except TypeError as exc:
        return _no(f"project_revenue(store) raised TypeError: {exc}. It takes the store as its only argument.")
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        return _no(f"project_revenue(store) raised {type(exc).__name__}: {exc}. OrderPaid data has 'amount' and "
                   "'currency'; the tables are revenue(currency, amount) and revenue_checkpoint(position).")
    revenue, checkpoint = _revenue_state(store)
    if not revenue and checkpoint == 0:
        return _no("nothing was written: revenue is empty and the checkpoint still 0. Add each OrderPaid's amount to "
                   "its currency's row, and set revenue_checkpoint to the last position processed.")
    problem = _revenue_problem(store, "after the first run")
    if problem:
        return _no(problem)
    if not watched.writes:
        return _no("the result is right, but nothing was written through store.transaction(), so the view and the "
                   "checkpoint were not written in one transaction (store.connection commits every statement on its "
                   "own). Use: with store.transaction() as cur: ...")
    project_revenue(watched)
    problem = _revenue_problem(store, "after running it a second time, with no new events")
    if problem:
        return _no(problem + " Read the checkpoint first and process only the events after it: "
                             "store.read_all(checkpoint + 1).")
    store.restore(log[late:])
    project_revenue(watched)
    problem = _revenue_problem(store, "after two more payments and a third run")
    if problem:
        return _no(problem)
    store.close()
    measured = CrashingStore(_revenue_store(log))
    project_revenue(measured)
    writes = len(measured.writes)
    measured.close()
    for crash_at in _crash_points(measured.writes):
        crashed = _revenue_store(log)
        try:
            project_revenue(CrashingStore(crashed, crash_at))
        except Exception:  # noqa: BLE001 - our crash, or what the learner turned it into
            pass
        project_revenue(crashed)                                  # the restart
        problem = _revenue_problem(crashed, f"when the process died at write {crash_at} of {writes} and restarted")
        if problem:
            revenue, _ = _revenue_state(crashed)
            truth, _ = _true_revenue(crashed)
            crashed.close()
            if sum(revenue.values(), Decimal("0")) > sum(truth.values(), Decimal("0")):
                hint = (" The view's change was committed but the checkpoint's was not, so the restart counted the "
                        "payment again. Write both in ONE transaction: with store.transaction() as cur: both "
                        "statements inside.")
            else:
                hint = (" The checkpoint was committed but the view's change was not, so the restart skipped the "
                        "payment. Write both in ONE transaction: with store.transaction() as cur: both statements inside.")
            return _no(problem + hint)
        crashed.close()
    return _ok("every payment counted exactly once: on reruns, on new events, and when the process died on a write "
               "to the view or right after it, then restarted. The view and its checkpoint change together or not at all.")
