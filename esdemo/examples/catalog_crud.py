"""The product catalog BEFORE CQRS: one service, one normalized database, one model for everything.

This is the seed's "Traditional CRUD" box: ``Client -> Service (Read+Write) ->
Database (Single)``. Writes are simple and normalized: a price change updates
one row, a sale inserts one row. Reads are where it strains, because every
page is assembled from those tables *on every request*::

    crud = CrudCatalog(clock=FakeClock(...))
    crud.add_product(Product("p-1", "Desk Lamp", "A desk lamp", Decimal("40.00"), inventory=10))
    crud.update_price("p-1", Decimal("35.00"))     # UPDATE products SET price = ... (one row)
    crud.search("lamp")        # JOIN + GROUP BY over reviews, for the average rating
    crud.product_page("p-1")   # three queries, glued into one document in Python
    crud.admin_panel()         # SUM over every sale ever made, on every page view

The SQL of each page is a class attribute (``CrudCatalog.ADMIN_SQL``...), so
you can read exactly what each request costs. Compare with the CQRS version:
:class:`~esdemo.examples.catalog.Catalog` (write side) and
:class:`~esdemo.examples.catalog_views.CatalogViews` (three read views).

``update_price(..., publish_to=store)`` shows the naive way to tell other
systems about a change, *update, commit, then publish*: two writes to two
databases, and a crash between them loses the event (the dual-write problem).
The CQRS write side avoids it with an outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd

from ..store.clock import utc_now
from ..store.event_store import EventStore
from ..store.events import ANY, NewEvent
from ..write.aggregate import DomainError
from .catalog import Product, ProductNotFoundError, _count, _price

SCHEMA = """
CREATE TABLE products (id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, description VARCHAR NOT NULL,
                       price DECIMAL(18, 2) NOT NULL, inventory INTEGER NOT NULL, thumbnail VARCHAR NOT NULL);
CREATE TABLE product_images (product_id VARCHAR NOT NULL, position INTEGER NOT NULL, url VARCHAR NOT NULL);
CREATE SEQUENCE review_seq;
CREATE TABLE reviews (id BIGINT PRIMARY KEY DEFAULT nextval('review_seq'), product_id VARCHAR NOT NULL,
                      author VARCHAR NOT NULL, rating INTEGER NOT NULL, text VARCHAR NOT NULL);
CREATE TABLE sales (product_id VARCHAR NOT NULL, quantity INTEGER NOT NULL, unit_price DECIMAL(18, 2) NOT NULL,
                    sold_at TIMESTAMPTZ NOT NULL);
