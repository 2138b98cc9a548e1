"""Property-based checks (hypothesis) of the invariants the course asks you to trust.

A property is a claim about *every* input, such as "snapshot + tail equals a
full replay, whatever the history and wherever the snapshot". Hypothesis
generates hundreds of inputs, including nasty ones (empty lists, one cent,
the snapshot at the last event), and when a check fails it *shrinks* the
input to the smallest one that still fails.

Each invariant is a plain function here (``check_...``), run on one input,
plus a strategy that generates inputs; tests and notebooks combine them::

    from hypothesis import given as for_all, settings

    @settings(max_examples=50, deadline=None, derandomize=True)
    @for_all(account_histories(), st.data())
    def snapshot_plus_tail(history, data):
        check_snapshot_plus_tail("sqlite", history, data.draw(st.integers(1, len(history) + 1)))

The checks raise :class:`~esdemo.store.errors.SpecFailed` with both sides when
an invariant breaks.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from .examples.bank import Account, InsufficientFundsError
from .examples.order_views import OrderSummary
from .examples.orders import ItemAdded, OrderCreated, OrderPaid, OrderSubmitted, add_currency, order_paid_v1
from .read.projection_runner import ProjectionRunner
from .read.testing import assert_rebuild_equals_incremental
from .store.clock import FakeClock
from .store.event_store import EventStore
from .store.events import ANY, NewEvent
from .write.domain import default_registry
from .write.repository import Repository
from .write.testing import assert_snapshot_plus_tail_equals_replay, assert_upcasting_is_pure

T0 = datetime(2024, 1, 1, 9, tzinfo=timezone.utc)
cents = st.integers(1, 100_000).map(lambda c: Decimal(c) / 100)


def account_histories(max_size: int = 12) -> st.SearchStrategy[list[tuple[str, Decimal]]]:
    """Lists of ``("deposit" | "withdraw", amount)``; withdrawals past the balance are refused and skipped."""
    return st.lists(st.tuples(st.sampled_from(["deposit", "withdraw"]), cents), max_size=max_size)


def check_snapshot_plus_tail(backend: str, history: list[tuple[str, Decimal]], snapshot_at: int, *,
                             account_class: type[Account] = Account) -> dict[str, Any]:
    """Open account ``p``, run ``history``, snapshot at version ``snapshot_at`` (clamped to the stream):
    loading must equal a full replay. Returns the state. ``account_class``: an Account subclass to check."""
    with EventStore(backend=backend, clock=FakeClock(T0)) as store:
        accounts = Repository(store, account_class)
        account = account_class.open("p", owner="Ada")
        for command, amount in history:
            try:
                getattr(account, command)(amount)
            except InsufficientFundsError:
                pass
        accounts.save(account)
        return assert_snapshot_plus_tail_equals_replay(accounts, "p", max(1, min(snapshot_at, account.version)))


@st.composite
def order_logs(draw: Any, max_orders: int = 4) -> list[Any]:
    """A log of interleaved orders: each created, given items, maybe submitted and paid (V1 or V2)."""
    streams: list[list[Any]] = []
    for n in range(draw(st.integers(1, max_orders))):
        order_id = f"o{n}"
        events: list[Any] = [OrderCreated(order_id, draw(st.sampled_from(["c-1", "c-2"])))]
        total = Decimal("0")
        for i, (price, quantity) in enumerate(draw(st.lists(st.tuples(cents, st.integers(1, 3)), max_size=3))):
            total += price * quantity
            events.append(ItemAdded(order_id, f"SKU-{i}", price, quantity, total))
        if draw(st.booleans()):
            events.append(OrderSubmitted(order_id, T0))
            if len(events) > 2 and draw(st.booleans()):
                events.append(order_paid_v1(order_id, total) if draw(st.booleans())
                              else OrderPaid(order_id, total, draw(st.sampled_from(["USD", "EUR"]))))
        streams.append(events)
    log: list[Any] = []
    while any(streams):  # interleave the orders, as a real log does
        stream = draw(st.sampled_from([s for s in streams if s]))
        log.append(stream.pop(0))
    return log


def check_rebuild_equals_incremental(backend: str, log: list[Any], cuts: list[int]) -> list[dict[str, Any]]:
    """Append ``log`` in pieces (cut at ``cuts``), running OrderSummary after each piece; then a rebuild
    from position 0 must give the same rows. Returns them."""
    encode = default_registry.encode
    with EventStore(backend=backend, clock=FakeClock(T0)) as store:
        projection = OrderSummary()
        runner = ProjectionRunner(store, projection, batch_size=3)
        start = 0
        for cut in sorted({c % (len(log) + 1) for c in cuts} | {len(log)}):
            for event in log[start:cut]:
                new = event if isinstance(event, NewEvent) else encode(event)
                store.append(f"Order-{new.data['order_id']}", [new], expected_version=ANY)
            start = cut
            runner.catch_up()
        return assert_rebuild_equals_incremental(store, projection)


order_paid_v1_data = st.fixed_dictionaries({
    "order_id": st.text("0123456789", min_size=1, max_size=6),
    "amount": cents,
    "notes": st.lists(st.text(max_size=3), max_size=2),  # something nested and mutable
})


def check_upcasting_is_pure(data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The OrderPaid V1 -> V2 chain must leave its input unchanged and answer the same twice."""
    return assert_upcasting_is_pure(default_registry, "OrderPaid", 1, data)


__all__ = ["account_histories", "add_currency", "check_rebuild_equals_incremental", "check_snapshot_plus_tail",
           "check_upcasting_is_pure", "order_logs", "order_paid_v1_data"]
