"""Notebook 08 · Rebuilding projections: blue/green, one step at a time."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import ipywidgets as W
import pandas as pd

from ..examples.order_views import OrderSummary
from ..examples.orders import ItemAdded, Order
from ..read.projection_runner import ProjectionRunner
from ..store.clock import FakeClock
from ..store.event_store import EventStore
from ..store.ids import seeded_ids
from ..write.repository import Repository
from .panel import panel


class BuggyOrderSummary(OrderSummary):
    """Notebook 08's bug: the Order Summary as first shipped, counting ItemAdded *events* as items.

    ``item_count`` should be the number of units (the sum of the quantities);
    this version adds 1 per ``ItemAdded``, so two copies of BOOK-1 in one line
    show as 1 item. It keeps :class:`~esdemo.examples.order_views.OrderSummary`'s
    name and columns, so the fixed code can rebuild the very same view.
    """

    def handle(self, event, recorded, view) -> None:
        match event:
            case ItemAdded(order_id=order_id, price=price, quantity=quantity):
                row = view[order_id]
                view.update(order_id, item_count=row["item_count"] + 1, total=row["total"] + price * quantity)
            case _:
                super().handle(event, recorded, view)


BLUE_GREEN_ORDERS = [  # (order id, customer, [(sku, unit price, quantity)]): the seed's order first
    ("12345", "c-42", [("BOOK-1", "25.00", 2), ("PEN-7", "1.50", 1)]),
    ("12346", "c-42", [("MUG-3", "9.99", 3)]),
    ("12347", "c-7", [("LAMP-2", "40.00", 1)]),
    ("12348", "c-9", [("TEA-1", "6.40", 2), ("BOOK-1", "25.00", 1)]),
]


@dataclass(frozen=True)
class BlueGreenState:
    """What the database holds during a blue/green rebuild, and what a reader sees.

    ``tables`` has one ``(table, role, checkpoint, rows)`` per generation of
    the view (role ``"live"`` or ``"being built"``). ``reader_orders`` and
    ``reader_items`` are what a reader's ``SELECT count(*), sum(item_count)
    FROM order_summary`` returns; ``true_items`` is the units in the log, what
    a correct view shows once it has applied every event.
    """

    head: int
    live_table: str
    tables: tuple[tuple[str, str, int, int], ...]
    reader_orders: int
    reader_items: int
    true_items: int

    def frame(self) -> pd.DataFrame:
        """The generations as a table, indexed by table name."""
        return pd.DataFrame(list(self.tables), columns=["table", "role", "checkpoint", "rows"]).set_index("table")

    def describe(self) -> str:
        """The reader's answer, and whether it is right."""
        verdict = "correct" if self.reader_items == self.true_items else f"wrong: the log has {self.true_items} units"
        return (f"A reader's SELECT count(*), sum(item_count) FROM order_summary (the view now points at "
                f"{self.live_table}): {self.reader_orders} orders, {self.reader_items} items ({verdict}). "
                f"The log's head is {self.head}.")