"""


class CrudCatalog:
    """The whole catalog as one CRUD service over one DuckDB database (in memory by default).

    ``clock`` stamps each sale (pass a ``FakeClock`` for reproducible output).
    """

    SEARCH_SQL = """
        SELECT p.id AS product_id, p.name, p.price, p.thumbnail, round(avg(r.rating), 2) AS rating
        FROM products p LEFT JOIN reviews r ON r.product_id = p.id
        WHERE p.name ILIKE '%' || ? || '%'
        GROUP BY p.id, p.name, p.price, p.thumbnail
        ORDER BY rating DESC NULLS LAST, p.name"""
    PRODUCT_PAGE_SQL = (
        "SELECT id AS product_id, name, description, price FROM products WHERE id = ?",
        "SELECT url FROM product_images WHERE product_id = ? ORDER BY position",
        "SELECT author, rating, text FROM reviews WHERE product_id = ? ORDER BY id",
    )
    ADMIN_SQL = """
        SELECT p.id AS product_id, p.name, p.price, p.inventory,
               coalesce(sum(s.quantity), 0) AS units_sold,
               coalesce(sum(s.quantity * s.unit_price), 0) AS revenue,
               max(s.sold_at) AS last_sold_at
        FROM products p LEFT JOIN sales s ON s.product_id = p.id
        GROUP BY p.id, p.name, p.price, p.inventory
        ORDER BY p.id"""

    def __init__(self, path: str = ":memory:", *, clock: Callable[[], datetime] | None = None):
        self._con = duckdb.connect(str(path))
        self._con.execute("SET TimeZone = 'UTC'")
        self._con.execute(SCHEMA)
        self._clock = clock or utc_now

    # -- writes: one normalized row at a time ------------------------------------------------
    def add_product(self, product: Product) -> None:
        """Insert a product and its images."""
        if not isinstance(product, Product):
            raise TypeError(f"add_product takes a Product, got {type(product).__name__}")
        price = _price(product.price)
        _count(product.inventory, "inventory", minimum=0)
        with self._transaction() as cur:
            if cur.execute("SELECT 1 FROM products WHERE id = ?", [product.id]).fetchone():
                raise DomainError(f"product {product.id!r} already exists; use another id")
            cur.execute("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?)",
                        [product.id, product.name, product.description, price, product.inventory, product.thumbnail])
            for position, url in enumerate(product.images):
                cur.execute("INSERT INTO product_images VALUES (?, ?, ?)", [product.id, position, url])

    def update_price(self, product_id: str, new_price: Decimal, *, publish_to: EventStore | None = None) -> None:
        """``UPDATE products SET price = ?``; with ``publish_to``, then also append ``ProductPriceUpdated`` there.

        The publishing is the naive *dual write*: the update is committed first,
        the append comes after. If the append fails (the store is down, the
        process dies), the price has changed and no event says so. Shown in
        notebook 01; use an outbox instead (:class:`~esdemo.examples.catalog.Catalog`).
        """
        new_price = _price(new_price)
        with self._transaction() as cur:
            (old_price,) = self._row(cur, product_id, "price")
            cur.execute("UPDATE products SET price = ? WHERE id = ?", [new_price, product_id])
        if publish_to is not None:  # a second write, to a second database, after the first one committed
            publish_to.append(f"Product-{product_id}", [NewEvent("ProductPriceUpdated", {
                "product_id": product_id, "old_price": old_price, "new_price": new_price})], expected_version=ANY)

    def add_review(self, product_id: str, author: str, rating: int, text: str = "") -> None:
        """Insert a review (1 to 5 stars)."""
        _count(rating, "rating", minimum=1)
        if rating > 5:
            raise DomainError(f"a rating is 1 to 5 stars, got {rating}")
        with self._transaction() as cur:
            self._row(cur, product_id, "id")
            cur.execute("INSERT INTO reviews (product_id, author, rating, text) VALUES (?, ?, ?, ?)",
                        [product_id, author, rating, text])

    def sell(self, product_id: str, quantity: int) -> None:
        """Take ``quantity`` out of inventory and insert a row into ``sales`` at the current price."""
        _count(quantity, "quantity", minimum=1)
        with self._transaction() as cur:
            price, inventory = self._row(cur, product_id, "price, inventory")
            if quantity > inventory:
                raise DomainError(f"cannot sell {quantity} of {product_id!r}: only {inventory} in stock")
            cur.execute("UPDATE products SET inventory = inventory - ? WHERE id = ?", [quantity, product_id])
            cur.execute("INSERT INTO sales VALUES (?, ?, ?, ?)", [product_id, quantity, price, self._clock()])

    # -- reads: every page assembled from the tables, on every request -----------------------------
    def get(self, product_id: str) -> Product:
        """The product as the write side sees it (the one ``Product`` model)."""
        row = self._row(self._con, product_id, "id, name, description, price, inventory, thumbnail")
        images = [url for (url,) in self._con.execute(self.PRODUCT_PAGE_SQL[1], [product_id]).fetchall()]
        return Product(*row, images=tuple(images))

    def search(self, text: str = "") -> pd.DataFrame:
        """The search page: id, name, price, thumbnail and average rating (a join and a GROUP BY)."""
        return self._frame(self.SEARCH_SQL, [text])

    def product_page(self, product_id: str) -> dict[str, Any] | None:
        """The product page as one document, built from three queries (``None``: no such product)."""
        cur = self._con.execute(self.PRODUCT_PAGE_SQL[0], [product_id])
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
        if row is None:
            return None
        page = dict(zip(names, row))
        page["images"] = [url for (url,) in self._con.execute(self.PRODUCT_PAGE_SQL[1], [product_id]).fetchall()]
        page["reviews"] = [{"author": a, "rating": r, "text": t}
                           for a, r, t in self._con.execute(self.PRODUCT_PAGE_SQL[2], [product_id]).fetchall()]
        return page

    def admin_panel(self) -> pd.DataFrame:
        """The admin panel: price, inventory and sales data, aggregated from every sale on each request."""
        return self._frame(self.ADMIN_SQL, [])

    def row_counts(self) -> dict[str, int]:
        """How many rows each table holds: what the page queries have to read through."""
        return {table: self._con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("products", "product_images", "reviews", "sales")}

    # Connection and lifecycle as in catalog.Catalog, on purpose: each version reads on its own, side by side.
    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The database connection, to look around with SQL."""
        return self._con

    def close(self) -> None:
        """Close the database (an in-memory catalog is gone afterwards)."""
        self._con.close()

    def __enter__(self) -> CrudCatalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers -------------------------------------------------------------------------------
    def _transaction(self):
        return _Transaction(self._con)

    def _row(self, cur: Any, product_id: str, columns: str) -> tuple:
        row = cur.execute(f"SELECT {columns} FROM products WHERE id = ?", [product_id]).fetchone()
        if row is None:
            raise ProductNotFoundError(f"no product {product_id!r} in the catalog; add it first")
        return row

    def _frame(self, sql: str, params: list[Any]) -> pd.DataFrame:
        cur = self._con.execute(sql, params)
        names = [d[0] for d in cur.description]
        frame = pd.DataFrame(cur.fetchall(), columns=names, dtype=object)
        return frame


class _Transaction:
    """``with _Transaction(con) as cur``: commit on success, roll back on any error."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self._con.begin()
        return self._con

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self._con.commit()
        else:
            self._con.rollback()
