"""The time-travel widget: the slider, the step buttons and the three jumps, driven without a browser."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from esdemo import EventStore, FakeClock, Repository, TimeTravel, default_registry, seeded_ids
from esdemo.examples.order_views import CustomerOrders, OrderAnalytics, OrderSummary
from esdemo.examples.orders import Order
from esdemo.widgets import build_time_travel, find_key, key_text, time_travel_html

T0 = datetime(2024, 2, 18, 21, 0, tzinfo=timezone.utc)


@pytest.fixture
def shop():
    """Two orders whose events interleave; every event after the first of a stream names its cause."""
    with EventStore(clock=FakeClock(T0, step=timedelta(minutes=1))) as store:
        orders = Repository(store, Order, id_factory=seeded_ids(5))
        a, b = Order.create("1", customer="C-1"), Order.create("2", customer="C-2")
        orders.save(a)                                               # 1
        orders.save(b)                                               # 2
        for order, sku in ((a, "LAMP-1"), (b, "MUG-1"), (a, "BOOK-1")):
            order.add_item(sku, Decimal("10.00"), quantity=2)
            orders.save(order, metadata={"causation_id": str(store.read(order.stream_id)[-1].event_id)})  # 3, 4, 5
        a.submit(at=T0)
        orders.save(a, metadata={"causation_id": str(store.read(a.stream_id)[-1].event_id)})             # 6
        a.pay(currency="EUR")
        orders.save(a)                                                # 7: started by a command from outside
        yield store


def debugger(store):
    return TimeTravel(store, projections=[OrderSummary(), CustomerOrders(), OrderAnalytics()], aggregates=[Order],
                      decoder=default_registry, checkpoint_every=2)


def test_the_slider_shows_the_event_the_aggregate_and_the_changed_rows(shop):
    box = build_time_travel(debugger(shop), start=3, aggregate_class=Order)
    slider = box.controls["position"]
    assert (slider.min, slider.max, slider.value) == (0, 7, 3)
    assert "position 3 of 7" in box.result.value and "ItemAdded" in box.result.value
    assert "LAMP-1" in box.result.value and "Order-1 after it" in box.result.value
    assert "order_summary[1] updated" in box.result.value
    slider.value = 7
    assert box.moment.position == 7 and "OrderPaid" in box.result.value
    assert "order_stats_daily[2024-02-18, EUR] inserted" in box.result.value
    assert "background:#fff3b0" in box.result.value                   # changed cells are highlighted
    slider.value = 0
    assert "before the first event" in box.result.value
    assert len(box.step_ms) == 3 and "step took" in box.status.value


def test_step_buttons_move_one_position_and_stop_at_the_ends(shop):
    box = build_time_travel(debugger(shop), start=1)
    box.controls["forward"].click()
    assert box.moment.position == 2 and "Order-2" in box.result.value
    box.controls["back"].click()
    box.controls["back"].click()
    box.controls["back"].click()
    assert box.moment.position == 0
    box.controls["position"].value = 7
    box.controls["forward"].click()
    assert box.moment.position == 7


def test_next_in_stream_skips_the_other_orders_events(shop):
    box = build_time_travel(debugger(shop), start=1)
    box.controls["next_in_stream"].click()
    assert box.moment.position == 3 and "next event of Order-1: position 3" in box.status.value
    box.controls["next_in_stream"].click()
    assert box.moment.position == 5
    box.controls["position"].value = 7
    box.controls["next_in_stream"].click()
    assert box.moment.position == 7 and "no later event of Order-1" in box.status.value


def test_jump_to_cause_follows_the_causation_id_or_says_there_is_none(shop):
    box = build_time_travel(debugger(shop), start=6)
    box.controls["cause"].click()
    assert box.moment.position == 5 and "the cause of 6" in box.status.value
    box.controls["position"].value = 7
    box.controls["cause"].click()
    assert box.moment.position == 7 and "started its conversation" in box.status.value


def test_jump_to_the_event_that_changed_a_row(shop):
    box = build_time_travel(debugger(shop), start=7, view="order_summary")
    box.controls["row"].value = "2"
    assert "MUG-1" not in box.result.value and "C-2" in box.result.value      # the followed row is shown
    box.controls["row_change"].click()
    assert box.moment.position == 4 and "order_summary[2] last changed at position 4" in box.status.value
    box.controls["row"].value = "99"
    box.controls["row_change"].click()
    assert box.moment.position == 4 and "order_summary has no row" in box.status.value
    box.controls["row"].value = ""
    box.controls["row_change"].click()
    assert "type a row key" in box.status.value


def test_keys_as_text_and_back(shop):
    moment = debugger(shop).at(7)
    key = next(iter(moment.view("order_stats_daily")))
    assert key_text(key) == "2024-02-18, EUR" and find_key(moment, "order_stats_daily", "2024-02-18, EUR") == key
    assert find_key(moment, "order_summary", " 1 ") == "1" and find_key(moment, "order_summary", "") is None
    assert "nothing" not in time_travel_html(moment)


def test_bad_arguments(shop):
    with pytest.raises(ValueError, match="start must be a position from 0 to 7"):
        build_time_travel(debugger(shop), start=8)
    with pytest.raises(ValueError, match="view must be one of"):
        build_time_travel(debugger(shop), view="nope")


def test_notebook_02s_january_scrubbed_account_and_view_agree_at_every_position():
    from esdemo import ProjectionRunner
    from esdemo.data import open_store
    from esdemo.examples.bank import Account
    from esdemo.examples.bank_views import AccountBalances

    with open_store("account_123") as january:
        debugger = TimeTravel(january, projections=[AccountBalances()], aggregates=[Account],
                              decoder=default_registry, checkpoint_every=4)
        for position in range(1, january.head() + 1):
            moment = debugger.at(position)
            account = moment.aggregate(Account, "123")
            assert moment.row("account_balances", "123")["balance"] == account["balance"]
            assert {c.field for c in moment.changes.fields} >= {"version"}
        sixth = debugger.at(6)
        assert [str(c) for c in sixth.changes.rows] == [
            "account_balances['123'] balance 950.00 → 914.80, withdrawals 2 → 3"]
        live = AccountBalances()
        ProjectionRunner(january, live).catch_up()
        assert live.storage.get("123") == debugger.at(january.head()).row("account_balances", "123")
