"""Interactive widgets for the notebooks.

Every widget is two things: a pure function that computes what to show (unit
tested like any other function), and a small ``build_*`` function that wires
ipywidgets controls to it. A built widget is an ``ipywidgets.VBox`` with three
extra attributes, so tests (and curious learners) can drive it without a
browser::

    panel = build_race_widget()
    panel.controls["writers"].value = 8      # move a control
    panel.controls["run"].click()            # press a button
    panel.result.value                       # what the learner now sees

Anything a callback prints or draws goes to ``panel.output`` through
``Output.capture``, so it lands under the widget, not in a random cell.
"""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass

import ipywidgets as W

from .errors import ConflictError
from .events import NewEvent
from .store import EventStore


def panel(controls: dict[str, W.Widget], result: W.Widget, output: W.Output | None = None) -> W.VBox:
    """Lay out controls, a result area and an optional output area, and expose them as attributes."""
    box = W.VBox([W.HBox(list(controls.values())), result, *([output] if output is not None else [])])
    box.controls, box.result, box.output = controls, result, output
    return box


# -- 03 · racing writers ----------------------------------------------------------------------

@dataclass(frozen=True)
class RaceOutcome:
    """What happened when ``writers`` threads appended to one stream with the same expected version."""

    writers: int
    backend: str
    winners: int
    conflicts: int
    stream_version: int

    def describe(self) -> str:
        return (
            f"{self.writers} writers read Order-12345 at version 1 and appended at the same moment on "
            f"{self.backend}: {self.winners} won, {self.conflicts} got ConflictError; "
            f"the stream is at version {self.stream_version}, so no change was lost or doubled."
        )


def race(writers: int, backend: str = "duckdb") -> RaceOutcome:
    """Let ``writers`` threads append to ``Order-12345`` at once, all expecting version 1."""
    if not 1 <= writers <= 64:
        raise ValueError(f"writers must be between 1 and 64, got {writers}")
    with EventStore(backend=backend) as store:
        store.append("Order-12345", [NewEvent("OrderCreated", {"order_id": "12345"})], expected_version=0)
        start = threading.Barrier(writers)
        outcomes: list[str] = []

        def write(n: int) -> None:
            start.wait()
            try:
                store.append("Order-12345", [NewEvent("ItemAdded", {"by": n})], expected_version=1)
                outcomes.append("won")
            except ConflictError:
                outcomes.append("conflict")

        threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return RaceOutcome(writers, backend, outcomes.count("won"), outcomes.count("conflict"),
                           store.stream_version("Order-12345"))


def build_race_widget() -> W.VBox:
    """A slider for the number of writers, a backend choice and a button that runs :func:`race`."""
    controls = {
        "writers": W.IntSlider(value=8, min=2, max=32, description="writers"),
        "backend": W.Dropdown(options=["duckdb", "sqlite"], value="duckdb", description="backend"),
        "run": W.Button(description="Race!", button_style="primary"),
    }
    result = W.HTML("<i>Press Race! to start the writers.</i>")
    output = W.Output()

    @output.capture(clear_output=True)
    def on_click(_button: W.Button) -> None:
        outcome = race(controls["writers"].value, controls["backend"].value)
        result.value = html.escape(outcome.describe())

    controls["run"].on_click(on_click)
    return panel(controls, result, output)


# -- 08 · Schema evolution ----------------------------------------------------------------------
# This section's own imports (the file is shared; each section keeps its imports with it).

import dataclasses  # noqa: E402
from collections.abc import Mapping, Sequence  # noqa: E402
from typing import Any  # noqa: E402

from .domain import EventDecodeError, EventRegistry  # noqa: E402
from .events import RecordedEvent  # noqa: E402
from .tables import format_value  # noqa: E402
from .upcasting import UpcastError  # noqa: E402


@dataclass(frozen=True)
class StoredVsSeen:
    """One stored event next to what a registry turns it into.

    ``stored_version`` and ``stored_data`` are what the log holds, and they
    never change. ``seen_class``, ``seen_version`` and ``seen_data`` are the
    domain event an aggregate or projection receives after the upcasters ran;
    they are ``None`` when the registry cannot decode the event, and
    ``error`` then says why (the registry's own message).
    """

    position: int
    stream_id: str
    type: str
    stored_version: int
    stored_data: dict[str, Any]
    seen_class: str | None
    seen_version: int | None
    seen_data: dict[str, Any] | None
    error: str | None

    @property
    def upcast(self) -> bool:
        """Did the event change version on its way in?"""
        return self.seen_version is not None and self.seen_version != self.stored_version

    def describe(self) -> str:
        """Two lines: what is stored, and what the domain sees."""
        stored = f"stored:  {self.type} V{self.stored_version} {_fields(self.stored_data)}"
        if self.error is not None:
            return f"position {self.position} ({self.stream_id})\n{stored}\nseen:    nothing, the read fails: {self.error}"
        how = f"upcast V{self.stored_version} -> V{self.seen_version}" if self.upcast else "as stored"
        return (f"position {self.position} ({self.stream_id})\n{stored}\n"
                f"seen:    {self.seen_class} V{self.seen_version} {_fields(self.seen_data or {})}  ({how})")


def _fields(data: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{key}: {format_value(value)}" for key, value in data.items()) + "}"


def stored_vs_seen(recorded: RecordedEvent, registry: EventRegistry) -> StoredVsSeen:
    """Decode ``recorded`` with ``registry`` and report the stored event next to the domain event.

    A failed decode is part of the answer, not an exception: the widget shows
    the registry's message (e.g. "no upcaster from V1 is registered").

    >>> stored_vs_seen(store.read("Order-9001")[-1], default_registry).seen_data["currency"]
    'USD'
    """
    if not isinstance(recorded, RecordedEvent):
        raise TypeError(f"pass a RecordedEvent (from store.read(...)), got {type(recorded).__name__}")
    if not isinstance(registry, EventRegistry):
        raise TypeError(f"registry must be an EventRegistry, got {type(registry).__name__}")
    stored = (recorded.position, recorded.stream_id, recorded.type, recorded.schema_version, dict(recorded.data))
    try:
        event = registry.decode(recorded)
    except (EventDecodeError, UpcastError) as exc:
        return StoredVsSeen(*stored, None, None, None, str(exc))
    seen = {field.name: getattr(event, field.name) for field in dataclasses.fields(event)}
    return StoredVsSeen(*stored, type(event).__name__, type(event).schema_version, seen, None)


def _stored_vs_seen_html(view: StoredVsSeen, registry_name: str) -> str:
    def rows(data: Mapping[str, Any]) -> str:
        return "".join(f"<tr><td><code>{html.escape(k)}</code></td><td>{html.escape(format_value(v))}</td></tr>"
                       for k, v in data.items())

    stored = (f"<b>stored in the log: {html.escape(view.type)} V{view.stored_version}</b>"
              f"<table>{rows(view.stored_data)}</table><i>never changes</i>")
    if view.error is not None:
        seen = (f"<b>seen by the domain ({html.escape(registry_name)})</b>"
                f"<p style='color:#b00020'>the read fails: {html.escape(view.error)}</p>")
    else:
        how = f"upcast V{view.stored_version} → V{view.seen_version}" if view.upcast else "as stored, no upcast"
        seen = (f"<b>seen by the domain ({html.escape(registry_name)}): {html.escape(view.seen_class or '')} "
                f"V{view.seen_version}</b><table>{rows(view.seen_data or {})}</table><i>{how}</i>")
    cell = "<td style='vertical-align:top; padding-right:2em; max-width:30em'>"
    return (f"<p>position {view.position} · {html.escape(view.stream_id)}</p>"
            f"<table><tr>{cell}{stored}</td>{cell}{seen}</td></tr></table>")


def build_upcast_widget(events: Sequence[RecordedEvent], registries: Mapping[str, EventRegistry], *,
                        start: int = 1) -> W.VBox:
    """A slider over ``events`` and a choice of registry: the stored event next to what the domain sees.

    ``registries`` names the choices, e.g. ``{"with upcaster": default_registry,
    "no upcaster": bare}``; ``start`` is the event (1-based) shown first.
    """
    events = list(events)
    if not events:
        raise ValueError("pass at least one recorded event, e.g. store.read_all()")
    if not registries or not all(isinstance(r, EventRegistry) for r in registries.values()):
        raise ValueError("registries must map a label to an EventRegistry, e.g. {'with upcaster': default_registry}")
    if not 1 <= start <= len(events):
        raise ValueError(f"start must be between 1 and {len(events)} (the number of events), got {start}")
    controls = {
        "event": W.IntSlider(value=start, min=1, max=len(events), description="event"),
        "registry": W.ToggleButtons(options=list(registries), description="read with"),
    }
    result = W.HTML()

    def show(_change: object = None) -> None:
        name = controls["registry"].value
        result.value = _stored_vs_seen_html(stored_vs_seen(events[controls["event"].value - 1], registries[name]), name)

    controls["event"].observe(show, names="value")
    controls["registry"].observe(show, names="value")
    show()
    return panel(controls, result)


