"""The swimlane: its layout (a pure function of the events) and the thin chart on top."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from esdemo import RecordedEvent, swimlane
from esdemo.plots_sagas import node_colour, plot_swimlane

T = datetime(2024, 3, 1, 9, tzinfo=timezone.utc)


def event(position, stream, type_, cause, command=None):
    event_id = uuid.UUID(int=position)
    meta = {"correlation_id": "c", "causation_id": str(cause)}
    if command:
        meta["command_id"] = command
    return RecordedEvent(position, stream, 1, type_, 1, {}, meta, event_id, T)


EVENTS = [event(7, "Order-A1", "OrderPlaced", "user-command", "k1"),
          event(9, "Stock-main", "StockReserved", uuid.UUID(int=7)),
          event(12, "Payment-A1", "PaymentDeclined", "customer"),
          event(13, "Stock-main", "StockReleased", uuid.UUID(int=12)),
          event(14, "Order-A1", "OrderCancelled", uuid.UUID(int=12))]


def test_lanes_follow_first_appearance_and_arrows_follow_causation():
    lanes = swimlane(list(reversed(EVENTS)))  # order comes from positions, not from the list
    assert lanes.lanes == ["Order-A1", "Stock-main", "Payment-A1"]
    assert [(n.step, n.lane, n.type) for n in lanes.nodes] == [
        (0, 0, "OrderPlaced"), (1, 1, "StockReserved"), (2, 2, "PaymentDeclined"), (3, 1, "StockReleased"),
        (4, 0, "OrderCancelled")]
    assert [(a.source, a.target) for a in lanes.arrows] == [(None, 0), (0, 1), (None, 2), (2, 3), (2, 4)]
    assert lanes.nodes[0].command_id == "k1" and lanes.nodes[1].command_id is None
    assert lanes.caption(3) == "4. StockReleased in Stock-main (position 13), caused by PaymentDeclined"
    assert lanes.caption(0).endswith("caused by a command from outside")


def test_the_chart_draws_one_lane_per_stream_and_only_the_steps_asked_for():
    lanes = swimlane(EVENTS)
    axes = plot_swimlane(lanes).axes[0]
    assert [t.get_text() for t in axes.get_yticklabels()] == lanes.lanes
    assert [t.get_text() for t in axes.texts] == [n.type for n in lanes.nodes] + [""] * 3  # labels, then 3 arrows
    assert axes.get_title() == "One conversation, one lane per stream" and "step" in axes.get_xlabel()
    partial = plot_swimlane(lanes, upto=2).axes[0]
    assert [t.get_text() for t in partial.texts] == ["OrderPlaced", "StockReserved", ""]
    assert len(partial.collections) == 2


def test_failures_and_compensations_stand_out():
    assert node_colour("PaymentDeclined") == "tab:red" and node_colour("StockReleased") == "tab:orange"
    assert node_colour("OrderPlaced") == "tab:blue"
