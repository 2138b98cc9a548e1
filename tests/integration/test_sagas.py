"""Sagas and process managers: correlation and causation, exactly once in effect under crashes,
deadlines, compensation, choreography, outbox and inbox. Every guarantee on both backends."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from esdemo import (
    CommandBus,
    CommandProducedNothingError,
    DuplicateEventError,
    EventStore,
    Inbox,
    MessageBus,
    OutboxRelay,
    ProcessError,
    Repository,
    UnknownCommandError,
    event_id_for,
    handling_command,
    integration_event,
    reacting_to,
    read_conversation,
    seeded_ids,
    step_id,
)
from esdemo.examples.bank import Account
from esdemo.examples.checkout import (
    SCENARIOS,
    AddStock,
    CheckoutProcess,
    Crash,
    CrashInjector,
    PayOrder,
    PlaceOrder,
    ReserveStock,
    Shop,
    ledger,
    run_scenario,
)
from esdemo.examples.choreography import choreographed_shop, stuck_orders


@pytest.fixture(params=["duckdb", "sqlite"])
def backend(request) -> str:
    """The scenarios (run_scenario) open in-memory stores of their own, which PostgreSQL does not have (it needs a URL): these
    run on the two embedded backends; the store contract itself runs on all three (tests/conftest.py)."""
    return request.param


BOOK = ("BOOK-1", 2, Decimal("25.00"))


# -- correlation and causation ----------------------------------------------------------------------------
def test_a_save_outside_any_context_starts_its_own_conversation(store):
    accounts = Repository(store, Account, id_factory=seeded_ids(3))
    account = Account.open("1", owner="Ada")
    account.deposit(Decimal("5"))
    accounts.save(account, metadata={"user": "ada"})
    first, second = store.read("Account-1")
    assert first.metadata == {"user": "ada", "correlation_id": str(first.event_id), "causation_id": str(first.event_id)}
    assert second.metadata == first.metadata


def test_events_of_a_command_inherit_its_ids_and_reactions_name_their_cause(store):
    accounts = Repository(store, Account)
    command = uuid.UUID(int=1)
    with handling_command(command):
        accounts.save(Account.open("1", owner="Ada"))
    opened = store.read("Account-1")[0]
    assert opened.event_id == event_id_for(command, 0)  # deterministic, from the command id
    assert opened.metadata == {"correlation_id": str(command), "causation_id": str(command), "command_id": str(command)}
    with reacting_to(opened):
        account = accounts.load("1")
        account.deposit(Decimal("1"))
        accounts.save(account, metadata={"causation_id": "explicit wins"})
    deposited = store.read("Account-1")[1]
    assert deposited.metadata == {"correlation_id": str(command), "causation_id": "explicit wins"}


def test_a_conversation_is_read_back_in_log_order_and_nothing_else(store):
    shop = Shop(store, id_factory=seeded_ids(1))
    shop.add_stock("BOOK-1", 5)
    first = shop.place_order("A1", "c", [BOOK], address="1 Main St")
    other = shop.place_order("B2", "c", [BOOK], address="1 Main St")
    shop.run()
    story = read_conversation(store, first.correlation_id)
    assert [(e.stream_id, e.type) for e in story] == [("Order-A1", "OrderPlaced"), ("Stock-main", "StockReserved"),
                                                        ("Payment-A1", "PaymentRequested")]
    assert [e.position for e in story] == sorted(e.position for e in story)
    assert {e.metadata["correlation_id"] for e in story} == {first.correlation_id}
    assert all(e.data.get("order_id") == "B2" for e in read_conversation(store, other.correlation_id))
    assert read_conversation(store, uuid.UUID(int=5)) == []
    with pytest.raises(ValueError, match="correlation_id must be a non-empty"):
        read_conversation(store, " ")


def test_find_event_by_id(store):
    shop = Shop(store)
    shop.add_stock("BOOK-1", 1)
    added = store.read("Stock-main")[0]
    assert store.find_event(added.event_id) == added == store.find_event(str(added.event_id))
    assert store.find_event(uuid.UUID(int=9)) is None
    with pytest.raises(ValueError, match="event_id must be a UUID"):
        store.find_event("nope")


# -- the command bus ---------------------------------------------------------------------------------------
def test_the_same_command_id_is_handled_once(store):
    shop = Shop(store)
    command_id = uuid.UUID(int=42)
    first = shop.bus.send(AddStock("BOOK-1", 3), command_id=command_id)
    again = shop.bus.send(AddStock("BOOK-1", 3), command_id=command_id)
    assert not first.duplicate and again.duplicate and again.events == first.events
    assert shop.warehouse().available("BOOK-1") == 3 and store.head() == 1


def test_two_deliveries_racing_past_the_check_leave_one_set_of_events(store, monkeypatch):
    shop = Shop(store)
    command_id = uuid.UUID(int=43)
    shop.bus.send(AddStock("BOOK-1", 3), command_id=command_id)
    real, calls = shop.bus.already_handled, []

    def first_check_misses(envelope):  # the second delivery checked before the first had saved
        calls.append(envelope)
        return None if len(calls) == 1 else real(envelope)

    monkeypatch.setattr(shop.bus, "already_handled", first_check_misses)
    result = shop.bus.send(AddStock("BOOK-1", 3), command_id=command_id)
    assert result.duplicate and store.head() == 1 and shop.warehouse().available("BOOK-1") == 3


def test_a_handler_that_saves_nothing_is_refused_and_unknown_commands_are_named(store):
    bus = CommandBus(store)
    bus.register(ReserveStock, lambda command: None)
    with pytest.raises(CommandProducedNothingError, match="saved no event"):
        bus.send(ReserveStock("A1", ()))
    with pytest.raises(UnknownCommandError, match="no handler for PayOrder"):
        bus.send(PayOrder("A1", "4242"))
    with pytest.raises(ProcessError, match="already has a handler"):
        bus.register(ReserveStock, lambda command: None)


# -- the process manager: scenarios, crashes at every step, duplicates ------------------------------------------
EXPECTED = {
    "paid": [("Order-A1", "OrderPlaced"), ("Stock-main", "StockReserved"), ("Payment-A1", "PaymentRequested"),
             ("Payment-A1", "PaymentCharged"), ("Shipment-A1", "ShipmentScheduled"), ("Order-A1", "OrderConfirmed")],
    "declined": [("Order-A1", "OrderPlaced"), ("Stock-main", "StockReserved"), ("Payment-A1", "PaymentRequested"),
                 ("Payment-A1", "PaymentDeclined"), ("Stock-main", "StockReleased"), ("Order-A1", "OrderCancelled")],
    "timeout": [("Order-A1", "OrderPlaced"), ("Stock-main", "StockReserved"), ("Payment-A1", "PaymentRequested"),
                ("Payment-A1", "PaymentExpired"), ("Stock-main", "StockReleased"), ("Order-A1", "OrderCancelled")],
    "refused": [("Order-A1", "OrderPlaced"), ("Stock-main", "StockReserved"), ("Payment-A1", "PaymentRequested"),
                ("Payment-A1", "PaymentCharged"), ("Shipment-A1", "ShipmentRefused"), ("Payment-A1", "PaymentRefunded"),
                ("Stock-main", "StockReleased"), ("Order-A1", "OrderCancelled")],
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_each_scenario_tells_its_story_and_leaves_the_stock_whole(backend, scenario):
    run = run_scenario(scenario, backend=backend)
    assert run.story() == EXPECTED[scenario]
    assert run.shop.order_status("A1") == ("confirmed" if scenario == "paid" else "cancelled")
    on_hand = run.shop.warehouse().on_hand
    assert on_hand == ({"BOOK-1": 8, "PEN-2": 9} if scenario == "paid" else {"BOOK-1": 10, "PEN-2": 10})
    state = run.shop.process.state("A1")
    assert state["status"] == ("confirmed" if scenario == "paid" else "cancelled")
    deadlines = run.shop.process.deadlines()
    assert [d.status for d in deadlines] == ["fired" if scenario == "timeout" else "cancelled"]
    run.store.close()


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_a_crash_at_every_step_loses_nothing_and_doubles_nothing(backend, scenario):
    clean = run_scenario(scenario, backend=backend)
    points = list(clean.faults.points)
    expected = (clean.story(), clean.ledger, clean.shop.process.states(),
                [(d.step, d.status) for d in clean.shop.process.deadlines()], clean.shop.warehouse().on_hand)
    clean.store.close()
    assert {"read", "state", "checkpoint"} <= set(points) and any(p.startswith("command:") for p in points)
    for n, point in enumerate(points, start=1):
        run = run_scenario(scenario, backend=backend, crash_at=n)
        assert run.faults.crashes == [point]
        got = (run.story(), run.ledger, run.shop.process.states(),
               [(d.step, d.status) for d in run.shop.process.deadlines()], run.shop.warehouse().on_hand)
        assert got == expected, f"crash at point {n} ({point})"
        assert max(run.ledger.values()) == 1  # never charged, reserved, released or refunded twice
        run.store.close()


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_command_delivered_twice_changes_nothing(backend, scenario):
    run = run_scenario(scenario, backend=backend, deliver_twice=True)
    assert run.duplicates > 0 and run.story() == EXPECTED[scenario]
    assert sum(result.duplicate for result in run.shop.bus.sent) == run.duplicates
    run.store.close()


def test_without_deterministic_command_ids_a_crash_reserves_twice(backend, monkeypatch):
    """The guarantee above is not free: fresh ids per delivery make the redelivered command a new one."""
    import esdemo.process.process_manager as pm

    monkeypatch.setattr(pm, "step_id", lambda cause, step: uuid.uuid4())
    with EventStore(backend=backend) as store:
        shop = Shop(store, fault=CrashInjector("command:reserve-stock"))
        shop.add_stock("BOOK-1", 5)
        shop.place_order("A1", "c", [BOOK], address="1 Main St")
        with pytest.raises(Crash):
            shop.process.run_once()
        shop.process.run_once()  # the redelivered OrderPlaced sends a "new" ReserveStock
        assert ledger(store, "A1")["StockReserved"] == 2 and shop.warehouse().available("BOOK-1") == 1


def test_a_crash_while_firing_a_deadline_expires_the_payment_once(backend):
    run = run_scenario("timeout", backend=backend, crash_at="deadline:payment-timeout")
    assert run.faults.crashes == ["deadline:payment-timeout"]
    assert run.story() == EXPECTED["timeout"]
    run.store.close()


# -- deadlines ------------------------------------------------------------------------------------------------
def test_the_payment_deadline_fires_at_fifteen_minutes_not_before(backend):
    from datetime import datetime, timezone

    from esdemo import EventStore, FakeClock

    clock = FakeClock(datetime(2024, 3, 1, 9, tzinfo=timezone.utc))
    with EventStore(backend=backend, clock=clock) as store:
        shop = Shop(store, id_factory=seeded_ids(2), clock=clock.peek)
        shop.add_stock("BOOK-1", 5)
        shop.place_order("A1", "c", [BOOK], address="1 Main St")
        shop.run()
        (deadline,) = shop.process.deadlines("pending")
        reserved = next(e for e in store.read("Stock-main") if e.type == "StockReserved")
        assert deadline.due_at == reserved.recorded_at + timedelta(minutes=15)
        assert deadline.cause_event_id == str(reserved.event_id)
        clock.advance(minutes=14, seconds=59)
        assert shop.tick() == [] and shop.order_status("A1") == "placed"
        clock.advance(seconds=1)
        assert [d.step for d in shop.tick()] == ["payment-timeout"]
        assert shop.order_status("A1") == "cancelled" and shop.tick() == []
        expired = next(e for e in store.read("Payment-A1") if e.type == "PaymentExpired")
        assert expired.metadata["causation_id"] == str(reserved.event_id)
        assert expired.event_id == event_id_for(step_id(deadline.deadline_id, "expire-payment"), 0)
        with pytest.raises(Exception, match="payment window of order A1 has closed"):
            shop.pay("A1", "4242")


def test_a_payment_in_time_cancels_the_deadline(backend):
    run = run_scenario("paid", backend=backend)
    assert [(d.step, d.status) for d in run.shop.process.deadlines()] == [("payment-timeout", "cancelled")]
    assert run.ledger["PaymentCharged"] == 1 and "PaymentExpired" not in {t for _, t in run.story()}
    run.store.close()


# -- compensation never deletes ---------------------------------------------------------------------------------
def test_compensation_adds_events_and_keeps_the_charge(backend):
    run = run_scenario("refused", backend=backend)
    types = [e.type for e in run.store.read("Payment-A1")]
    assert types == ["PaymentRequested", "PaymentCharged", "PaymentRefunded"]  # the charge is still there
    refund = run.store.read("Payment-A1")[-1]
    assert refund.data["amount"] == Decimal("53.50") and refund.data["reason"] == "shipment refused"
    run.store.close()


# -- choreography -------------------------------------------------------------------------------------------------
def _choreographed(store, card):
    choreography, bus = choreographed_shop(store, id_factory=seeded_ids(5))
    bus.send(AddStock("BOOK-1", 5))
    placed = bus.send(PlaceOrder("A1", "c", (BOOK,), "1 Main St"))
    choreography.run()
    if card is not None:
        bus.send(PayOrder("A1", card), cause=store.read("Payment-A1")[0])
        choreography.run()
    return choreography, placed.envelope.correlation_id


@pytest.mark.parametrize("card, last", [("4242", "OrderConfirmed"), ("4000-0002", "StockReleased")])
def test_choreography_runs_the_same_flow_without_a_manager(store, card, last):
    _, correlation = _choreographed(store, card)
    story = [e.type for e in read_conversation(store, correlation)]
    assert story[-1] == last and story.count("StockReserved") == 1
    assert stuck_orders(store) == []


def test_choreography_has_no_one_to_time_out_a_payment(store):
    _choreographed(store, None)
    assert stuck_orders(store) == ["A1"]  # stock reserved, nobody counting the minutes


def test_choreography_redelivered_after_a_crash_does_not_double(store):
    choreography, bus = choreographed_shop(store, id_factory=seeded_ids(5))
    crashes = []

    def crash_once(point):
        if point == "command:reserve-stock" and not crashes:
            crashes.append(point)
            raise Crash(point)

    for reactor in choreography.reactors:
        reactor.fault = crash_once
    bus.send(AddStock("BOOK-1", 5))
    bus.send(PlaceOrder("A1", "c", (BOOK,), "1 Main St"))
    with pytest.raises(Crash):
        choreography.run()
    choreography.run()
    assert crashes and ledger(store, "A1")["StockReserved"] == 1


# -- outbox and inbox ---------------------------------------------------------------------------------------------
def _translate(recorded):
    if recorded.type == "OrderConfirmed":
        return integration_event(recorded, "order.confirmed", {"order_id": recorded.data["order_id"]})
    return None


def _loyalty(store):
    inbox = Inbox(store, "loyalty")
    with store.transaction() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS points (order_id VARCHAR, points INTEGER)")

    def award(message):
        inbox.receive(message, lambda cur, m: cur.execute("INSERT INTO points VALUES (?, 10)", [m.payload["order_id"]]))

    return inbox, award


def test_duplicates_from_a_crashing_relay_are_applied_once(backend):
    run = run_scenario("paid", backend=backend)
    store, bus = run.store, MessageBus()
    inbox, award = _loyalty(store)
    bus.subscribe("order.confirmed", award)
    crashed = []

    def crash_after_publishing(point):
        if not crashed:
            crashed.append(point)
            raise Crash(point)

    relay = OutboxRelay(store, bus, _translate, fault=crash_after_publishing)
    with pytest.raises(Crash):
        relay.relay()
    assert relay.position < store.head()  # published, but the checkpoint did not move
    relay.relay()
    relay.relay()  # nothing new: nothing published
    assert [m.topic for m in bus.published] == ["order.confirmed", "order.confirmed"]  # at least once: twice
    assert len(inbox.dropped) == 1 and store.query("SELECT order_id, points FROM points") == [("A1", 10)]
    assert inbox.received() == [bus.published[0].message_id]
    run.store.close()


def test_an_inbox_that_fails_while_applying_keeps_nothing(store):
    inbox = Inbox(store, "mailer")
    shop = Shop(store)
    shop.add_stock("BOOK-1", 1)
    message = integration_event(store.read("Stock-main")[0], "stock.added", {})

    def boom(cur, m):
        raise RuntimeError("mail server down")

    with pytest.raises(RuntimeError):
        inbox.receive(message, boom)
    assert inbox.received() == []
    assert inbox.receive(message, lambda cur, m: None) is True and inbox.receive(message, lambda cur, m: None) is False


# -- wrong use gets a clear error -------------------------------------------------------------------------------------
def test_a_process_manager_must_be_told_its_name_and_event_types(store):
    class Nameless(CheckoutProcess):
        name = ""

    bus = CommandBus(store)
    with pytest.raises(ProcessError, match="needs a class attribute name"):
        Nameless(store, bus)

    class OneString(CheckoutProcess):
        event_types = "OrderPlaced"

    with pytest.raises(ProcessError, match="must be a set of event type names"):
        OneString(store, bus)
    manager = CheckoutProcess(store, bus)
    with pytest.raises(ProcessError, match="only be called from handle"):
        manager.send(AddStock("x", 1), step="x")


def test_a_duplicate_event_id_with_other_content_is_still_an_error(store):
    accounts = Repository(store, Account)
    with handling_command(uuid.UUID(int=7)):
        accounts.save(Account.open("1", owner="Ada"))
    with pytest.raises(DuplicateEventError):
        with handling_command(uuid.UUID(int=7)):
            accounts.save(Account.open("2", owner="Bob"))


def test_message_ids_are_checked_where_they_are_made():
    from esdemo import MessageContext

    with pytest.raises(ValueError, match="command_id must be a UUID"):
        with handling_command("not-a-uuid"):
            pass
    with pytest.raises(ValueError, match="correlation_id must be a non-empty"):
        MessageContext(correlation_id=" ", causation_id="x")
    with pytest.raises(ValueError, match="a step must be a non-empty name"):
        step_id(uuid.UUID(int=1), "")
    assert step_id(uuid.UUID(int=1), "reserve") == step_id(str(uuid.UUID(int=1)), "reserve") != step_id(
        uuid.UUID(int=1), "release")
    with pytest.raises(TypeError, match="reacting_to needs the RecordedEvent"):
        with reacting_to("event"):
            pass
    with pytest.raises(TypeError, match="at must be a point name"):
        CrashInjector(True)


def test_one_reaction_may_not_send_two_commands_as_the_same_step(store):
    class Repeats(CheckoutProcess):
        name = "repeats"

        def handle(self, event, recorded, state):
            self.send(ReserveStock(event.order_id, ()), step="same")
            self.send(ReserveStock(event.order_id, ()), step="same")

    shop = Shop(store, process=Repeats)
    shop.place_order("A1", "c", [BOOK], address="1 Main St")
    with pytest.raises(ProcessError, match="step 'same' is sent twice"):
        shop.run()
    assert shop.process.position == 0 and store.head() == 1  # nothing sent, nothing committed
