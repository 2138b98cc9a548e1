"""The read side of the product catalog: the seed's three views, each in its own kind of storage.

The seed stores each view where its readers are best served:

=====================  ===================================================  ==============  ==================
view                   fields                                               the seed        here
=====================  ===================================================  ==============  ==================
ProductSearchView      id, name, price, thumbnail, rating                   Elasticsearch   a pandas DataFrame
ProductDetailView      id, name, description, price, images, reviews        MongoDB         a dict of documents
AdminProductView       id, name, price, inventory, sales_data               PostgreSQL      a DuckDB table
=====================  ===================================================  ==============  ==================

All three follow the same log. The catalog's write side
(:class:`~esdemo.examples.catalog.Catalog`) is not event-sourced: its
commands update the ``products`` table and write an outbox in one
transaction, and ``catalog.relay_outbox(store)`` publishes the events. So
a view shows a change once it is relayed *and* projected::

    catalog.update_product_price(UpdateProductPrice("p-1", Decimal("35.00"), user="alice"))
    catalog.relay_outbox(store)
    views.catch_up()
    views.search("lamp")            # DataFrame: p-1 at 35.00

The two in-memory views start empty in every process and are rebuilt from
the log by their runners; their checkpoints live with them (see
:mod:`esdemo.read.memory_views`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..read.memory_views import DataFrameTable, Documents
from ..read.projection import Projection
from ..read.runner_group import RunnerGroup
from ..read.sql_views import SqlTable
from ..write.domain import default_registry
from .catalog import ProductCreated, ProductPriceUpdated, ProductSold, ReviewAdded

if TYPE_CHECKING:
    from ..store.event_store import EventStore


@dataclass(frozen=True)
class AdminProductRow:
    """One product on the admin panel: stock and sales."""

    product_id: str
    name: str
    price: Decimal
    inventory: int
    units_sold: int
    revenue: Decimal
    last_sold_at: datetime | None
    price_updated_by: str | None


class ProductSearchView(Projection):
    """The search page: name, price, thumbnail and average rating, in a DataFrame."""

    name = "product_search"
    event_types = ("ProductCreated", "ProductPriceUpdated", "ReviewAdded")
    registry = default_registry

    def default_storage(self) -> DataFrameTable:
        return DataFrameTable(key="product_id", columns=[
            "product_id", "name", "price", "thumbnail", "rating", "review_count", "rating_sum"])

    def handle(self, event, recorded, view) -> None:
        match event:
            case ProductCreated(product_id=product_id, name=name, price=price, thumbnail=thumbnail):
                view.insert({"product_id": product_id, "name": name, "price": price, "thumbnail": thumbnail,
                             "rating": None, "review_count": 0, "rating_sum": 0})
            case ProductPriceUpdated(product_id=product_id, new_price=new_price):
                view.update(product_id, price=new_price)
            case ReviewAdded(product_id=product_id, rating=rating):
                row = view[product_id]
                count, total = row["review_count"] + 1, row["rating_sum"] + rating
                view.update(product_id, review_count=count, rating_sum=total, rating=round(total / count, 2))


class ProductDetailView(Projection):
    """The product page: one document per product, with its images and every review."""

    name = "product_detail"
    event_types = ("ProductCreated", "ProductPriceUpdated", "ReviewAdded")
    registry = default_registry

    def default_storage(self) -> Documents:
        return Documents(key="product_id")

    def handle(self, event, recorded, view) -> None:
        match event:
            case ProductCreated(product_id=product_id):
                view.insert({"product_id": product_id, "name": event.name, "description": event.description,
                             "price": event.price, "images": list(event.images), "reviews": []})
            case ProductPriceUpdated(product_id=product_id, new_price=new_price):
                view.update(product_id, price=new_price)
            case ReviewAdded(product_id=product_id, author=author, rating=rating, text=text):
                reviews = view[product_id]["reviews"]
                view.update(product_id, reviews=[*reviews, {"author": author, "rating": rating, "text": text,
                                                            "at": recorded.recorded_at}])


class AdminProductView(Projection):
    """The admin panel: price, inventory and sales data, in a table of the store's database."""

    name = "admin_products"
    event_types = ("ProductCreated", "ProductPriceUpdated", "ProductSold")
    registry = default_registry

    def default_storage(self) -> SqlTable:
        return SqlTable(key="product_id", columns={
            "product_id": "VARCHAR", "name": "VARCHAR", "price": "DECIMAL(18, 2)", "inventory": "INTEGER",
            "units_sold": "INTEGER", "revenue": "DECIMAL(18, 2)", "last_sold_at": "TIMESTAMP",
            "price_updated_by": "VARCHAR"})

    def handle(self, event, recorded, view) -> None:
        match event:
            case ProductCreated(product_id=product_id, name=name, price=price, inventory=inventory):
                view.insert({"product_id": product_id, "name": name, "price": price, "inventory": inventory,
                             "units_sold": 0, "revenue": Decimal("0")})
            case ProductPriceUpdated(product_id=product_id, new_price=new_price, updated_by=updated_by):
                view.update(product_id, price=new_price, price_updated_by=updated_by)
            case ProductSold(product_id=product_id, quantity=quantity, unit_price=unit_price):
                row = view[product_id]
                view.update(product_id, inventory=row["inventory"] - quantity, units_sold=row["units_sold"] + quantity,
                            revenue=row["revenue"] + unit_price * quantity, last_sold_at=recorded.recorded_at)

    def key_of(self, event, recorded) -> str:
        return event.product_id


class CatalogViews(RunnerGroup):
    """The catalog read side in one object: three views, their runners, and their queries."""

    def __init__(self, store: EventStore, *, batch_size: int = 1000, clock: Callable[[], datetime] | None = None):
        self.search_view, self.detail_view, self.admin_view = ProductSearchView(), ProductDetailView(), AdminProductView()
        super().__init__(store, [self.search_view, self.detail_view, self.admin_view], batch_size=batch_size, clock=clock)

    # -- queries -------------------------------------------------------------------------------------------
    def search(self, text: str = "", *, max_price: Decimal | None = None, limit: int = 20) -> pd.DataFrame:
        """The search page: products whose name contains ``text`` (any case), best rated first."""
        frame = self.search_view.storage.frame.reset_index()
        hits = frame[frame["name"].str.contains(text, case=False, regex=False)] if text else frame
        if max_price is not None:
            hits = hits[hits["price"].map(lambda price: price <= max_price)]
        hits = hits.assign(_rated=hits["rating"].notna(), _rating=hits["rating"].fillna(0).astype(float))
        hits = hits.sort_values(["_rated", "_rating", "name"], ascending=[False, False, True])
        columns = ["product_id", "name", "price", "thumbnail", "rating"]
        return hits[columns].head(limit).reset_index(drop=True)

    def product_page(self, product_id: str) -> dict[str, Any] | None:
        """The product page's document (a copy), or ``None`` if the view does not have it (yet)."""
        return self.detail_view.storage.get(product_id)

    def admin_products(self, *, low_stock_below: int | None = None) -> list[AdminProductRow]:
        """The admin list, by product id; ``low_stock_below=5`` keeps only products with fewer than 5 in stock."""
        where, params = ("inventory < ?", [low_stock_below]) if low_stock_below is not None else ("", [])
        return [AdminProductRow(**row) for row in self.admin_view.storage.query(where, params, order_by="product_id")]