# -- 01 · CQRS: where is the new price? -----------------------------------------------------------

from collections.abc import Callable, Sequence  # noqa: E402  (each section keeps its own imports)
from datetime import datetime, timedelta, timezone  # noqa: E402
from decimal import Decimal  # noqa: E402

import pandas as pd  # noqa: E402
from IPython.display import display  # noqa: E402

from .aggregate import DomainError  # noqa: E402
from .clock import FakeClock  # noqa: E402
from .examples.catalog import Catalog, Product, UpdateProductPrice  # noqa: E402
from .examples.catalog_views import CatalogViews  # noqa: E402
from .ids import seeded_ids  # noqa: E402
from .plots import price_sync_chart  # noqa: E402
from .serialization import loads  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

PRICE_PLACES = {  # place -> where it lives in this course's catalog
    "write model": "products table",
    "outbox": "outbox table, same DB",
    "event log": "event store",
    "search view": "pandas DataFrame",
    "detail view": "documents (dicts)",
    "admin view": "DuckDB table",
}
UP_TO_DATE, STALE, NOT_THERE = "up to date", "STALE", "not there yet"


def where_is_the_price(catalog: Catalog, store: EventStore, views: CatalogViews, product_id: str) -> pd.DataFrame:
    """What each place that keeps ``product_id``'s price shows right now, compared with the write model.

    One row per place (the index): ``stored in``, ``price`` (as text, ``—``
    when the place has nothing) and ``status``: ``up to date``, ``STALE``
    (an older price), ``not there yet`` (the product itself has not arrived),
    and for the outbox how many of the product's events wait to be relayed.

    >>> where_is_the_price(catalog, store, views, "p-1").loc["search view", "status"]
    'STALE'
    """
    truth = catalog.get(product_id).price
    waiting = [row for row in catalog.outbox()
               if row["stream_id"] == f"Product-{product_id}" and row["relayed_position"] is None]
    waiting_prices = [_price_in(row["type"], loads(row["data"])) for row in waiting]
    waiting_prices = [price for price in waiting_prices if price is not None]
    logged = None
    for event in store.read(f"Product-{product_id}"):
        logged = _price_in(event.type, event.data) or logged
    search = views.search_view.storage.frame
    page = views.product_page(product_id)
    admin = {row.product_id: row.price for row in views.admin_products()}
    shown = {
        "write model": truth,
        "event log": logged,
        "search view": search.loc[product_id, "price"] if product_id in search.index else None,
        "detail view": page["price"] if page is not None else None,
        "admin view": admin.get(product_id),
    }
    rows = []
    for place, stored_in in PRICE_PLACES.items():
        if place == "outbox":
            status = f"{len(waiting)} event{'s' * (len(waiting) != 1)} waiting" if waiting else "empty"
            price = waiting_prices[-1] if waiting_prices else None
        else:
            price = shown[place]
            status = NOT_THERE if price is None else UP_TO_DATE if price == truth else STALE
        rows.append({"place": place, "stored in": stored_in, "price": "—" if price is None else str(price),
                     "status": status})
    return pd.DataFrame(rows).set_index("place")


def _price_in(event_type: str, data: dict) -> Decimal | None:
    """The price an event states: a new product's price, or a price update's new price."""
    if event_type == "ProductCreated":
        return data["price"]
    if event_type == "ProductPriceUpdated":
        return data["new_price"]
    return None


def sync_status_code(status: str) -> int:
    """A status of :func:`where_is_the_price` as a chart colour: 2 current, 1 behind or waiting, 0 nothing."""
    if status == UP_TO_DATE:
        return 2
    if status == STALE or status.endswith("waiting"):
        return 1
    return 0


def sync_history_chart(history: Sequence[tuple[str, pd.DataFrame]]) -> Figure:
    """Chart a price change step by step: ``history`` is ``(step name, where_is_the_price(...))`` pairs.

    >>> sync_history_chart([("command", after_command), ("relay", after_relay)])
    """
    places = list(PRICE_PLACES)
    codes = [[sync_status_code(frame.loc[place, "status"]) for _, frame in history] for place in places]
    labels = [[frame.loc[place, "price"] for _, frame in history] for place in places]
    return price_sync_chart([step for step, _ in history], places, codes, labels)


DEMO_LAMP = Product("p-1", "Desk Lamp", "A desk lamp with a warm light", Decimal("40.00"), inventory=10,
                    thumbnail="lamp.png", images=("lamp-1.png", "lamp-2.png"))


class PriceSyncDemo:
    """A one-product shop to walk a price change through CQRS by hand: command, relay, project.

    It has its own catalog (write side, price manager ``alice``), event store
    and three views, all in memory, with a fake clock and seeded ids, so it
    never touches a notebook's own objects. ``history`` keeps what
    :func:`where_is_the_price` said after each step, for :meth:`chart`.
    """

    VIEWS = ("search", "detail", "admin")

    def __init__(self, product: Product = DEMO_LAMP):
        clock = FakeClock(datetime(2024, 3, 1, 9, tzinfo=timezone.utc), step=timedelta(minutes=1))
        self.product_id = product.id
        self.store = EventStore(clock=clock)
        self.catalog = Catalog(price_managers={"alice"}, id_factory=seeded_ids(1))
        self.catalog.create_product(product)
        self.catalog.relay_outbox(self.store)
        self.views = CatalogViews(self.store, clock=clock.peek)
        self.views.catch_up()
        self.history: list[tuple[str, pd.DataFrame]] = [("start", self.where())]

    def where(self) -> pd.DataFrame:
        """:func:`where_is_the_price` for the demo's product, now."""
        return where_is_the_price(self.catalog, self.store, self.views, self.product_id)

    def command(self, new_price: Decimal | str, user: str) -> str:
        """Send ``UpdateProductPrice``; returns what the write side answered (accepted, or why not)."""
        try:
            event = self.catalog.update_product_price(UpdateProductPrice(self.product_id, Decimal(new_price), user))
        except (DomainError, TypeError) as exc:
            return self._step("rejected", f"{user} → {new_price}: rejected. {type(exc).__name__}: {exc}")
        return self._step(f"command {event.new_price}",
                          f"{user} → {event.new_price}: accepted. The products table and the outbox changed "
                          "in one transaction; nothing else knows yet.")

    def relay(self) -> str:
        """Run the outbox relay once (the "Sync" arrow): appends waiting events to the event store."""
        count = self.catalog.relay_outbox(self.store)
        return self._step("relay", f"relay: {count} event{'s' * (count != 1)} appended to the event store.")

    def project(self, view: str = "all") -> str:
        """Run the projection of one view (``search``, ``detail``, ``admin``) or of ``all``, up to the head."""
        if view not in (*self.VIEWS, "all"):
            raise ValueError(f"view must be one of {[*self.VIEWS, 'all']}, got {view!r}")
        runners = self.views.runners if view == "all" else [self.views.runners[self.VIEWS.index(view)]]
        applied = max(runner.catch_up() for runner in runners)
        which = "all three views" if view == "all" else f"the {view} view"
        return self._step(f"project {view}",
                          f"projection: {which} applied {applied} new event{'s' * (applied != 1)}.")

    def chart(self, last: int = 8) -> Figure:
        """The last ``last`` steps as a :func:`sync_history_chart`."""
        return sync_history_chart(self.history[-last:])

    def close(self) -> None:
        """Close the demo's catalog and event store (both in memory: they are gone afterwards)."""
        self.catalog.close()
        self.store.close()

    def _step(self, label: str, message: str) -> str:
        self.history.append((label, self.where()))
        return message


def sync_html(message: str, frame: pd.DataFrame) -> str:
    """The price-sync widget's text: the last step's message, then one line per place."""
    lines = [f"<b>{html.escape(message)}</b>"]
    for place, row in frame.iterrows():
        lines.append(html.escape(f"{place:<12} {row['stored in']:<22} {row['price']:>7}   {row['status']}"))
    return "<pre style='margin:0'>" + "\n".join(lines) + "</pre>"


