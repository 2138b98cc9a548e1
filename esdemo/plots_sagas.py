"""The swimlane chart of one conversation: one lane per stream, an arrow from each cause to its effect.

Follows the conventions of :mod:`esdemo.plots` (plain data in, a ``Figure`` out,
no pyplot state). The layout is computed by :func:`esdemo.read.conversation.swimlane`
(a pure function, tested on its own); this module only draws it.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from .read.conversation import Swimlane

COMPENSATIONS = {"StockReleased", "PaymentRefunded", "OrderCancelled"}
FAILURES = {"PaymentDeclined", "PaymentExpired", "ShipmentRefused", "StockReservationRejected"}


def node_colour(event_type: str) -> str:
    """Red for a failure, orange for a compensation, blue for the rest."""
    return "tab:red" if event_type in FAILURES else "tab:orange" if event_type in COMPENSATIONS else "tab:blue"


def plot_swimlane(lanes: Swimlane, *, upto: int | None = None,
                  title: str = "One conversation, one lane per stream") -> Figure:
    """Draw ``lanes``; with ``upto``, only its first ``upto`` events (a stepping widget's frame).

    x is the order in the log (step 1, 2, ...), y the stream; each node is
    labelled with its event type, and an arrow runs from the event that
    caused it (none for an event caused by a command from outside).
    """
    count = len(lanes.nodes) if upto is None else max(0, min(upto, len(lanes.nodes)))
    figure = Figure(figsize=(9.5, 0.9 + 0.75 * max(len(lanes.lanes), 1)), layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.set_xlabel("step in the log (1 = first event of the conversation)")
    axes.set_ylabel("stream")
    axes.set_yticks(range(len(lanes.lanes)), lanes.lanes)
    axes.set_ylim(len(lanes.lanes) - 0.5, -0.5)
    axes.set_xlim(0.3, max(len(lanes.nodes), 1) + 0.9)
    for lane in range(len(lanes.lanes)):
        axes.axhline(lane, color="0.9", linewidth=6, zorder=0)
    shown = lanes.nodes[:count]
    for node in shown:
        axes.scatter([node.step + 1], [node.lane], s=90, color=node_colour(node.type), zorder=3)
        axes.annotate(node.type, (node.step + 1, node.lane), xytext=(0, 9 if node.step % 2 == 0 else -15), textcoords="offset points",
                      ha="center", fontsize=7.5, zorder=4)
    for arrow in lanes.arrows:
        if arrow.source is None or arrow.target >= count:
            continue
        source, target = lanes.nodes[arrow.source], lanes.nodes[arrow.target]
        axes.annotate("", xy=(target.step + 1, target.lane), xytext=(source.step + 1, source.lane),
                      arrowprops={"arrowstyle": "->", "color": "0.35", "shrinkA": 6, "shrinkB": 6,
                                  "connectionstyle": "arc3,rad=0.15"}, zorder=2)
    axes.set_xticks(range(1, len(lanes.nodes) + 1))
    return figure
