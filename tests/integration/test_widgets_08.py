"""Notebook 08's blue/green widget: the buggy Order Summary fixed by a rebuild, one step at a time."""

from __future__ import annotations

from esdemo import ProjectionRunner
from esdemo.examples.order_views import OrderSummary
from esdemo.tables import live_rows
from esdemo.widgets import BLUE_GREEN_ORDERS, BlueGreenDemo, BuggyOrderSummary, build_blue_green_widget

UNITS = sum(quantity for _, _, items in BLUE_GREEN_ORDERS for _, _, quantity in items)
LINES = sum(len(items) for _, _, items in BLUE_GREEN_ORDERS)


def reader(demo):
    """What a reader's query returns: (orders, items) from the SQL view order_summary."""
    return tuple(demo.store.query("SELECT count(*), sum(item_count) FROM order_summary")[0])


def test_the_buggy_summary_counts_item_events_and_differs_only_there():
    demo = BlueGreenDemo()
    buggy, fixed = BuggyOrderSummary(), OrderSummary()
    buggy_rows = live_rows(demo.live.projection)
    other = demo.store.__class__()
    other.restore(demo.store.read_all())
    ProjectionRunner(other, fixed).catch_up()
    fixed_rows = live_rows(fixed)
    assert [r["item_count"] for r in buggy_rows] == [len(items) for _, _, items in BLUE_GREEN_ORDERS]
    assert [r["item_count"] for r in fixed_rows] == [sum(q for *_, q in items) for _, _, items in BLUE_GREEN_ORDERS]
    strip = lambda rows: [{k: v for k, v in r.items() if k != "item_count"} for r in rows]  # noqa: E731
    assert strip(buggy_rows) == strip(fixed_rows)
    assert (buggy.name, list(buggy.default_storage().columns)) == (fixed.name, list(fixed.default_storage().columns))
    other.close()
    demo.close()


def test_readers_see_the_old_complete_view_until_the_switch_then_the_fixed_one():
    demo = BlueGreenDemo(batch_size=4)
    head = demo.store.head()
    start = demo.state()
    assert (start.live_table, start.reader_orders, start.reader_items, start.true_items) == (
        "order_summary_1", len(BLUE_GREEN_ORDERS), LINES, UNITS)
    assert "wrong" in start.describe()
    assert "Created order_summary_2" in demo.create()
    assert demo.state().frame().loc["order_summary_2"].tolist() == ["being built", 0, 0]
    assert "Readers still see order_summary_1" in demo.replay()
    state = demo.state()
    reached = int(state.frame().loc["order_summary_2", "checkpoint"])
    assert reached >= 4 and demo.store.read_all(reached + 1, 1)[0].version == 1   # 4 events, to the end of an append
    assert reader(demo) == (len(BLUE_GREEN_ORDERS), LINES)                   # the old view, complete
    message = demo.arrive()
    assert f"is {demo.store.head() - reached} events behind" in message
    assert reader(demo) == (len(BLUE_GREEN_ORDERS) + 1, LINES + 1)           # the old code applied the new order
    message = demo.switch()
    assert f"applied the last {demo.store.head() - reached} events" in message and "dropped order_summary_1" in message
    done = demo.state()
    assert done.frame().index.tolist() == ["order_summary_2"] and done.live_table == "order_summary_2"
    assert done.frame().loc["order_summary_2", "checkpoint"] == demo.store.head() == head + 2
    assert done.reader_orders == len(BLUE_GREEN_ORDERS) + 1
    assert done.reader_items == done.true_items == UNITS + 3
    assert "correct" in done.describe()
    demo.arrive()                                                             # the fixed code is deployed now
    assert demo.state().reader_items == demo.state().true_items == UNITS + 6
    demo.close()


def test_steps_out_of_order_say_what_to_do_and_change_nothing():
    demo = BlueGreenDemo()
    before = demo.state()
    assert "Create the new table first" in demo.replay()
    assert "no new table to switch to" in demo.switch()
    assert demo.state() == before
    demo.create()
    assert "already exists" in demo.create()
    assert [t for t, *_ in demo.state().tables] == ["order_summary_1", "order_summary_2"]
    for _ in range(10):
        last = demo.replay()
    assert "Nothing left to replay" in last
    demo.close()


def test_the_widget_drives_the_four_steps_and_resets():
    panel = build_blue_green_widget(BlueGreenDemo(batch_size=3))
    assert "Start the rebuild with step 1" in panel.result.value and "wrong" in panel.result.value
    panel.controls["create"].click()
    assert "Created order_summary_2" in panel.result.value and "being built" in panel.result.value
    panel.controls["replay"].click()
    assert "its checkpoint is now 3" in panel.result.value
    panel.controls["arrive"].click()
    assert "Order 20001 arrived" in panel.result.value
    panel.controls["switch"].click()
    assert "dropped order_summary_1" in panel.result.value and "(correct)" in panel.result.value
    assert panel.demo.state().live_table == "order_summary_2"
    old = panel.demo
    panel.controls["reset"].click()
    assert panel.demo is not old and panel.demo.batch_size == 3
    assert panel.demo.state().live_table == "order_summary_1" and "wrong" in panel.result.value