def build_price_sync_widget(demo: PriceSyncDemo | None = None) -> W.VBox:
    """Change the lamp's price with a command, then relay and project, and watch where the new price shows.

    The built panel also has ``panel.demo`` (the :class:`PriceSyncDemo` it drives).
    """
    demo = demo if demo is not None else PriceSyncDemo()
    narrow = {"style": {"description_width": "initial"}, "layout": W.Layout(width="auto")}
    controls = {
        "price": W.Dropdown(options=["35.00", "44.00", "52.00", "80.00"], value="35.00", description="new price", **narrow),
        "user": W.Dropdown(options=["alice", "bob"], value="alice", description="user", **narrow),
        "command": W.Button(description="1 · UpdateProductPrice", button_style="primary", layout=W.Layout(width="auto")),
        "relay": W.Button(description="2 · relay outbox", layout=W.Layout(width="auto")),
        "view": W.Dropdown(options=["all", *PriceSyncDemo.VIEWS], value="all", description="view", **narrow),
        "project": W.Button(description="3 · project", layout=W.Layout(width="auto")),
    }
    result = W.HTML(sync_html("Start: the lamp costs 40.00 everywhere. Send a command.", demo.where()))
    output = W.Output()

    @output.capture(clear_output=True)
    def run(step: Callable[[], str]) -> None:
        result.value = sync_html(step(), demo.where())
        display(demo.chart())

    controls["command"].on_click(lambda _: run(lambda: demo.command(controls["price"].value, controls["user"].value)))
    controls["relay"].on_click(lambda _: run(demo.relay))
    controls["project"].on_click(lambda _: run(lambda: demo.project(controls["view"].value)))
    box = panel(controls, result, output)
    box.demo = demo
    return box


# -- 04 · Aggregates: the order command console ---------------------------------------------------
# This section's own imports (the file is shared; each section keeps its imports with it).

from collections.abc import Callable, Sequence  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402
from decimal import Decimal, InvalidOperation  # noqa: E402
from typing import Any  # noqa: E402

from .aggregate import DomainError  # noqa: E402
from .clock import FakeClock  # noqa: E402
from .events import RecordedEvent  # noqa: E402
from .examples.orders import Order  # noqa: E402
from .ids import seeded_ids  # noqa: E402
from .repository import AggregateNotFoundError, Repository  # noqa: E402
from .tables import format_data, format_value  # noqa: E402

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


# -- 11 · Interview prep ------------------------------------------------------------------------
# This section's own imports (the file is shared; each section keeps its imports with it).

from . import interview as _interview  # noqa: E402


def _pre(text: str) -> str:
    return f"<pre style='white-space: pre-wrap; font-family: inherit'>{html.escape(text)}</pre>"


def _question_html(quiz: Sequence[_interview.Question], index: int) -> str:
    question = quiz[index]
    options = "".join(f"<li><b>({_interview.LETTERS[i]})</b> {html.escape(option.text)}</li>"
                      for i, option in enumerate(question.options))
    topic = _interview.INTERVIEW_QUESTIONS[question.topic]
    return (f"<p><b>Question {index + 1} of {len(quiz)}</b> · interview question {question.topic}: "
            f"<i>{html.escape(topic)}</i></p><p>{html.escape(question.prompt)}</p>"
            f"<ul style='list-style: none'>{options}</ul>")


def build_quiz_widget(quiz: Sequence[_interview.Question] = _interview.QUIZ) -> W.VBox:
    """The self-check quiz, one question at a time: choose, press Check, read why; Next moves on.

    The first checked choice of each question is what counts for the score
    (:func:`esdemo.interview.score`); checking again only explains. After the
    last question, Next shows the summary and starts over. ``panel.question``
    shows the question, ``panel.result`` the explanation and the score.
    """
    quiz = tuple(quiz)
    if not quiz:
        raise ValueError("the quiz has no questions")
    state = {"index": 0, "answers": [None] * len(quiz)}
    controls = {
        "choice": W.RadioButtons(options=[], value=None, description="answer"),
        "check": W.Button(description="Check", button_style="primary"),
        "next": W.Button(description="Next question"),
    }
    question, result = W.HTML(), W.HTML()

    def score_line() -> str:
        marked = _interview.score(state["answers"], quiz)
        return f"<p>Score so far: {marked.correct} of {marked.answered} checked ({marked.total} questions).</p>"

    def show_question() -> None:
        index = state["index"]
        question.value = _question_html(quiz, index)
        controls["choice"].options = [(f"({_interview.LETTERS[i]})", i) for i in range(len(quiz[index].options))]
        controls["choice"].value = None
        result.value = score_line()

    def on_check(_button: W.Button) -> None:
        choice, index = controls["choice"].value, state["index"]
        if choice is None:
            result.value = "<p>Choose an option first.</p>" + score_line()
            return
        if state["answers"][index] is None:
            state["answers"][index] = choice
        result.value = _pre(_interview.explain(quiz[index], choice)) + score_line()

    def on_next(_button: W.Button) -> None:
        if state["index"] + 1 < len(quiz):
            state["index"] += 1
            show_question()
            return
        summary = _interview.score(state["answers"], quiz).summary()
        state["index"], state["answers"] = 0, [None] * len(quiz)
        show_question()
        result.value = f"<p><b>End of the quiz.</b> {html.escape(summary)} Starting again.</p>"

    controls["check"].on_click(on_check)
    controls["next"].on_click(on_next)
    show_question()
    box = panel(controls, result)
    box.children = (question, controls["choice"], W.HBox([controls["check"], controls["next"]]), result)
    box.question = question
    return box


def build_decision_guide() -> W.VBox:
    """One checkbox per :class:`~esdemo.interview.SystemProfile` question; the advice updates as you tick.

    ``panel.controls`` is keyed by the profile's field names
    (``panel.controls["audit_required"].value = True``); ``panel.result``
    shows :func:`esdemo.interview.advise`'s reasoning.
    """
    controls = {name: W.Checkbox(value=False, description=text, indent=False, layout=W.Layout(width="auto"))
                for name, text in _interview.QUESTIONS_ABOUT_A_SYSTEM.items()}
    result = W.HTML()

    def show(_change: object = None) -> None:
        profile = _interview.SystemProfile(**{name: box.value for name, box in controls.items()})
        result.value = _pre(_interview.advise(profile).describe())

    for checkbox in controls.values():
        checkbox.observe(show, names="value")
    show()
    box = panel(controls, result)
    box.children = (W.VBox(list(controls.values())), result)
    return box


# -- 02 · Event sourcing: replay, step by step ----------------------------------------------------

from decimal import Decimal as _Decimal  # noqa: E402  (each section keeps its own imports)
from typing import Any as _Any  # noqa: E402

import pandas as _pd  # noqa: E402
from IPython.display import display as _display  # noqa: E402

from .aggregate import Aggregate  # noqa: E402
from .domain import EventRegistry as _EventRegistry, default_registry as _default_registry  # noqa: E402
from .events import RecordedEvent as _RecordedEvent  # noqa: E402
from .examples.bank import Account  # noqa: E402
from .plots import balance_chart  # noqa: E402
from .tables import format_data as _format_data, format_value as _format_value  # noqa: E402


def _show(value: _Any) -> str:
    """A state value for the replay text: money with two decimals, the rest as tables print it."""
    if isinstance(value, _Decimal):
        return f"{value:.2f}"
    return _format_value(value)


@dataclass(frozen=True)
class ReplayStep:
    """Step ``step`` of ``total`` in a replay: the event applied at that step, and the state right after it.

    ``state`` is the aggregate's public state (``snapshot_state()``), e.g.
    ``{"owner": "Ada Lovelace", "balance": Decimal("150"), "is_open": True}``.
    """

    step: int
    total: int
    event: _RecordedEvent
    state: dict[str, _Any]

    def describe_event(self) -> str:
        """``MoneyWithdrawn(amount=50)``: the event's type and data."""
        data = {key: value for key, value in self.event.data.items() if key != "account_id"}
        return f"{self.event.type}({_format_data(data)})"

    def describe_state(self) -> str:
        """``owner Ada Lovelace · balance 150.00 · is_open True``: the state after this step."""
        return " · ".join(f"{name} {_show(value)}" for name, value in self.state.items())

    def describe(self) -> str:
        """Everything on one line: which step, when, which event, and the state after it."""
        return (f"step {self.step} of {self.total} · {_format_value(self.event.recorded_at)} · "
                f"{self.describe_event()} → {self.describe_state()}")