class BlueGreenDemo:
    """A small shop whose live Order Summary has :class:`BuggyOrderSummary`'s bug; fix it blue/green, by hand.

    The steps, in the seed's words: :meth:`create` (1. create a new
    projection table), :meth:`replay` (2. replay events from the store, one
    batch of ``batch_size`` per call), :meth:`arrive` (a customer places an
    order meanwhile), :meth:`switch` (3. switch read traffic and 4. delete the
    old table, in one commit). Each returns a sentence saying what it did;
    :meth:`state` says what the database holds and what a reader sees.
    The shop has its own in-memory store, a ``FakeClock`` and seeded ids.
    """

    def __init__(self, *, batch_size: int = 4):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        self.batch_size = batch_size
        self.store = EventStore(clock=FakeClock(datetime(2024, 3, 1, 9, tzinfo=timezone.utc), step=timedelta(minutes=2)))
        self.orders = Repository(self.store, Order, id_factory=seeded_ids(6))
        for order_id, customer, items in BLUE_GREEN_ORDERS:
            self._place(order_id, customer, items)
        self.live = ProjectionRunner(self.store, BuggyOrderSummary())   # the code that is deployed
        self.live.catch_up()
        self.fixed = OrderSummary()
        self.rebuilder: ProjectionRunner | None = None
        self._next_order = 20001

    def _place(self, order_id: str, customer: str, items: list[tuple[str, str, int]]) -> None:
        order = Order.create(order_id, customer=customer)
        for sku, price, quantity in items:
            order.add_item(sku, Decimal(price), quantity)
        self.orders.save(order)

    def create(self) -> str:
        """Step 1: create the new generation table, empty, checkpoint 0; readers do not see it."""
        if self.rebuilder is not None:
            return f"{self.rebuilder.target} already exists and is being built; replay or switch."
        self.fixed.storage.attach(self.store, self.fixed.name)
        target = self.fixed.storage.new_target()
        self.rebuilder = ProjectionRunner(self.store, self.fixed, batch_size=self.batch_size, target=target)
        return f"1. Created {target}, empty, checkpoint 0. Readers still read {self._live_table()}."

    def replay(self) -> str:
        """Step 2: apply the next batch of the log to the new table, with the fixed code."""
        if self.rebuilder is None:
            return "Create the new table first (step 1)."
        count = self.rebuilder.run_once()
        if not count:
            return f"2. Nothing left to replay: {self.rebuilder.target} is at the head ({self.store.head()})."
        return (f"2. Replayed {count} event{'s' * (count != 1)} into {self.rebuilder.target} (its checkpoint is now "
                f"{self.rebuilder.position}). Readers still see {self._live_table()}, complete.")

    def arrive(self) -> str:
        """A customer places an order (3 units of TEA-1) while the rebuild runs; the live runner applies it."""
        order_id = str(self._next_order)
        self._next_order += 1
        self._place(order_id, "c-5", [("TEA-1", "6.40", 3)])
        self.live.catch_up()
        behind = "" if self.rebuilder is None else (
            f" {self.rebuilder.target} is {self.store.head() - self.rebuilder.position} events behind; the switch will "
            "apply them.")
        return (f"Order {order_id} arrived (positions {self.store.head() - 1}-{self.store.head()}); the live runner "
                f"applied it to {self._live_table()}.{behind}")

    def switch(self) -> str:
        """Steps 3 and 4 in one commit: apply what is still missing, point the view at the new table, drop the old."""
        if self.rebuilder is None:
            return "There is no new table to switch to: create one (step 1) and replay (step 2)."
        old, target = self._live_table(), self.rebuilder.target
        missing = self.rebuilder.switch_over()
        self.rebuilder = None
        self.live = ProjectionRunner(self.store, OrderSummary())          # deploy the fixed code
        self.fixed = OrderSummary()
        return (f"3.+4. In one commit: applied the last {missing} event{'s' * (missing != 1)}, pointed order_summary "
                f"at {target} and dropped {old}. The live runner now runs the fixed code.")

    def state(self) -> BlueGreenState:
        """The generation tables, their checkpoints and sizes, and a reader's answer."""
        live = self._live_table()
        checkpoints = dict(self.store.query("SELECT name, position FROM checkpoints WHERE name LIKE 'order_summary_%'"))
        tables = []
        for table in sorted(checkpoints, key=lambda name: int(name.rsplit("_", 1)[1])):
            (rows,) = self.store.query(f"SELECT count(*) FROM {table}")[0]
            tables.append((table, "live" if table == live else "being built", checkpoints[table], rows))
        orders, items = self.store.query("SELECT count(*), coalesce(sum(item_count), 0) FROM order_summary")[0]
        (units,) = self.store.query(
            "SELECT coalesce(sum(CAST(data->>'quantity' AS INTEGER)), 0) FROM events WHERE type = 'ItemAdded'")[0]
        return BlueGreenState(self.store.head(), live, tuple(tables), orders, int(items), int(units))

    def close(self) -> None:
        """Close the demo's store."""
        self.store.close()

    def _live_table(self) -> str:
        return self.store.query("SELECT live_table FROM read_models WHERE name = 'order_summary'")[0][0]


def blue_green_html(message: str, state: BlueGreenState) -> str:
    """The blue/green widget's text: the last step, the generation tables, the reader's answer."""
    rows = "".join(f"<tr><td><code>{table}</code></td><td>{role}</td><td>{checkpoint}</td><td>{count}</td></tr>"
                   for table, role, checkpoint, count in state.tables)
    colour = "#1b5e20" if state.reader_items == state.true_items else "#b00020"
    return (f"<p><b>{html.escape(message)}</b></p>"
            f"<table><tr><th>table</th><th>role</th><th>checkpoint</th><th>rows</th></tr>{rows}</table>"
            f"<p style='color:{colour}'>{html.escape(state.describe())}</p>")


def build_blue_green_widget(demo: BlueGreenDemo | None = None) -> W.VBox:
    """Fix the buggy Order Summary with a blue/green rebuild, one button per step, and watch what readers see.

    Controls: ``create``, ``replay``, ``arrive``, ``switch`` and ``reset``
    (a new shop). ``panel.demo`` is the :class:`BlueGreenDemo` being driven.
    """
    state = {"demo": demo if demo is not None else BlueGreenDemo()}
    controls = {
        "create": W.Button(description="1 · create new table", layout=W.Layout(width="auto")),
        "replay": W.Button(description="2 · replay a batch", layout=W.Layout(width="auto")),
        "arrive": W.Button(description="a new order arrives", layout=W.Layout(width="auto")),
        "switch": W.Button(description="3+4 · switch and drop", button_style="primary", layout=W.Layout(width="auto")),
        "reset": W.Button(description="reset", layout=W.Layout(width="auto")),
    }
    first = "The live view was built by the buggy code. Start the rebuild with step 1."
    result = W.HTML(blue_green_html(first, state["demo"].state()))
    output = W.Output()

    def on(step: str) -> Callable[[W.Button], None]:
        @output.capture(clear_output=True)
        def handler(_button: W.Button) -> None:
            if step == "reset":
                state["demo"].close()
                state["demo"] = box.demo = BlueGreenDemo(batch_size=state["demo"].batch_size)
                message = first
            else:
                message = getattr(state["demo"], step)()
            result.value = blue_green_html(message, state["demo"].state())
        return handler

    for name in controls:
        controls[name].on_click(on(name))
    box = panel(controls, result, output)
    box.demo = state["demo"]
    return box
