"""Notebook 02's replay: the pure functions on account 123, and the built slider widget."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from store_factory import new_store

from esdemo import EventStore, FakeClock, NewEvent, Repository
from esdemo.data import open_store
from esdemo.examples.bank import Account
from esdemo.examples.orders import Order
from esdemo.widgets import build_replay_widget, replay_frame, replay_html, replay_steps, replay_to


@pytest.fixture
def january():
    with open_store("account_123") as store:
        yield store.read("Account-123")


def test_each_step_holds_the_state_a_load_at_that_version_gives(january, backend):
    with new_store(backend) as store:
        store.restore(january)
        accounts = Repository(store, Account)
        steps = replay_steps(store.read("Account-123"))
        assert [s.step for s in steps] == list(range(1, len(january) + 1))
        for step in steps:
            loaded = accounts.load("123", at_version=step.step)
            assert step.state == {"owner": loaded.owner, "balance": loaded.balance, "is_open": loaded.is_open,
                                  "carried_to": loaded.carried_to}
            assert step.event == january[step.step - 1] and step.total == len(january)


def test_replay_to_the_seeds_third_event_gives_150(january):
    step = replay_to(january, 3)
    assert (step.step, step.total, step.event.type, step.state["balance"]) == (3, 8, "MoneyWithdrawn", Decimal("150"))
    assert step.describe() == ("step 3 of 8 · 2024-01-03 14:15 · MoneyWithdrawn(amount=50.00) → "
                               "owner Ada Lovelace · balance 150.00 · is_open True · carried_to None")


def test_replay_to_uses_only_the_events_up_to_the_step(january):
    tampered = [*january[:3], None, None]                     # later "events" are never looked at
    assert replay_to(tampered, 3).state == replay_to(january, 3).state


@pytest.mark.parametrize("step", [0, 9, -1, True, 2.0])
def test_replay_to_refuses_steps_outside_the_stream(january, step):
    with pytest.raises(ValueError, match="step must be a whole number from 1 to 8"):
        replay_to(january, step)


def test_replay_refuses_what_is_not_one_stream_in_order(january):
    with pytest.raises(ValueError, match="nothing to replay"):
        replay_steps([])
    with pytest.raises(ValueError, match="versions \\[2, 3\\]"):
        replay_steps(january[1:3])
    store = EventStore(clock=FakeClock(datetime(2024, 1, 1, tzinfo=timezone.utc)))
    store.append("Account-9", [NewEvent("AccountOpened", {"account_id": "9", "owner": "x",
                                                          "opening_balance": Decimal("0")})], expected_version=0)
    with pytest.raises(ValueError, match="2 streams"):
        replay_steps([january[0], *store.read("Account-9")])


def test_replay_works_for_any_aggregate():
    store = EventStore(clock=FakeClock(datetime(2024, 1, 1, tzinfo=timezone.utc), step=timedelta(minutes=1)))
    orders = Repository(store, Order)
    order = Order.create("12345", customer="C-1")
    order.add_item("BOOK-1", Decimal("25.00"), quantity=2)
    orders.save(order)
    steps = replay_steps(store.read("Order-12345"), Order)
    assert steps[-1].state == orders.load("12345").snapshot_state()
    with pytest.raises(ValueError, match="no balance to chart"):
        build_replay_widget(store.read("Order-12345"), Order)


def test_replay_frame_has_a_row_per_step(january):
    frame = replay_frame(replay_steps(january))
    assert list(frame.index) == list(range(1, 9))
    assert list(frame["balance after"]) == ["0.00", "200.00", "150.00", "1350.00", "950.00", "914.80", "989.80", "9.80"]
    assert frame.loc[6, "event"] == "MoneyWithdrawn(amount=35.20)"


def test_widget_shows_the_state_after_the_chosen_step(january):
    panel = build_replay_widget(january)
    slider = panel.controls["step"]
    assert (slider.description, slider.min, slider.max, slider.value) == ("step", 1, 8, 8)
    assert "step 8 of 8" in panel.result.value and "balance 9.80" in panel.result.value
    slider.value = 3
    assert "balance 150.00" in panel.result.value and "MoneyWithdrawn(amount=50.00)" in panel.result.value
    assert panel.result.value == replay_html(replay_to(january, 3))
    slider.value = 1
    assert "AccountOpened" in panel.result.value and "balance 0.00" in panel.result.value


def test_widget_can_start_anywhere_but_inside_the_stream(january):
    assert "step 2 of 8" in build_replay_widget(january, start=2).result.value
    with pytest.raises(ValueError, match="start must be between 1 and 8"):
        build_replay_widget(january, start=9)


def test_widget_starts_with_its_chart_already_in_the_output_area(january):
    panel = build_replay_widget(january, start=5)
    (first,) = panel.output.outputs
    assert first["output_type"] == "display_data" and "Figure" in first["data"]["text/plain"]
    assert "balance 950.00" in panel.result.value