def replay_steps(events: Sequence[_RecordedEvent], aggregate_class: type[Aggregate] = Account, *,
                 registry: _EventRegistry | None = None) -> list[ReplayStep]:
    """Replay one stream's ``events`` into a fresh ``aggregate_class``, one event at a time.

    Returns one :class:`ReplayStep` per event: the state after event 1, after
    events 1-2, and so on, applied with the aggregate's own ``apply`` (the
    same code a load runs). Refuses events from more than one stream, or out
    of order, because that would not be a replay of one aggregate.

    >>> [step.state["balance"] for step in replay_steps(store.read("Account-123"))]
    [Decimal('0'), Decimal('200'), Decimal('150')]
    """
    events = list(events)
    if not events:
        raise ValueError("there is nothing to replay: pass the events of one stream, e.g. store.read('Account-123')")
    streams = sorted({event.stream_id for event in events})
    if len(streams) > 1:
        raise ValueError(f"a replay rebuilds ONE aggregate, but these events come from {len(streams)} streams "
                         f"{streams}; pass store.read(stream_id)")
    versions = [event.version for event in events]
    if versions != list(range(1, len(events) + 1)):
        raise ValueError(f"a replay starts at version 1 and goes in order without gaps; got versions {versions}")
    decode = (registry or _default_registry).decode
    aggregate = aggregate_class(streams[0].split("-", 1)[1] if "-" in streams[0] else streams[0])
    steps = []
    for event in events:
        aggregate.apply(decode(event))
        steps.append(ReplayStep(event.version, len(events), event, aggregate.snapshot_state()))
    return steps


def replay_to(events: Sequence[_RecordedEvent], step: int, aggregate_class: type[Aggregate] = Account, *,
              registry: _EventRegistry | None = None) -> ReplayStep:
    """Replay ``events`` up to ``step`` (1 = the first event): the event at that step and the state after it.

    >>> replay_to(store.read("Account-123"), 3).describe()
    'step 3 of 3 · 2024-01-03 14:15 · MoneyWithdrawn(amount=50) → owner Ada Lovelace · balance 150.00 · is_open True'
    """
    events = list(events)
    if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= max(len(events), 1):
        raise ValueError(f"step must be a whole number from 1 to {len(events)} (the stream's length), got {step!r}")
    last = replay_steps(events[:step], aggregate_class, registry=registry)[-1]  # later events play no part
    return ReplayStep(last.step, len(events), last.event, last.state)


def replay_frame(steps: Sequence[ReplayStep]) -> _pd.DataFrame:
    """The replay as a table: one row per step with when, which event, and the state after it."""
    rows = [{"step": s.step, "recorded_at": _format_value(s.event.recorded_at), "event": s.describe_event(),
             **{f"{name} after": _show(value) for name, value in s.state.items()}} for s in steps]
    return _pd.DataFrame(rows).set_index("step")


def replay_html(step: ReplayStep) -> str:
    """The replay widget's text: plain words, two lines (e.g. contains ``balance 150.00`` after step 3 of account 123)."""
    return (f"<b>step {step.step} of {step.total}</b> · {html.escape(_format_value(step.event.recorded_at))} · "
            f"{html.escape(step.describe_event())}<br>"
            f"state after it: {html.escape(step.describe_state())}")


def build_replay_widget(events: Sequence[_RecordedEvent], aggregate_class: type[Aggregate] = Account, *,
                        start: int | None = None, as_of: datetime | None = None) -> W.VBox:
    """A slider over a stream: the event at each step, the state after it, and the balance chart so far.

    ``panel.controls["step"]`` is an ``IntSlider`` (description ``step``, 1 to
    the stream's length, starting at ``start`` or at the last event);
    ``panel.result`` is the text of :func:`replay_html`; ``panel.output``
    holds :func:`~esdemo.plots.balance_chart`, redrawn on every move (the
    aggregate's state must have a ``balance``). ``as_of`` adds a dashed line.
    """
    steps = replay_steps(events, aggregate_class)
    if "balance" not in steps[-1].state:
        raise ValueError(f"{aggregate_class.__name__} has no balance to chart; its state is {sorted(steps[-1].state)}")
    start = len(steps) if start is None else start
    if not 1 <= start <= len(steps):
        raise ValueError(f"start must be between 1 and {len(steps)}, got {start}")
    controls = {"step": W.IntSlider(value=start, min=1, max=len(steps), description="step",
                                    continuous_update=True, layout=W.Layout(width="420px"))}
    result = W.HTML()
    output = W.Output()
    times = [s.event.recorded_at for s in steps]
    balances = [s.state["balance"] for s in steps]

    def chart(n: int) -> Figure:
        return balance_chart(times, balances, upto=n, as_of=as_of)

    @output.capture(clear_output=True, wait=True)
    def show(_change: _Any = None) -> None:
        n = controls["step"].value
        result.value = replay_html(steps[n - 1])
        _display(chart(n))

    controls["step"].observe(show, names="value")
    # The first drawing goes straight into the Output widget's state: displaying it from the building
    # cell would also print it as that cell's own output in tools that do not route widget output (nbval).
    result.value = replay_html(steps[start - 1])
    output.append_display_data(chart(start))
    return panel(controls, result, output)


# -- 07 · Snapshots: what a load replays, and what it costs ---------------------------------------
# This section's own imports (the file is shared; each section keeps its imports with it).

import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402

import pandas as pd  # noqa: E402
from IPython.display import display  # noqa: E402

from .examples.bank import Account  # noqa: E402
from .plots import replayed_chart  # noqa: E402
from .repository import LoadPlan, Repository  # noqa: E402


def grow_account(accounts: Repository, account_id: str, events: int, *, batch: int = 50) -> Account:
    """Open ``account_id`` and add transactions until its stream holds ``events`` events, saving every ``batch``.

    The history is the seed's rhythm repeated: deposit $200, withdraw $50.
    Saving a batch at a time is how an account really grows (a day of
    transactions per save), and it is what ``snapshot_every`` sees: a snapshot
    is written after a save that crosses a multiple of the interval.

    >>> grow_account(Repository(store, Account, snapshot_every=1000), "123", 1050).version
    1050
    """
    if isinstance(events, bool) or not isinstance(events, int) or events < 1:
        raise ValueError(f"events must be an int >= 1 (the AccountOpened counts), got {events!r}")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be an int >= 1 (events per save), got {batch!r}")
    account = Account.open(account_id, owner="Ada")
    for number in range(2, events + 1):
        if number % 2 == 0:
            account.deposit(Decimal("200"))
        else:
            account.withdraw(Decimal("50"))
        if len(account.pending_events) >= batch:
            accounts.save(account)
    accounts.save(account)
    return account


def replayed_by_length(accounts: Repository, account_id: str, lengths: Sequence[int]) -> list[int]:
    """Events a load replays when the stream holds each of ``lengths`` events (exact, no timing).

    A load ``at_version=n`` only uses snapshots taken at or before ``n``, so it
    replays what a load replayed on the day the stream had ``n`` events.
    """
    return [accounts.load_plan(account_id, at_version=n).replayed for n in lengths]


def load_times_ms(accounts: Repository, account_id: str, *, at_version: int | None = None,
                  repeat: int = 5) -> list[float]:
    """Wall-clock times of ``repeat`` loads, in milliseconds, after one warm-up load.

    Timings differ on every machine and run: print them only in a cell marked
    ``# NBVAL_IGNORE_OUTPUT``. On a busy machine take the fastest
    (``min(...)``): it is the run least disturbed by other work.
    """
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be an int >= 1, got {repeat!r}")
    accounts.load(account_id, at_version=at_version)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        accounts.load(account_id, at_version=at_version)
        times.append((time.perf_counter() - start) * 1000)
    return times


def median_load_ms(accounts: Repository, account_id: str, *, at_version: int | None = None, repeat: int = 5) -> float:
    """The median of :func:`load_times_ms`: a typical load, in milliseconds."""
    return statistics.median(load_times_ms(accounts, account_id, at_version=at_version, repeat=repeat))


