"""The time-travel debugger: the state at P is a fresh replay of 1..P, on both backends; jumps, forks, SQL."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esdemo import DomainError, EventRegistry, EventStore, FakeClock, NewEvent, Repository, default_registry, seeded_ids
from esdemo.examples.order_views import CustomerOrders, OrderAnalytics, OrderSummary
from esdemo.examples.orders import Order, OrderCreated, order_paid_v1
from esdemo.read import Documents, Projection, ProjectionRunner
from esdemo.read.time_travel import (
    RowChange,
    TimeTravel,
    TimeTravelError,
    code_fingerprint,
    events_upto,
    install_events_upto,
)


@pytest.fixture(params=["duckdb", "sqlite"])
def backend(request) -> str:
    """Time travel's replays and forks open in-memory stores of their own, which PostgreSQL does not have (it needs a URL): these
    run on the two embedded backends; the store contract itself runs on all three (tests/conftest.py)."""
    return request.param


T0 = datetime(2024, 2, 1, 9, 0, tzinfo=timezone.utc)
VIEWS = (OrderSummary, CustomerOrders, OrderAnalytics)


def build_shop(store: EventStore, orders_count: int = 24, seed: int = 3) -> None:
    """A small interleaved shop: orders created, filled, submitted, paid (some as V1 events), across two days."""
    rng = random.Random(seed)
    orders = Repository(store, Order, id_factory=seeded_ids(seed))
    live: dict[str, Order] = {}
    steps = 0
    next_id = 100
    while steps < orders_count * 5:
        steps += 1
        if not live or (len(live) < 6 and rng.random() < 0.4):
            order = Order.create(str(next_id), customer=f"C-{rng.randint(1, 5)}")
            next_id += 1
            result = orders.save(order, metadata={"by": "web"})
            live[order.id] = orders.load(order.id)
            continue
        order_id = rng.choice(sorted(live))
        order = live[order_id]
        cause = {"causation_id": str(store.read(order.stream_id)[-1].event_id)}
        if order.status == "created" and (not order.lines or rng.random() < 0.6):
            order.add_item(rng.choice(["BOOK-1", "LAMP-1", "MUG-1"]), Decimal(rng.choice(["9.99", "25.00", "74.00"])),
                           quantity=rng.randint(1, 3))
            result = orders.save(order, metadata=cause)
        elif order.status == "created":
            order.submit(at=T0 + timedelta(hours=steps))
            result = orders.save(order, metadata=cause)
        elif rng.random() < 0.3:                                       # an old payment service: OrderPaid V1
            result = store.append(order.stream_id, [order_paid_v1(order.id, order.total)],
                                  expected_version=order.version)
            del live[order_id]
            continue
        else:
            order.pay(currency=rng.choice(["USD", "EUR"]))
            result = orders.save(order, metadata=cause)
            del live[order_id]
            continue
        assert result.version == order.version


@pytest.fixture(scope="module", params=["duckdb", "sqlite"])
def shop(request):
    clock = FakeClock(T0, step=timedelta(minutes=7))
    with EventStore(backend=request.param, clock=clock) as store:
        build_shop(store)
        yield store


def debugger_for(store, every=7, **kwargs):
    return TimeTravel(store, projections=[view() for view in VIEWS], aggregates=[Order], decoder=default_registry,
                      checkpoint_every=every, **kwargs)


def fresh_replay(store: EventStore, position: int):
    """Events 1..position restored into a new store, then the real runners and the real repository."""
    fresh = EventStore(backend=store.backend)
    fresh.restore(store.read_all(1, limit=position) if position else [])
    views = {}
    for view in VIEWS:
        projection = view()
        ProjectionRunner(fresh, projection).catch_up()
        views[projection.name] = {projection.storage.key_of(row) if hasattr(projection.storage, "key_of") else
                                  _key(projection, row): row for row in projection.storage.query()}
    repository = Repository(fresh, Order)
    streams = sorted({e.stream_id for e in fresh.read_all()})
    aggregates = {}
    for stream_id in streams:
        order = repository.load(stream_id.split("-", 1)[1])
        aggregates[order.id] = {**order.snapshot_state(), "version": order.version}
    fresh.close()
    return views, aggregates


def _key(projection, row):
    key = projection.storage.key
    values = tuple(row[name] for name in key)
    return values[0] if len(values) == 1 else values


# -- the proof: the debugger's state is a fresh replay ------------------------------------------------

@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_state_at_p_equals_a_fresh_replay_of_1_to_p(shop, data):
    head = shop.head()
    every = data.draw(st.sampled_from([1, 5, 16, 1000]), label="checkpoint_every")
    debugger = debugger_for(shop, every)
    positions = data.draw(st.lists(st.integers(0, head), min_size=1, max_size=3), label="positions")
    for position in positions:                         # several scrubs on one debugger: cached checkpoints reused
        moment = debugger.at(position)
        views, aggregates = fresh_replay(shop, position)
        for name, rows in views.items():
            assert moment.view(name) == rows, f"{name} at {position}"
        assert moment.aggregates(Order) == aggregates, f"orders at {position}"


def test_a_scrub_in_any_order_gives_the_same_moments(shop):
    forward = debugger_for(shop, 10)
    states = {p: (forward.at(p).view("order_summary"), forward.at(p).aggregates(Order)) for p in range(0, 60, 3)}
    backward = debugger_for(shop, 10)
    for p in sorted(states, reverse=True):
        moment = backward.at(p)
        assert (moment.view("order_summary"), moment.aggregates(Order)) == states[p]


def test_a_moment_does_not_change_when_the_debugger_moves_on(shop):
    debugger = debugger_for(shop, 50)
    moment = debugger.at(20)
    view, orders = moment.view("customer_orders"), moment.aggregates(Order)
    for p in (21, 22, 40, 60, 5):
        debugger.at(p)
    assert moment.view("customer_orders") == view and moment.aggregates(Order) == orders


# -- the diff against P - 1 -----------------------------------------------------------------------------

def test_changes_are_the_difference_between_p_minus_1_and_p(shop):
    debugger = debugger_for(shop, 8)
    for position in range(1, shop.head() + 1):
        before, after = debugger.at(position - 1), debugger.at(position)
        expected = []
        for name in before.view_names:
            old, new = before.view(name), after.view(name)
            expected += [(name, key) for key in sorted(set(old) | set(new), key=repr) if old.get(key) != new.get(key)]
        assert sorted(((c.view, c.key) for c in after.changes.rows), key=repr) == sorted(expected, key=repr)
        for change in after.changes.rows:
            assert change.before == before.row(change.view, change.key)
            assert change.after == after.row(change.view, change.key)
        stream = after.event.stream_id
        order_id = stream.split("-", 1)[1]
        old, new = before.aggregate(Order, order_id) or {}, after.aggregate(Order, order_id)
        assert {c.field for c in after.changes.fields} == {k for k in {*old, *new} if old.get(k) != new.get(k)}
        assert all(c.stream_id == stream for c in after.changes.fields)


def test_a_payment_changes_the_order_three_views_and_says_so(shop):
    debugger = debugger_for(shop)
    paid = next(e for e in shop.read_all() if e.type == "OrderPaid" and e.schema_version == 1)
    moment = debugger.at(paid.position)
    assert moment.event == paid
    assert {c.view for c in moment.changes.rows} == {"order_summary", "customer_orders", "order_stats_daily"}
    summary = moment.changes.in_view("order_summary")[0]
    assert summary.kind == "updated" and "status" in summary.columns and summary.after["currency"] == "USD"
    assert {c.field for c in moment.changes.fields} >= {"status", "paid_amount", "currency", "version"}
    assert "paid" in moment.describe() and moment.changes.keys("order_summary") == {paid.data["order_id"]}
    assert moment.aggregate_of_event(Order) == moment.aggregate(Order, paid.data["order_id"])
    assert moment.aggregate_of_event(Order)["status"] == "paid" and moment.aggregate_of_event(OrderCreated) is None


def test_position_0_is_the_empty_system(shop):
    moment = debugger_for(shop).at(0)
    assert moment.event is None and not moment.changes
    assert moment.view("order_summary") == {} and moment.aggregates(Order) == {}
    assert "before the first event" in moment.describe()


# -- checkpoints: a cache of the code ---------------------------------------------------------------------

class Counting(Projection):
    name = "counting"
    event_types = ("ItemAdded",)
    registry = default_registry

    def default_storage(self):
        return Documents(key="order_id")

    def handle(self, event, recorded, view):
        row = view.get(event.order_id, {"order_id": event.order_id, "items": 0})
        view.upsert({**row, "items": row["items"] + 1})


def test_checkpoints_are_thrown_away_when_a_handler_changes(shop, monkeypatch):
    debugger = TimeTravel(shop, projections=[Counting()], checkpoint_every=5)
    head = shop.head()
    before = debugger.at(head).view("counting")
    assert debugger.checkpoints == list(range(0, head, 5)) and debugger.invalidations == 0

    def handle_twice(self, event, recorded, view):              # "fix" the handler: now it counts quantities
        row = view.get(event.order_id, {"order_id": event.order_id, "items": 0})
        view.upsert({**row, "items": row["items"] + event.quantity})

    monkeypatch.setattr(Counting, "handle", handle_twice)
    after = debugger.at(head).view("counting")
    assert debugger.invalidations == 1
    quantities = {}
    for e in shop.read_all():
        if e.type == "ItemAdded":
            quantities[e.data["order_id"]] = quantities.get(e.data["order_id"], 0) + e.data["quantity"]
    assert {k: r["items"] for k, r in after.items()} == quantities != {k: r["items"] for k, r in before.items()}


def test_checkpoints_are_thrown_away_when_an_upcaster_changes(shop):
    registry = EventRegistry()
    for name in default_registry.types:
        if name.startswith("Order") or name == "ItemAdded":
            registry.register(default_registry.class_for(name))

    @registry.upcaster("OrderPaid", from_version=1)
    def dollars(data):
        return {**data, "currency": "USD"}

    class Summary(OrderSummary):
        pass

    Summary.registry = registry
    debugger = TimeTravel(shop, projections=[Summary()], checkpoint_every=4)
    v1 = next(e for e in shop.read_all() if e.type == "OrderPaid" and e.schema_version == 1)
    assert debugger.at(v1.position).row("order_summary", v1.data["order_id"])["currency"] == "USD"
    fingerprint = debugger.fingerprint()

    registry.upcasters._steps.clear()

    @registry.upcaster("OrderPaid", from_version=1)
    def pounds(data):                                            # a different upcaster: the cache is stale
        return {**data, "currency": "GBP"}

    assert debugger.fingerprint() != fingerprint
    assert debugger.at(v1.position).row("order_summary", v1.data["order_id"])["currency"] == "GBP"
    assert debugger.invalidations == 1


def test_code_fingerprint_sees_code_not_identity():
    class A(Counting):
        def handle(self, event, recorded, view):
            return 1

    class B(Counting):
        def handle(self, event, recorded, view):
            return 2

    assert code_fingerprint(A) != code_fingerprint(B)
    assert code_fingerprint(A) == code_fingerprint(A)
    assert code_fingerprint(Order, default_registry) != code_fingerprint(Order)


# -- the real views are never touched -------------------------------------------------------------------

def test_scrubbing_never_touches_the_real_views_or_the_log(backend):
    with EventStore(backend=backend, clock=FakeClock(T0, step=timedelta(minutes=3))) as store:
        build_shop(store, 8)
        real = OrderSummary()
        runner = ProjectionRunner(store, real, batch_size=10)
        runner.run_once()                                          # the live view is 10 events in
        rows_before, checkpoint = real.storage.query(order_by="order_id"), runner.position
        events = store.read_all()
        debugger = TimeTravel(store, projections=[real], aggregates=[Order], decoder=default_registry,
                              checkpoint_every=3)
        for p in (store.head(), 1, 7, store.head() - 1):
            moment = debugger.at(p)
        assert moment.lag["order_summary"] == max(0, store.head() - 1 - checkpoint)
        debugger.last_change("order_summary", "100", store.head())
        assert real.storage.query(order_by="order_id") == rows_before and runner.position == checkpoint == 10
        assert store.read_all() == events


# -- jumps ----------------------------------------------------------------------------------------------------

def test_next_and_previous_event_of_a_stream(shop):
    debugger = debugger_for(shop)
    for stream_id in sorted({e.stream_id for e in shop.read_all()})[:6]:
        positions = [e.position for e in shop.read(stream_id)]
        for here, there in zip(positions, positions[1:]):
            assert debugger.next_in_stream(here) == there
            assert debugger.previous_in_stream(there) == here
        assert debugger.next_in_stream(positions[-1]) is None and debugger.previous_in_stream(positions[0]) is None
        assert debugger.next_in_stream(0, stream_id) == positions[0]
        other = next(p for p in range(1, shop.head() + 1) if p not in positions)   # from another stream's event
        assert debugger.next_in_stream(other, stream_id) == next((p for p in positions if p > other), None)
        assert debugger.previous_in_stream(other, stream_id) == next((p for p in reversed(positions) if p < other), None)
    with pytest.raises(TimeTravelError, match="pass stream_id"):
        debugger.next_in_stream(0)


def test_jump_to_cause_follows_the_causation_id(shop):
    debugger = debugger_for(shop)
    def names_another_event(e):
        return e.metadata.get("causation_id") not in (None, str(e.event_id))

    caused = [e for e in shop.read_all() if names_another_event(e)]
    assert caused
    for event in caused[:10]:
        cause = debugger.cause_of(event.position)
        assert str(debugger.event(cause).event_id) == event.metadata["causation_id"]
        assert cause == debugger.previous_in_stream(event.position)
    uncaused = next(e for e in shop.read_all() if not names_another_event(e))
    assert debugger.cause_of(uncaused.position) is None                 # started by a command: nothing to jump to


def test_jump_to_cause_by_position_or_to_a_cause_outside_the_log(backend):
    with EventStore(backend=backend, clock=FakeClock(T0)) as store:
        store.append("Order-1", [NewEvent("OrderCreated", {"order_id": "1", "customer_id": "c"})], expected_version=0)
        store.append("Order-1", [NewEvent("OrderSubmitted", {"order_id": "1", "submitted_at": T0},
                                          metadata={"causation_id": 1})], expected_version=1)
        store.append("Order-1", [NewEvent("OrderSubmitted", {"order_id": "1", "submitted_at": T0},
                                          metadata={"causation_id": "7f0c4a36-9d7e-4a53-8f0e-1b2c3d4e5f60"})],
                     expected_version=2)
        debugger = TimeTravel(store, projections=[OrderSummary()])
        assert debugger.cause_of(2) == 1 and debugger.cause_of(3) is None and debugger.cause_of(1) is None


def test_last_change_of_a_row_is_the_last_event_that_changed_it(shop):
    debugger = debugger_for(shop, 6)
    head = shop.head()
    moments = [debugger.at(p) for p in range(head + 1)]
    for view, key in [("order_summary", "100"), ("order_summary", "103"), ("customer_orders", "105"),
                      *[("order_stats_daily", k) for k in sorted(moments[-1].view("order_stats_daily"))[:2]]]:
        for position in (head, head // 2, 40, 3):
            expected = next((p for p in range(position, 0, -1)
                             if moments[p].row(view, key) != moments[p - 1].row(view, key)), None)
            assert debugger.last_change(view, key, position) == expected, (view, key, position)


# -- what if ----------------------------------------------------------------------------------------------------

def test_what_if_forks_an_in_memory_copy_and_never_touches_the_real_log(shop):
    debugger = debugger_for(shop)
    created = next(e for e in shop.read_all() if e.type == "OrderCreated" and e.position > 10)
    order_id = created.data["order_id"]
    events, head = shop.read_all(), shop.head()

    def pay_at_once(fork):
        orders = Repository(fork, Order, id_factory=seeded_ids(99))
        order = orders.load(order_id)
        order.add_item("GIFT-1", Decimal("5.00"))
        order.submit(at=T0)
        order.pay(currency="EUR")
        return orders.save(order)

    fork = debugger.what_if(created.position, pay_at_once)
    assert shop.read_all() == events and shop.head() == head                # the real log: untouched
    assert fork.store is not shop and fork.store.read_all(1, limit=created.position) == events[:created.position]
    assert [e.type for e in fork.alternative] == ["ItemAdded", "OrderSubmitted", "OrderPaid"]
    assert fork.real == events[created.position:created.position + 3]
    assert fork.result.position == fork.end == created.position + 3
    assert fork.alternative[0].recorded_at == created.recorded_at + timedelta(seconds=1)
    side = fork.side_by_side()
    assert [row["position"] for row in side] == [created.position + i for i in (1, 2, 3)]
    assert "GIFT-1" in side[0]["what if"]
    alternative = fork.debugger.at(fork.end)
    assert alternative.aggregate(Order, order_id)["status"] == "paid"
    assert alternative.row("order_summary", order_id)["currency"] == "EUR"
    differences = fork.view_differences()
    assert any(c.view == "order_summary" and c.key == order_id and c.after["status"] == "paid" for c in differences)
    assert all(isinstance(c, RowChange) for c in differences)
    fork.close()


def test_a_refused_command_in_a_fork_leaves_everything_as_it_was(shop):
    debugger = debugger_for(shop)
    events = shop.read_all()
    paid = next(e for e in events if e.type == "OrderPaid")

    def pay_again(fork):
        orders = Repository(fork, Order)
        order = orders.load(paid.data["order_id"])
        order.pay()

    with pytest.raises(DomainError, match="already paid"):
        debugger.what_if(paid.position, pay_again)
    assert shop.read_all() == events


# -- SQL over the log ----------------------------------------------------------------------------------------------

def test_events_upto_is_the_log_as_of_p_on_both_backends(shop):
    frame = events_upto(shop, 10, "SELECT type, count(*) AS n FROM log GROUP BY type ORDER BY type")
    expected = {}
    for e in shop.read_all(1, limit=10):
        expected[e.type] = expected.get(e.type, 0) + 1
    assert dict(zip(frame["type"], frame["n"])) == expected
    assert list(events_upto(shop, 4)["position"]) == [1, 2, 3, 4]
    with pytest.raises(TimeTravelError, match="position must be"):
        events_upto(shop, shop.head() + 1)
    with pytest.raises(ValueError, match="FROM log"):
        events_upto(shop, 3, "SELECT * FROM events")
    with pytest.raises(ValueError, match="FROM log"):
        events_upto(shop, 3, "SELECT * FROM catalog")


def test_the_duckdb_macro_and_a_clear_error_on_sqlite(backend):
    with EventStore(backend=backend, clock=FakeClock(T0, step=timedelta(minutes=1))) as store:
        build_shop(store, 4)
        if backend == "sqlite":
            with pytest.raises(TimeTravelError, match="use esdemo.events_upto"):
                install_events_upto(store)
            return
        assert install_events_upto(store) == "events_upto"
        assert store.query("SELECT max(position), count(*) FROM events_upto(7)") == [(7, 7)]
        install_events_upto(store)                                                   # twice is fine


# -- bad input -------------------------------------------------------------------------------------------------------

def test_bad_input_gets_clear_errors(shop):
    debugger = debugger_for(shop)
    for position in (-1, shop.head() + 1, 2.0, True):
        with pytest.raises(TimeTravelError, match="position must be a whole number"):
            debugger.at(position)
    with pytest.raises(TimeTravelError, match="no view named 'nope'"):
        debugger.at(3).view("nope")
    with pytest.raises(TimeTravelError, match="no view named"):
        debugger.last_change("nope", "1", 3)
    with pytest.raises(TimeTravelError, match="something to show"):
        TimeTravel(shop)
    with pytest.raises(TypeError, match="decoder=default_registry"):
        TimeTravel(shop, aggregates=[Order])
    with pytest.raises(ValueError, match="checkpoint_every"):
        TimeTravel(shop, projections=[OrderSummary()], checkpoint_every=0)
    with pytest.raises(TimeTravelError, match="share a view name"):
        TimeTravel(shop, projections=[OrderSummary(), OrderSummary()])
    with pytest.raises(TimeTravelError, match="not one of this debugger's aggregates"):
        debugger.at(3).aggregate(OrderCreated, "1")


def test_a_failing_handler_names_the_position(shop):
    class Broken(OrderSummary):
        name = "broken"

        def handle(self, event, recorded, view):
            if recorded.position == 9:
                raise RuntimeError("boom")
            super().handle(event, recorded, view)

    debugger = TimeTravel(shop, projections=[Broken()], checkpoint_every=4)
    assert debugger.at(8).position == 8
    with pytest.raises(TimeTravelError, match="position 9 .*boom"):
        debugger.at(12)
