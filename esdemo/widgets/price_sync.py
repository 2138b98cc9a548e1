"""Notebook 01 · CQRS: where is the new price?."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import ipywidgets as W
import pandas as pd
from IPython.display import display
from matplotlib.figure import Figure

from ..examples.catalog import Catalog, Product, UpdateProductPrice
from ..examples.catalog_views import CatalogViews
from ..plots import price_sync_chart
from ..store.clock import FakeClock
from ..store.event_store import EventStore
from ..store.ids import seeded_ids
from ..store.serialization import loads
from ..write.aggregate import DomainError
from .panel import panel

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