@dataclass(frozen=True)
class IntervalCost:
    """One account grown with ``snapshot_every=interval``: what snapshots cost and what they save.

    Exact (the same on every run): ``snapshots`` written and the bytes of
    state they hold; ``plan``, what the final load restores and replays;
    ``replayed``, the events a load replayed after each save over the
    account's life (at the stream lengths in :attr:`saves`). Measured
    (different on every run): ``load_ms`` with the snapshots and ``full_ms``
    after deleting them.
    """

    interval: int | None
    events: int
    batch: int
    snapshots: int
    snapshot_bytes: int
    plan: LoadPlan
    replayed: tuple[int, ...]
    load_ms: float | None = None
    full_ms: float | None = None

    @property
    def saves(self) -> list[int]:
        """The stream's length after each save: batch, 2 * batch, ..., events."""
        return [*range(self.batch, self.events, self.batch), self.events]

    @property
    def worst(self) -> int:
        """The most events any load over the account's life had to replay."""
        return max(self.replayed)

    @property
    def mean(self) -> float:
        """The events replayed by a load, on average over the account's life."""
        return statistics.fmean(self.replayed)

    def frame(self) -> pd.DataFrame:
        """Events replayed after each save, next to a full replay: the input of :func:`~esdemo.plots.replayed_chart`."""
        label = "no snapshots" if self.interval is None else f"snapshot every {self.interval:,}"
        columns = {"no snapshots": self.saves} | {label: list(self.replayed)}
        return pd.DataFrame(columns, index=pd.Index(self.saves, name="events in the stream"))

    def row(self) -> dict[str, Any]:
        """The exact numbers, as a table row."""
        return {"snapshot every": "never" if self.interval is None else f"{self.interval:,}",
                "snapshots written": self.snapshots, "state stored (bytes)": self.snapshot_bytes,
                "replayed by the last load": self.plan.replayed,
                "worst load (events)": self.worst, "mean load (events)": round(self.mean, 1)}

    def describe(self) -> str:
        """Two or three lines: the exact numbers, then the timings if they were measured."""
        every = "no snapshots" if self.interval is None else f"snapshot every {self.interval:,} events"
        lines = [f"{every}, saving every {self.batch:,} events: {self.snapshots:,} snapshots written "
                 f"({self.snapshot_bytes:,} bytes of state)",
                 f"{self.plan}; over the account's life a load replayed at most {self.worst:,} events "
                 f"({self.mean:,.0f} on average)"]
        if self.load_ms is not None and self.full_ms is not None:
            lines.append(f"load: {self.load_ms:.1f} ms; a full replay of all {self.events:,} events: "
                         f"{self.full_ms:.1f} ms ({self.full_ms / self.load_ms:.0f}x)")
        return "\n".join(lines)

    __repr__ = describe


def interval_cost(interval: int | None, *, events: int = 10_050, batch: int = 50, repeat: int = 5,
                  backend: str = "duckdb") -> IntervalCost:
    """Grow account 123 in a fresh store with ``snapshot_every=interval`` and measure its loads.

    ``interval=None`` means no snapshots. With ``repeat=0`` nothing is timed
    (only the exact numbers, which is all a table for the notebook needs).
    """
    if interval is not None and (isinstance(interval, bool) or not isinstance(interval, int) or interval < 1):
        raise ValueError(f"interval must be None (no snapshots) or an int >= 1, got {interval!r}")
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 0:
        raise ValueError(f"repeat must be an int >= 0 (0: do not time the loads), got {repeat!r}")
    with EventStore(backend=backend) as store:
        accounts = Repository(store, Account, snapshot_every=interval)
        grow_account(accounts, "123", events, batch=batch)
        stream_id = Account.stream_id_for("123")
        (count, size), = store.query("SELECT count(*), coalesce(sum(length(state)), 0) FROM snapshots "
                                     "WHERE stream_id = ?", [stream_id])
        replayed = replayed_by_length(accounts, "123", [*range(batch, events, batch), events])
        plan = accounts.load_plan("123")
        load_ms = full_ms = None
        if repeat:
            load_ms = median_load_ms(accounts, "123", repeat=repeat)
            accounts.snapshots.delete(stream_id)
            full_ms = median_load_ms(accounts, "123", repeat=repeat)
    return IntervalCost(interval, events, batch, int(count), int(size), plan, tuple(replayed), load_ms, full_ms)


SNAPSHOT_INTERVALS = {"never": None, "10": 10, "100": 100, "500": 500, "1,000": 1000, "2,500": 2500, "5,000": 5000}
"""The snapshot widget's choices: a label -> ``snapshot_every`` (``None``: no snapshots)."""


def _interval_html(cost: IntervalCost) -> str:
    def row(name: str, value: str) -> str:
        return f"<tr><td>{html.escape(name)}</td><td style='text-align:right'><b>{html.escape(value)}</b></td></tr>"

    rows = [row("snapshots written", f"{cost.snapshots:,}"), row("state stored", f"{cost.snapshot_bytes:,} bytes"),
            row("the last load", str(cost.plan)), row("events replayed, worst load", f"{cost.worst:,}"),
            row("events replayed, mean load", f"{cost.mean:,.0f}")]
    if cost.load_ms is not None and cost.full_ms is not None:
        rows += [row("load time (measured)", f"{cost.load_ms:.1f} ms"),
                 row("full replay (measured)", f"{cost.full_ms:.1f} ms")]
    return f"<table>{''.join(rows)}</table>"


def build_snapshot_widget(*, events: int = 10_050, batch: int = 50, repeat: int = 5) -> W.VBox:
    """Pick a snapshot interval, press Build and load: see events replayed, snapshots written and load times.

    Each press grows a fresh account of ``events`` events with that interval
    (about a second) and runs :func:`interval_cost`; the output area shows the
    replay saw-tooth over the account's life next to a full replay.
    """
    sizes = sorted({1_050, 5_050, 10_050, 20_050, events})
    controls = {
        "interval": W.Dropdown(options=list(SNAPSHOT_INTERVALS), value="1,000", description="snapshot every"),
        "events": W.Dropdown(options=sizes, value=events, description="events"),
        "run": W.Button(description="Build and load", button_style="primary"),
    }
    result = W.HTML("<i>Pick an interval and press Build and load.</i>")
    output = W.Output()

    @output.capture(clear_output=True)
    def on_click(_button: W.Button) -> None:
        interval, total = SNAPSHOT_INTERVALS[controls["interval"].value], controls["events"].value
        result.value = "<i>growing the account...</i>"
        cost = interval_cost(interval, events=total, batch=batch, repeat=repeat)
        result.value = _interval_html(cost)
        display(replayed_chart(cost.frame()))

    controls["run"].on_click(on_click)
    return panel(controls, result, output)


# -- 09 · Eventual consistency: the lag explorer --------------------------------------------------
# This section's own imports (the file is shared; each section keeps its imports with it).

import io  # noqa: E402

from matplotlib.figure import Figure  # noqa: E402

from .plots import lag_chart  # noqa: E402
from .simulation import LagSimulation, simulate_lag  # noqa: E402

LAG_BATCH_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
"""The batch sizes the lag explorer offers."""
LAG_BURST = (20.0, 30.0, 4)
"""The explorer's burst: from 20 s to 30 s, commands write at 4 times the rate."""


@dataclass(frozen=True)
class LagExperiment:
    """One run of the lag explorer: the settings, the simulation, and what they mean.

    Rates are in events per second; each batch costs ``batch_overhead_s``
    (commit, checkpoint) on top of ``n / projection_rate`` seconds of work.
    """

    write_rate: float
    projection_rate: float
    batch_size: int
    batch_overhead_s: float
    burst: bool
    duration_s: float
    simulation: LagSimulation

    @property
    def capacity(self) -> float:
        """The most events per second the projection can apply, in full batches.

        ``batch_size / (batch_overhead_s + batch_size / projection_rate)``: with
        batches of 100 at 250 events/s and 20 ms per commit, 100 / 0.42 = 238 events/s.
        """
        return self.batch_size / (self.batch_overhead_s + self.batch_size / self.projection_rate)

    @property
    def keeps_up(self) -> bool:
        """Can the projection apply events faster than the commands write them (outside a burst)?"""
        return self.capacity > self.write_rate

    def describe(self) -> str:
        """The settings, the verdict (keeps up or falls behind, and why), and the numbers behind it."""
        w, capacity, summary = self.write_rate, self.capacity, self.simulation.summary()
        start, end, factor = LAG_BURST
        burst = f", x{factor} from {start:.0f} s to {end:.0f} s" if self.burst else ""
        batch_s = self.batch_overhead_s + self.batch_size / self.projection_rate
        lines = [
            f"writes: {w:g} events/s{burst}; projection: {self.projection_rate:g} events/s, batches of at most "
            f"{self.batch_size}, {self.batch_overhead_s * 1000:g} ms per commit",
            f"ceiling: {capacity:.0f} events/s ({self.batch_size} events per {batch_s:.3g} s batch)",
        ]
        if self.keeps_up and self.burst and w * factor > capacity:
            lines.append(f"Outside the burst the projection keeps up. During it, {w * factor:g} events/s outrun "
                         f"the ceiling: a backlog builds, then drains at {capacity - w:.0f} events/s.")
        elif self.keeps_up:
            lines.append("The projection keeps up: the lag stays bounded.")
        else:
            last = self.simulation.rows[-1]
            lines.append(f"The projection falls behind by about {w - capacity:.0f} events every second: after "
                         f"{last['time_s']:g} s it is {last['lag_events']} events behind, and the gap keeps growing.")
            if self.projection_rate <= w:
                lines.append(f"No batch size can fix that: even without commit costs it applies only "
                             f"{self.projection_rate:g} events/s. Make it faster, or split the work.")
            else:
                lines.append(f"Bigger batches spread the commit cost over more events (the ceiling tends to "
                             f"{self.projection_rate:g} events/s).")
        lines.append(f"max lag: {summary['max_lag_events']} events ({summary['max_lag_s']:.2f} s); a write becomes "
                     f"visible after {summary['mean_visible_after_s']:.2f} s on average, "
                     f"{summary['p95_visible_after_s']:.2f} s at the 95th percentile")
        return "\n".join(lines)

    def chart(self) -> Figure:
        """The lag over time (:func:`esdemo.plots.lag_chart`), titled with the settings."""
        return lag_chart({"lag": self.simulation},
                         title=f"Lag: {self.write_rate:g} events/s written, {self.projection_rate:g} events/s "
                               f"projected, batches of {self.batch_size}")


