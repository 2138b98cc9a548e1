"""Notebook 05 · Aggregates: the order command console."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import ipywidgets as W

from ..examples.orders import Order
from ..store.clock import FakeClock
from ..store.errors import ConflictError
from ..store.event_store import EventStore
from ..store.events import RecordedEvent
from ..store.ids import seeded_ids
from ..tables import format_data, format_value
from ..write.aggregate import DomainError
from ..write.repository import AggregateNotFoundError, Repository
from .panel import panel

ORDER_COMMANDS = {
    "CreateOrder": ("customer",),
    "AddItem": ("sku", "price", "quantity"),
    "SubmitOrder": (),
    "PayOrder": ("currency",),
}
"""The commands the console understands, with the fields each one takes."""


@dataclass(frozen=True)
class CommandResult:
    """What one command did to one order: the events it recorded, or why it was refused.

    ``events`` are the recorded events this command appended (none when it was
    refused); ``state`` is the order's state afterwards (``None`` if the order
    does not exist) and ``version`` its stream version.
    """

    command: str
    stream_id: str
    accepted: bool
    events: tuple[RecordedEvent, ...]
    rejection: str | None
    state: dict[str, Any] | None
    version: int

    def summary(self) -> str:
        """The order in one line, e.g. ``Order-12345 at version 2: created, 1 line, total 50.00``."""
        if self.state is None:
            return f"{self.stream_id} does not exist (version 0)"
        lines = len(self.state["lines"])
        text = (f"{self.stream_id} at version {self.version}: {self.state['status']}, "
                f"{lines} line{'s' if lines != 1 else ''}, total {format_value(self.state['total'])}")
        if self.state["paid_amount"] is not None:
            text += f", paid {format_value(self.state['paid_amount'])} {self.state['currency']}"
        return text

    def describe(self) -> str:
        """The command, then what it recorded (or why not), then the order afterwards."""
        if self.accepted:
            count = len(self.events)
            body = [f"  accepted: {count} new event{'s' if count != 1 else ''}"]
            body += [f"    v{e.version} {e.type} {{{format_data(e.data)}}}" for e in self.events]
            body.append(f"  now {self.summary()}")
        else:
            body = [f"  rejected: {self.rejection}", f"  nothing was recorded; {self.summary()}"]
        return "\n".join([self.command, *body])

    __repr__ = describe


class OrderConsole:
    """Send the seed's order commands to orders, as the shop's users would, and see what each does.

    Each :meth:`send` is one command handler: load the order (or create it),
    run the command, save the new events with the loaded version as the
    expected version. A broken rule comes back as a rejection, not an exception::

        console = OrderConsole()
        console.send("12345", "CreateOrder", customer="c-42")
        console.send("12345", "PayOrder")      # rejected: it has not been submitted yet

    The console has its own in-memory store, a ``FakeClock`` (one minute per
    reading) and seeded event ids, so the same commands always give the same output.
    """

    def __init__(self, *, clock: Callable[[], datetime] | None = None, seed: int = 4):
        self.clock = clock if clock is not None else FakeClock(
            datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc), step=timedelta(minutes=1))
        self.store = EventStore(clock=self.clock)
        self.orders = Repository(self.store, Order, id_factory=seeded_ids(seed))

    def send(self, order_id: str, command: str, **fields: Any) -> CommandResult:
        """Run ``command`` (a key of :data:`ORDER_COMMANDS`) on order ``order_id`` with its ``fields``.

        Fields not given take the console's defaults (customer ``"c-42"``,
        quantity 1, currency ``"USD"``). A price may be a ``Decimal`` or text
        such as ``"25.00"``.
        """
        if command not in ORDER_COMMANDS:
            raise ValueError(f"unknown command {command!r}; the console knows {sorted(ORDER_COMMANDS)}")
        unknown = sorted(set(fields) - set(ORDER_COMMANDS[command]))
        if unknown:
            raise TypeError(f"{command} takes {list(ORDER_COMMANDS[command]) or 'no fields'}, not {unknown}")
        stream_id = Order.stream_id_for(order_id)
        shown = (f"{k}={v!r}" if isinstance(v, str) else f"{k}={format_value(v)}" for k, v in fields.items())
        label = f"{command}({', '.join(shown)})"
        before = self.store.stream_version(stream_id)
        try:
            self.orders.save(self._run(order_id, command, fields))
        except ConflictError as exc:
            why = (f"{stream_id} already exists (version {exc.actual}); the store expected no stream, because an "
                   f"order is created once" if command == "CreateOrder" else str(exc))
            return self._result(order_id, label, (), f"ConflictError: {why}")
        except (DomainError, AggregateNotFoundError) as exc:
            return self._result(order_id, label, (), f"{type(exc).__name__}: {exc}")
        return self._result(order_id, label, tuple(self.store.read(stream_id, before + 1)), None)

    def _run(self, order_id: str, command: str, fields: dict[str, Any]) -> Order:
        """The command handler: a new order for CreateOrder, else load it; then run the command."""
        if command == "CreateOrder":  # saved with expected version NO_STREAM: an order is created once
            return Order.create(order_id, customer=fields.get("customer", "c-42"))
        order = self.orders.load(order_id)
        if command == "AddItem":
            order.add_item(fields.get("sku", ""), _price(fields.get("price")), fields.get("quantity", 1))
        elif command == "SubmitOrder":
            order.submit(at=self.clock())
        else:
            order.pay(currency=fields.get("currency", "USD"))
        return order

    def _result(self, order_id: str, label: str, events: tuple, rejection: str | None) -> CommandResult:
        stream_id = Order.stream_id_for(order_id)
        version = self.store.stream_version(stream_id)
        state = self.orders.load(order_id).snapshot_state() if version else None
        return CommandResult(label, stream_id, rejection is None, events, rejection, state, version)


def _price(value: Any) -> Decimal:
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            raise DomainError(f"an item's price must be a number such as 25.00, got {value!r}") from None
    if value is None:
        raise DomainError("AddItem needs a price, e.g. price='25.00'")
    return value


CONSOLE_ITEMS = {"BOOK-1 (25.00)": ("BOOK-1", "25.00"), "MUG-1 (12.00)": ("MUG-1", "12.00"),
                 "TEA-3 (8.00)": ("TEA-3", "8.00"), "PEN-2 (2.50)": ("PEN-2", "2.50")}
"""The console's little catalogue: a label for the dropdown -> (SKU, unit price)."""