def lag_experiment(write_rate: float, projection_rate: float, batch_size: int, *, burst: bool = False,
                   batch_overhead_s: float = 0.02, duration_s: float = 60) -> LagExperiment:
    """Simulate ``duration_s`` seconds of writes and one projection (:func:`esdemo.simulation.simulate_lag`).

    ``burst=True`` multiplies the write rate by 4 from 20 s to 30 s.

    >>> lag_experiment(200, 250, 100).keeps_up, lag_experiment(200, 250, 10).keeps_up
    (True, False)
    """
    start, end, factor = LAG_BURST
    rate = [(0, write_rate), (start, write_rate * factor), (end, write_rate)] if burst else write_rate
    simulation = simulate_lag(duration=duration_s, command_rate=rate, projection_rate=projection_rate,
                              batch_size=batch_size, batch_overhead_s=batch_overhead_s)
    return LagExperiment(write_rate, projection_rate, batch_size, batch_overhead_s, burst, duration_s, simulation)


def build_lag_widget(*, write_rate: int = 200, projection_rate: int = 250, batch_size: int = 100,
                     burst: bool = False, batch_overhead_s: float = 0.02) -> W.VBox:
    """Sliders for the write rate, the projection rate and the batch size, and a burst switch: the lag chart redraws.

    ``panel.result`` shows :meth:`LagExperiment.describe`; ``panel.chart`` is
    an image of the chart, redrawn for every setting; ``panel.experiment`` and
    ``panel.figure`` are the last run and the figure drawn for it. (The chart is
    an image widget rather than output captured at build time, so the widget
    shows its first chart at once, and nothing leaks into the notebook cell.)
    """
    if batch_size not in LAG_BATCH_SIZES:
        raise ValueError(f"batch_size must be one of {LAG_BATCH_SIZES}, got {batch_size!r}")
    wide = {"style": {"description_width": "initial"}}
    controls = {
        "write_rate": W.IntSlider(value=write_rate, min=10, max=1000, step=10, description="writes (events/s)",
                                  continuous_update=False, **wide),
        "projection_rate": W.IntSlider(value=projection_rate, min=10, max=1000, step=10,
                                       description="projection (events/s)", continuous_update=False, **wide),
        "batch_size": W.SelectionSlider(options=LAG_BATCH_SIZES, value=batch_size, description="batch size",
                                        continuous_update=False, **wide),
        "burst": W.Checkbox(value=burst, description="burst x4 at 20-30 s"),
    }
    result = W.HTML()
    chart = W.Image(format="png", layout=W.Layout(max_width="750px"))

    def redraw(_change: object = None) -> None:
        experiment = lag_experiment(controls["write_rate"].value, controls["projection_rate"].value,
                                    controls["batch_size"].value, burst=controls["burst"].value,
                                    batch_overhead_s=batch_overhead_s)
        box.experiment, box.figure = experiment, experiment.chart()
        result.value = f"<pre style='margin:0'>{html.escape(experiment.describe())}</pre>"
        chart.value = png_bytes(box.figure)

    box = panel(controls, result)
    box.children = (W.HBox([controls["write_rate"], controls["projection_rate"]]),
                    W.HBox([controls["batch_size"], controls["burst"]]), result, chart)
    box.chart = chart
    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return box


def png_bytes(figure: Figure) -> bytes:
    """A figure as PNG bytes, for an ``ipywidgets.Image`` that a widget redraws."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


# -- 05 · Projections: one event at a time, and where the checkpoint is saved ---------------------
# This section's own imports (the file is shared; each section keeps its imports with it).

from collections.abc import Callable, Sequence  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402

import pandas as pd  # noqa: E402

from .events import RecordedEvent  # noqa: E402
from .examples.orders import payment_of  # noqa: E402
from .projection import Projection  # noqa: E402
from .projection_runner import ProjectionRunner  # noqa: E402
from .tables import format_value, live_rows, view_table  # noqa: E402


@dataclass(frozen=True)
class ProjectionStep:
    """A projection's view right after one more event (see :class:`ProjectionStepper`).

    ``event`` is the event this step applied (``None`` before the first step,
    or when nothing was left to apply); ``handled`` says whether the
    projection handles its type (if not, only the checkpoint moved).
    ``checkpoint`` is the position of the last event applied, committed with
    the view; ``head`` is the log's last position. ``rows`` is the whole view
    afterwards, in key order, and ``changed`` the keys of the rows this event
    inserted, updated or deleted.
    """

    event: RecordedEvent | None
    handled: bool
    checkpoint: int
    head: int
    key: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    changed: tuple[Any, ...]

    @property
    def lag(self) -> int:
        """Events in the log the view has not applied yet: ``head - checkpoint``."""
        return self.head - self.checkpoint

    def table(self) -> pd.DataFrame:
        """The view as a DataFrame indexed by its key, values formatted to read."""
        return view_table(self.rows, self.key)

    def describe(self) -> str:
        """One line: what this step applied, what it did to the view, and where the checkpoint is."""
        where = f"Checkpoint {self.checkpoint}, head {self.head}: " + (
            "caught up." if not self.lag else f"{self.lag} event{'s' * (self.lag != 1)} behind.")
        if self.event is None:
            return ("Nothing applied yet. " if self.checkpoint == 0 else "Nothing left to apply. ") + where
        e = self.event
        done = f"Applied position {e.position}, {e.type} ({e.stream_id} v{e.version}): "
        if not self.handled:
            effect = "not a type this view handles, so only the checkpoint moved. "
        elif not self.changed:
            effect = "the view did not change. "
        else:
            keys = ", ".join(format_value(key) for key in self.changed)
            effect = f"row{'s' * (len(self.changed) != 1)} {keys} changed. "
        return done + effect + where


def _key_of_row(row: dict[str, Any], key: tuple[str, ...]) -> Any:
    values = tuple(row[name] for name in key)
    return values[0] if len(values) == 1 else values


class ProjectionStepper:
    """Run a projection over a copy of a log, one event per step, to watch its view change.

    ``events`` (e.g. ``store.read_all()``, from position 1) are restored into
    a store of the stepper's own, in memory, so stepping never touches the
    notebook's store or views. ``make_projection`` is a Projection class (or
    any function returning a new projection); it is called again on
    :meth:`reset`. The runner has ``batch_size=1``: every step is one commit
    of one event's changes together with the new checkpoint.

    >>> stepper = ProjectionStepper(store.read_all(), OrderSummary)
    >>> print(stepper.step().describe())
    Applied position 1, OrderCreated (Order-12345 v1): row 12345 changed. checkpoint 1, head 16: 15 events behind.
    """

    def __init__(self, events: Sequence[RecordedEvent], make_projection: Callable[[], Projection]):
        events = list(events)
        if not events:
            raise ValueError("pass the events to step through, e.g. store.read_all()")
        if not all(isinstance(event, RecordedEvent) for event in events):
            raise TypeError("events must be RecordedEvents, e.g. store.read_all()")
        if events[0].position != 1:
            raise ValueError(f"the events must start at position 1 (a projection replays the log from its start), "
                             f"these start at {events[0].position}")
        if not callable(make_projection):
            raise TypeError("make_projection must be a Projection class such as OrderSummary, or a function returning one")
        self.events = events
        self._make_projection = make_projection
        self.store: EventStore | None = None
        self.reset()

    def reset(self) -> ProjectionStep:
        """Start again from an empty view (checkpoint 0), with a new projection object."""
        projection = self._make_projection()
        if not isinstance(projection, Projection):
            raise TypeError(f"make_projection returned {type(projection).__name__}, not a Projection")
        if self.store is not None:
            self.store.close()
        self.store = EventStore()
        self.store.restore(self.events)
        self.projection = projection
        self.runner = ProjectionRunner(self.store, projection, batch_size=1)
        self.last = self._step(None, ())
        return self.last

    @property
    def checkpoint(self) -> int:
        """The position of the last event applied (0: none yet)."""
        return self.runner.position

    def step(self) -> ProjectionStep:
        """Apply the next event (one commit: the view's changes and the checkpoint); returns what it did."""
        before = self._rows_by_key()
        if not self.runner.run_once():
            self.last = self._step(None, ())
            return self.last
        after = self._rows_by_key()
        changed = [key for key in after if before.get(key) != after[key]]
        changed += [key for key in before if key not in after]
        self.last = self._step(self.events[self.checkpoint - 1], tuple(changed))
        return self.last

    def run_to(self, position: int) -> ProjectionStep:
        """Step until the checkpoint reaches ``position`` (from the start again if it is already past it)."""
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= len(self.events):
            raise ValueError(f"position must be between 0 and {len(self.events)}, got {position!r}")
        if position < self.checkpoint:
            self.reset()
        while self.checkpoint < position:
            self.step()
        return self.last

    def close(self) -> None:
        """Close the stepper's own store."""
        if self.store is not None:
            self.store.close()

    def _rows_by_key(self) -> dict[Any, dict[str, Any]]:
        key = self.projection.storage.key
        return {_key_of_row(row, key): row for row in live_rows(self.projection)}

    def _step(self, event: RecordedEvent | None, changed: tuple[Any, ...]) -> ProjectionStep:
        handled = event is not None and self.projection.wants(event.type)
        return ProjectionStep(event, handled, self.checkpoint, len(self.events), tuple(self.projection.storage.key),
                              tuple(live_rows(self.projection)), changed)


_CHANGED_STYLE = "background:#fff3c4"


def projection_step_html(step: ProjectionStep) -> str:
    """The stepper widget's text: the step's description, then the view with the changed rows highlighted."""
    head = f"<p><b>{html.escape(step.describe())}</b></p>"
    if not step.rows:
        return head + "<p><i>The view is empty.</i></p>"
    columns = list(step.rows[0])
    changed = set(step.changed)
    header = "".join(f"<th style='text-align:left'>{html.escape(name)}</th>" for name in columns)
    lines = []
    for row in step.rows:
        style = f" style='{_CHANGED_STYLE}'" if _key_of_row(row, step.key) in changed else ""
        cells = "".join(f"<td>{html.escape('' if value is None else format_value(value))}</td>" for value in row.values())
        lines.append(f"<tr{style}>{cells}</tr>")
    deleted = [key for key in step.changed if key not in {_key_of_row(row, step.key) for row in step.rows}]
    gone = f"<p>deleted: {html.escape(', '.join(format_value(k) for k in deleted))}</p>" if deleted else ""
    return head + f"<table><tr>{header}</tr>{''.join(lines)}</table>" + gone


def build_projection_stepper(events: Sequence[RecordedEvent], make_projection: Callable[[], Projection]) -> W.VBox:
    """Buttons to apply a projection one event at a time: see the event, the checkpoint and the view.

    Controls: ``next`` (apply one event), ``end`` (apply the rest), ``reset``
    (empty view, checkpoint 0). ``panel.stepper`` is the :class:`ProjectionStepper`.
    """
    stepper = ProjectionStepper(events, make_projection)
    controls = {
        "next": W.Button(description="next event", button_style="primary"),
        "end": W.Button(description="to the end"),
        "reset": W.Button(description="reset"),
    }
    result = W.HTML(projection_step_html(stepper.last))
    output = W.Output()

    def on(action: Callable[[], ProjectionStep]) -> Callable[[W.Button], None]:
        @output.capture(clear_output=True)
        def handler(_button: W.Button) -> None:
            result.value = projection_step_html(action())
        return handler

    controls["next"].on_click(on(stepper.step))
    controls["end"].on_click(on(lambda: stepper.run_to(len(stepper.events))))
    controls["reset"].on_click(on(stepper.reset))
    box = panel(controls, result, output)
    box.stepper = stepper
    return box


CHECKPOINT_STRATEGIES = {
    "view, then checkpoint": "two separate writes: first the view's change, then the checkpoint",
    "checkpoint, then view": "two separate writes: first the checkpoint, then the view's change",
    "one transaction": "the view's change and the checkpoint committed together, as esdemo's runner does",
}
"""How a projection may save its progress; :func:`crash_and_restart` shows what each does after a crash."""


@dataclass(frozen=True)
class CrashOutcome:
    """A revenue view's fate when the process dies while handling one payment, then restarts.

    ``payments`` are the log's ``OrderPaid`` events as ``(position, stream,
    amount, currency)``; ``counted[i]`` is how many times payment ``i`` ended
    up in the view after the restart (1 is right). ``saved_checkpoint`` is
    the checkpoint the restart found; ``revenue`` is the view after the
    restart, ``expected`` the true revenue per currency.
    """

    strategy: str
    crash_at: int
    payments: tuple[tuple[int, str, Decimal, str], ...]
    counted: tuple[int, ...]
    saved_checkpoint: int
    revenue: dict[str, Decimal]
    expected: dict[str, Decimal]

    @property
    def twice(self) -> list[int]:
        """Positions of payments counted more than once."""
        return [p[0] for p, n in zip(self.payments, self.counted) if n > 1]

    @property
    def skipped(self) -> list[int]:
        """Positions of payments never counted."""
        return [p[0] for p, n in zip(self.payments, self.counted) if n == 0]

    @property
    def correct(self) -> bool:
        """Did every payment end up in the view exactly once?"""
        return all(n == 1 for n in self.counted) and self.revenue == self.expected

    def describe(self) -> str:
        """What happened, in three sentences."""
        text = (f"{self.strategy}: the process died while handling the payment at position {self.crash_at}; "
                f"the restart found the checkpoint at {self.saved_checkpoint} and carried on from "
                f"{self.saved_checkpoint + 1}. ")
        revenue = _money_text(self.revenue)
        if self.correct:
            return text + f"Every payment counted once: revenue {revenue}, as it should be."
        problems = []
        if self.twice:
            problems.append(f"position {', '.join(map(str, self.twice))} counted twice")
        if self.skipped:
            problems.append(f"position {', '.join(map(str, self.skipped))} never counted")
        return text + f"{'; '.join(problems).capitalize()}: revenue {revenue} instead of {_money_text(self.expected)}."

    def table(self) -> pd.DataFrame:
        """One row per payment (indexed by position): stream, amount, currency, and how often it was counted."""
        rows = [{"position": position, "stream": stream, "amount": format_value(amount), "currency": currency,
                 "counted": n} for (position, stream, amount, currency), n in zip(self.payments, self.counted)]
        return pd.DataFrame(rows, columns=["position", "stream", "amount", "currency", "counted"]).set_index("position")


def _money_text(totals: dict[str, Decimal]) -> str:
    return ", ".join(f"{amount} {currency}" for currency, amount in sorted(totals.items())) or "nothing"


def crash_and_restart(events: Sequence[RecordedEvent], strategy: str, crash_at: int) -> CrashOutcome:
    """Project revenue per currency from ``events``, die while handling the payment at ``crash_at``, restart.

    The view (revenue per currency) and its checkpoint are saved the way
    ``strategy`` says (a key of :data:`CHECKPOINT_STRATEGIES`). The crash
    happens between the two writes; with ``"one transaction"`` there is
    only one write, so the crash throws the uncommitted change away. The
    restart reads the saved checkpoint and processes everything after it.

    >>> crash_and_restart(store.read_all(), "view, then checkpoint", 9).twice
    [9]
    """
    if strategy not in CHECKPOINT_STRATEGIES:
        raise ValueError(f"strategy must be one of {list(CHECKPOINT_STRATEGIES)}, got {strategy!r}")
    events = list(events)
    paid = [event for event in events if event.type == "OrderPaid"]
    positions = [event.position for event in paid]
    if crash_at not in positions:
        raise ValueError(f"crash_at must be the position of an OrderPaid event, one of {positions}; got {crash_at!r}")
    payments = tuple((event.position, event.stream_id, *payment_of(event)) for event in paid)
    index = {position: i for i, position in enumerate(positions)}

    def apply(revenue: dict[str, Decimal], counted: list[int], event: RecordedEvent) -> None:
        if event.type == "OrderPaid":
            amount, currency = payment_of(event)
            revenue[currency] = revenue.get(currency, Decimal("0")) + amount
            counted[index[event.position]] += 1

    revenue: dict[str, Decimal] = {}
    counted = [0] * len(paid)
    saved = 0
    for event in events:                               # the first run, which dies at crash_at
        crash = event.position == crash_at
        if strategy == "view, then checkpoint":
            apply(revenue, counted, event)
            if crash:
                break                                  # the view has the payment, the checkpoint does not
            saved = event.position
        elif strategy == "checkpoint, then view":
            saved = event.position
            if crash:
                break                                  # the checkpoint is past the payment, the view does not have it
            apply(revenue, counted, event)
        else:
            new_revenue, new_counted = dict(revenue), list(counted)
            apply(new_revenue, new_counted, event)
            if crash:
                break                                  # never committed: both changes are gone
            revenue, counted, saved = new_revenue, new_counted, event.position
    saved_checkpoint = saved
    for event in events:                               # the restart: everything after the saved checkpoint
        if event.position > saved:
            apply(revenue, counted, event)
            saved = event.position
    expected: dict[str, Decimal] = {}
    for _, _, amount, currency in payments:
        expected[currency] = expected.get(currency, Decimal("0")) + amount
    return CrashOutcome(strategy, crash_at, payments, tuple(counted), saved_checkpoint, revenue, expected)


def build_checkpoint_crash_widget(events: Sequence[RecordedEvent]) -> W.VBox:
    """Choose how the checkpoint is saved and which payment the process dies on; see the revenue after a restart.

    Controls: ``strategy`` (a key of :data:`CHECKPOINT_STRATEGIES`) and
    ``crash_at`` (the position of an ``OrderPaid`` event).
    """
    events = list(events)
    paid = [event for event in events if event.type == "OrderPaid"]
    if not paid:
        raise ValueError("the events hold no OrderPaid: there is no payment to crash on")
    options = [(f"position {e.position} ({e.stream_id}, {format_value(payment_of(e)[0])} {payment_of(e)[1]})",
                e.position) for e in paid]
    controls = {
        "strategy": W.ToggleButtons(options=list(CHECKPOINT_STRATEGIES), value="view, then checkpoint",
                                    description="save"),
        "crash_at": W.Dropdown(options=options, value=paid[0].position, description="crash at",
                               layout=W.Layout(width="auto")),
    }
    result = W.HTML()

    def show(_change: object = None) -> None:
        outcome = crash_and_restart(events, controls["strategy"].value, controls["crash_at"].value)
        colour = "#1b5e20" if outcome.correct else "#b00020"
        result.value = (f"<p style='color:{colour}'><b>{html.escape(outcome.describe())}</b></p>"
                        f"<p><i>{html.escape(CHECKPOINT_STRATEGIES[outcome.strategy])}</i></p>"
                        + outcome.table().to_html())

    for control in controls.values():
        control.observe(show, names="value")
    show()
    box = panel(controls, result)
    box.children = (controls["strategy"], controls["crash_at"], result)
    return box


# -- 06 · Rebuilding projections: blue/green, one step at a time ----------------------------------
# This section's own imports (the file is shared; each section keeps its imports with it).

from datetime import datetime, timedelta, timezone  # noqa: E402
from decimal import Decimal  # noqa: E402

import pandas as pd  # noqa: E402

from .clock import FakeClock  # noqa: E402
from .examples.order_views import OrderSummary  # noqa: E402
from .examples.orders import ItemAdded, Order  # noqa: E402
from .ids import seeded_ids  # noqa: E402
from .projection_runner import ProjectionRunner  # noqa: E402
from .repository import Repository  # noqa: E402


class BuggyOrderSummary(OrderSummary):
    """Notebook 06's bug: the Order Summary as first shipped, counting ItemAdded *events* as items.

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


# -- 10 · Capstone: one day of the shop, from the read side ---------------------------------------
# This section's own imports (the file is shared; each section keeps its imports with it).

from collections.abc import Sequence  # noqa: E402
from datetime import date, datetime, timedelta, timezone  # noqa: E402

from matplotlib.figure import Figure  # noqa: E402

from .examples.order_views import DailyStats, OrderViews  # noqa: E402
from .plots import hourly_orders_chart  # noqa: E402


@dataclass(frozen=True)
class DayReport:
    """One UTC day of the shop, answered from the read side only (no event is read).

    ``paid`` comes from the Analytics view (GetStats for that day); ``created``
    counts the orders created that day by their status now, and
    ``paid_per_hour`` the payments of each hour per currency, both from the
    Order Summary view. ``position`` is the lowest checkpoint of the views:
    the report reflects at least every event up to it.
    """

    day: date
    position: int
    paid: list[DailyStats]
    created: dict[str, int]
    paid_per_hour: dict[str, list[int]]

    @property
    def orders_paid(self) -> int:
        """Payments recorded that day, all currencies."""
        return sum(stats.orders_paid for stats in self.paid)

    def describe(self) -> str:
        """The day in a few lines: payments per currency, what became of the day's orders, the busiest hour."""
        lines = [f"{self.day:%a %d %b %Y} (UTC), from the read side as of position {self.position:,}",
                 f"paid: {self.orders_paid} orders (Analytics view)"]
        lines += [f"  {s.currency}  {s.orders_paid:>4} orders  {s.revenue:>10,.2f}" for s in self.paid]
        if self.created:
            carts = self.created.get("created", 0)
            lines.append(f"orders created that day: {sum(self.created.values())}; now {self.created.get('paid', 0)} paid, "
                         f"{self.created.get('submitted', 0)} submitted and unpaid, {carts} carts never checked out")
        totals = [sum(hour) for hour in zip(*self.paid_per_hour.values())] if self.paid_per_hour else []
        if totals and max(totals):
            busiest = max(range(24), key=lambda hour: (totals[hour], -hour))
            lines.append(f"busiest hour: {busiest:02d}:00-{busiest + 1:02d}:00 UTC, {totals[busiest]} payments")
        return "\n".join(lines)

    def chart(self) -> Figure:
        """Payments per hour of the day, per currency (:func:`esdemo.plots.hourly_orders_chart`)."""
        per_hour = self.paid_per_hour or {"none": [0] * 24}
        return hourly_orders_chart(per_hour, title=f"Orders paid per hour on {self.day:%a %d %b %Y} (Order Summary view)")


def day_report(views: OrderViews, day: date) -> DayReport:
    """The read side's answer for one UTC ``day``: see :class:`DayReport`.

    >>> day_report(views, date(2024, 2, 18)).orders_paid
    """
    if not isinstance(views, OrderViews):
        raise TypeError(f"views must be the orders read side (OrderViews), got {type(views).__name__}")
    if not isinstance(day, date) or isinstance(day, datetime):
        raise TypeError(f"day must be a datetime.date such as date(2024, 2, 18), got {day!r}")
    position = min(runner.position for runner in views.runners)
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    window = [start, start + timedelta(days=1)]
    created: dict[str, int] = {}
    for row in views.summary.storage.query("created_at >= ? AND created_at < ?", window):
        created[row["status"]] = created.get(row["status"], 0) + 1
    per_hour: dict[str, list[int]] = {}
    for row in views.summary.storage.query("paid_at >= ? AND paid_at < ?", window):
        per_hour.setdefault(row["currency"], [0] * 24)[row["paid_at"].astimezone(timezone.utc).hour] += 1
    paid = views.get_stats(since=day, until=day).days
    return DayReport(day, position, paid, dict(sorted(created.items())), dict(sorted(per_hour.items())))


def build_day_widget(views: OrderViews, days: Sequence[date], *, start: date | None = None) -> W.VBox:
    """A slider over ``days``: the day's payments, orders and hourly chart, from the read side.

    ``panel.controls["day"]`` holds the date; ``panel.result`` shows
    :meth:`DayReport.describe`, ``panel.chart`` the chart (an image widget),
    ``panel.report`` and ``panel.figure`` the last report and its figure.
    """
    days = list(days)
    if not days:
        raise ValueError("pass the days to choose from, e.g. [date(2024, 2, 1) + timedelta(days=n) for n in range(29)]")
    start = days[0] if start is None else start
    if start not in days:
        raise ValueError(f"start must be one of the days offered, got {start}")
    controls = {"day": W.SelectionSlider(options=[(f"{d:%a %d %b}", d) for d in days], value=start,
                                         description="day", continuous_update=False,
                                         layout=W.Layout(width="36em"))}
    result = W.HTML()
    chart = W.Image(format="png", layout=W.Layout(max_width="750px"))

    def show(_change: object = None) -> None:
        box.report = day_report(views, controls["day"].value)
        box.figure = box.report.chart()
        result.value = f"<pre style='margin:0'>{html.escape(box.report.describe())}</pre>"
        chart.value = png_bytes(box.figure)

    box = panel(controls, result)
    box.children = (*box.children, chart)
    box.chart = chart
    controls["day"].observe(show, names="value")
    show()
    return box