def _console_html(result: CommandResult, history: Sequence[RecordedEvent]) -> str:
    colour = "#1b5e20" if result.accepted else "#b00020"
    rows = "".join(f"<tr><td>{e.version}</td><td>{html.escape(e.type)}</td>"
                   f"<td><code>{html.escape(format_data(e.data))}</code></td></tr>" for e in history)
    stream = (f"<table><tr><th>version</th><th>type</th><th>data</th></tr>{rows}</table>"
              if rows else "<i>no events</i>")
    return (f"<pre style='color:{colour}'>{html.escape(result.describe())}</pre>"
            f"<b>{html.escape(result.stream_id)}, the whole stream:</b>{stream}")


def build_order_console(console: OrderConsole | None = None) -> W.VBox:
    """Pick a command and its fields, press Send: see the new events or the rejection, and the order.

    Controls: ``order`` (the order id), ``command``, ``customer``, ``item``
    (a SKU and its price), ``quantity``, ``currency`` and the ``send`` button.
    Fields a command does not take are ignored.
    """
    console = console if console is not None else OrderConsole()
    controls = {
        "order": W.Text(value="12345", description="order", layout=W.Layout(width="12em")),
        "command": W.Dropdown(options=list(ORDER_COMMANDS), value="CreateOrder", description="command"),
        "customer": W.Text(value="c-42", description="customer", layout=W.Layout(width="12em")),
        "item": W.Dropdown(options=list(CONSOLE_ITEMS), value="BOOK-1 (25.00)", description="item"),
        "quantity": W.IntSlider(value=1, min=1, max=5, description="quantity"),
        "currency": W.Dropdown(options=["USD", "EUR", "GBP", "usd"], value="USD", description="currency"),
        "send": W.Button(description="Send", button_style="primary"),
    }
    result = W.HTML("<i>Choose a command and press Send. Start with CreateOrder.</i>")
    output = W.Output()

    @output.capture(clear_output=True)
    def on_click(_button: W.Button) -> None:
        command = controls["command"].value
        sku, price = CONSOLE_ITEMS[controls["item"].value]
        offered = {"customer": controls["customer"].value, "sku": sku, "price": price,
                   "quantity": controls["quantity"].value, "currency": controls["currency"].value}
        fields = {name: offered[name] for name in ORDER_COMMANDS[command]}
        try:
            outcome = console.send(controls["order"].value.strip(), command, **fields)
        except ValueError as exc:  # e.g. an empty order id
            result.value = f"<pre style='color:#b00020'>{html.escape(str(exc))}</pre>"
            return
        result.value = _console_html(outcome, console.store.read(outcome.stream_id))

    controls["send"].on_click(on_click)
    box = panel(controls, result, output)
    box.children = (W.HBox([controls["order"], controls["command"], controls["send"]]),
                    W.HBox([controls["customer"], controls["item"], controls["quantity"], controls["currency"]]),
                    result, output)
    box.console = console
    return box
