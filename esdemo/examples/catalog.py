"""The seed's CQRS example, WITHOUT event sourcing: a product catalog.

The write model is a plain table, as in any CRUD application: ``products``
holds each product's current state. The command :class:`UpdateProductPrice`
does what the seed lists::

    - validate business rules      (a positive price in cents; no change over 50% at once)
    - check authorization          (only price managers may change prices)
    - update the products table
    - publish ProductPriceUpdated

"Publish" is the hard part: writing the table and then appending to the
event store are two writes to two databases, and a crash between them
would lose the event (the **dual-write problem**). So the command writes the
event into an ``outbox`` table in the *same* transaction as the product.
:meth:`Catalog.relay_outbox` later appends outbox rows to the event store
(stream ``Product-<id>``), each with the event id fixed when the row was
written: relaying twice is a harmless retry, and a crash loses nothing.

>>> catalog = Catalog(price_managers={"alice"})
>>> catalog.create_product(Product("p-1", "Lamp", "A desk lamp", Decimal("40.00"), inventory=10))
>>> catalog.update_product_price(UpdateProductPrice("p-1", Decimal("35.00"), user="alice"))
>>> catalog.relay_outbox(store)      # -> 2 events appended to Product-p-1
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import duckdb

from ..store.event_store import EventStore
from ..store.events import ANY, NewEvent
from ..store.serialization import dumps, loads
from ..write.aggregate import DomainError
from ..write.domain import DomainEvent, EventRegistry, default_registry, domain_event
from .money import money

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, description VARCHAR NOT NULL, price DECIMAL(18, 2) NOT NULL,
    inventory INTEGER NOT NULL, thumbnail VARCHAR NOT NULL, images VARCHAR[] NOT NULL
);
CREATE TABLE IF NOT EXISTS reviews (product_id VARCHAR NOT NULL, author VARCHAR NOT NULL, rating INTEGER NOT NULL,
                                    text VARCHAR NOT NULL);
CREATE SEQUENCE IF NOT EXISTS outbox_seq;
CREATE TABLE IF NOT EXISTS outbox (
    seq BIGINT PRIMARY KEY DEFAULT nextval('outbox_seq'), event_id UUID NOT NULL, stream_id VARCHAR NOT NULL,
    type VARCHAR NOT NULL, schema_version INTEGER NOT NULL, data VARCHAR NOT NULL, metadata VARCHAR NOT NULL,
    relayed_position BIGINT                 -- NULL until the event is in the event store
);
"""
MAX_PRICE_CHANGE = Decimal("0.5")  # a price may move at most 50% per command: 1999 for 19.99 is a typo


@dataclass(frozen=True)
class Product:
    """A row of the ``products`` table: the write model, current state only."""

    id: str
    name: str
    description: str
    price: Decimal
    inventory: int
    thumbnail: str = ""
    images: tuple[str, ...] = field(default=())


@domain_event("ProductCreated")
@dataclass(frozen=True)
class ProductCreated(DomainEvent):
    """A product was added to the catalog, with everything the read views show."""

    product_id: str
    name: str
    description: str
    price: Decimal
    inventory: int
    thumbnail: str
    images: list[str]


@domain_event("ProductPriceUpdated")
@dataclass(frozen=True)
class ProductPriceUpdated(DomainEvent):
    """The seed's event: ``updated_by`` changed the price from ``old_price`` to ``new_price``."""

    product_id: str
    old_price: Decimal
    new_price: Decimal
    updated_by: str


@domain_event("ReviewAdded")
@dataclass(frozen=True)
class ReviewAdded(DomainEvent):
    """A customer reviewed the product (``rating``: 1 to 5 stars)."""

    product_id: str
    author: str
    rating: int
    text: str


@domain_event("ProductSold")
@dataclass(frozen=True)
class ProductSold(DomainEvent):
    """``quantity`` units left the inventory at ``unit_price`` each."""

    product_id: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class UpdateProductPrice:
    """The seed's command: ``user`` asks to set ``product_id``'s price to ``new_price``."""

    product_id: str
    new_price: Decimal
    user: str


class ProductNotFoundError(DomainError, LookupError):
    """No product with that id in the catalog."""


class NotAuthorizedError(DomainError, PermissionError):
    """The user may not run this command."""


class Catalog:
    """The catalog's write side: its own DuckDB database (in memory by default) with products and an outbox.

    ``price_managers`` are the users allowed to change prices; ``id_factory``
    gives each outbox event its id (e.g. ``seeded_ids(1)`` for notebooks).
    """

    def __init__(self, path: str = ":memory:", *, price_managers: Iterable[str] = ("admin",),
                 registry: EventRegistry | None = None, id_factory: Callable[[], uuid.UUID] | None = None):
        if isinstance(price_managers, str):
            raise TypeError("price_managers must be a collection of user names, e.g. {'alice'}, not one string")
        self.price_managers = frozenset(price_managers)
        self._registry = registry if registry is not None else default_registry
        self._next_id = id_factory or uuid.uuid4
        self._con = duckdb.connect(str(path))
        self._con.execute(SCHEMA)
        self._lock = threading.RLock()

    # -- commands -----------------------------------------------------------------------
    def create_product(self, product: Product) -> ProductCreated:
        """Insert a new product and publish ``ProductCreated``."""
        if not isinstance(product, Product):
            raise TypeError(f"create_product takes a Product, got {type(product).__name__}")
        for name in ("id", "name"):
            if not isinstance(getattr(product, name), str) or not getattr(product, name).strip():
                raise DomainError(f"a product needs a non-empty {name}, got {getattr(product, name)!r}")
        price = _price(product.price)
        _count(product.inventory, "inventory", minimum=0)
        event = ProductCreated(product.id, product.name, product.description, price, product.inventory,
                               product.thumbnail, list(product.images))
        with self._transaction() as cur:
            if cur.execute("SELECT 1 FROM products WHERE id = ?", [product.id]).fetchone():
                raise DomainError(f"product {product.id!r} already exists; use another id")
            cur.execute("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [product.id, product.name, product.description, price, product.inventory,
                         product.thumbnail, list(product.images)])
            self._publish(cur, event)
        return event

    def update_product_price(self, command: UpdateProductPrice) -> ProductPriceUpdated:
        """The seed's command: validate, authorize, update the table and publish, all in one transaction."""
        if not isinstance(command, UpdateProductPrice):
            raise TypeError(f"expected an UpdateProductPrice command, got {type(command).__name__}")
        new_price = _price(command.new_price)
        if command.user not in self.price_managers:
            raise NotAuthorizedError(
                f"user {command.user!r} may not change prices; price managers are {sorted(self.price_managers)}"
            )
        with self._transaction() as cur:
            (old_price,) = self._product_row(cur, command.product_id, "price")
            if new_price == old_price:
                raise DomainError(f"product {command.product_id!r} already costs {old_price}; nothing to change")
            if abs(new_price - old_price) > old_price * MAX_PRICE_CHANGE:
                raise DomainError(
                    f"a price may change by at most {MAX_PRICE_CHANGE:.0%} at once: {old_price} -> {new_price} "
                    "looks like a typo. Change it in smaller steps if it is really meant."
                )
            cur.execute("UPDATE products SET price = ? WHERE id = ?", [new_price, command.product_id])
            event = ProductPriceUpdated(command.product_id, old_price, new_price, command.user)
            self._publish(cur, event)
        return event

    def add_review(self, product_id: str, author: str, rating: int, text: str = "") -> ReviewAdded:
        """Store a review (1 to 5 stars) and publish ``ReviewAdded``."""
        _count(rating, "rating", minimum=1)
        if rating > 5:
            raise DomainError(f"a rating is 1 to 5 stars, got {rating}")
        if not isinstance(author, str) or not author.strip():
            raise DomainError(f"a review needs an author, got {author!r}")
        event = ReviewAdded(product_id, author, rating, text)
        with self._transaction() as cur:
            self._product_row(cur, product_id, "id")  # it must exist
            cur.execute("INSERT INTO reviews VALUES (?, ?, ?, ?)", [product_id, author, rating, text])
            self._publish(cur, event)
        return event

    def sell(self, product_id: str, quantity: int) -> ProductSold:
        """Take ``quantity`` out of inventory at the current price and publish ``ProductSold``."""
        _count(quantity, "quantity", minimum=1)
        with self._transaction() as cur:
            price, inventory = self._product_row(cur, product_id, "price, inventory")
            if quantity > inventory:
                raise DomainError(f"cannot sell {quantity} of {product_id!r}: only {inventory} in stock")
            cur.execute("UPDATE products SET inventory = inventory - ? WHERE id = ?", [quantity, product_id])
            event = ProductSold(product_id, quantity, price)
            self._publish(cur, event)
        return event

    # -- publishing ---------------------------------------------------------------------
    def relay_outbox(self, store: EventStore) -> int:
        """Append every unrelayed outbox event to ``store``, in order; return how many.

        Each append reuses the event id written in the outbox, so if the relay
        crashes after an append but before marking the row, the next relay's
        append is recognised by the store as a retry and not stored twice.
        """
        with self._lock:
            rows = self._con.execute(
                "SELECT seq, event_id, stream_id, type, schema_version, data, metadata FROM outbox "
                "WHERE relayed_position IS NULL ORDER BY seq"
            ).fetchall()
            for seq, event_id, stream_id, type_, schema_version, data, metadata in rows:
                event = NewEvent(type_, loads(data), loads(metadata), event_id, schema_version)
                result = store.append(stream_id, [event], expected_version=ANY)
                self._mark_relayed(seq, result.position)
        return len(rows)

    def _mark_relayed(self, seq: int, position: int) -> None:
        self._con.execute("UPDATE outbox SET relayed_position = ? WHERE seq = ?", [position, seq])

    def outbox(self) -> list[dict[str, Any]]:
        """The outbox rows, oldest first (``relayed_position`` is None until relayed)."""
        with self._lock:
            cur = self._con.execute("SELECT * FROM outbox ORDER BY seq")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    # -- queries on the write model -------------------------------------------------------
    def get(self, product_id: str) -> Product:
        """The product's current row."""
        with self._lock:
            row = self._con.execute("SELECT * FROM products WHERE id = ?", [product_id]).fetchone()
        if row is None:
            raise ProductNotFoundError(f"no product {product_id!r} in the catalog")
        return Product(*row[:6], images=tuple(row[6]))

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The catalog's DuckDB connection, to look at ``products``, ``reviews`` and ``outbox`` with SQL."""
        return self._con

    def close(self) -> None:
        """Close the catalog's database (an in-memory catalog is gone afterwards)."""
        self._con.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers ------------------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock:
            self._con.begin()
            try:
                yield self._con
            except BaseException:
                self._con.rollback()
                raise
            self._con.commit()

    def _publish(self, cur: Any, event: DomainEvent) -> None:
        new = self._registry.encode(event, event_id=self._next_id())
        cur.execute(
            "INSERT INTO outbox (event_id, stream_id, type, schema_version, data, metadata) VALUES (?, ?, ?, ?, ?, ?)",
            [new.event_id, f"Product-{event.product_id}", new.type, new.schema_version,
             dumps(new.data), dumps(new.metadata)],
        )

    def _product_row(self, cur: Any, product_id: str, columns: str) -> tuple:
        row = cur.execute(f"SELECT {columns} FROM products WHERE id = ?", [product_id]).fetchone()
        if row is None:
            raise ProductNotFoundError(f"no product {product_id!r} in the catalog; create it first")
        return row


def _price(value: object) -> Decimal:
    price = money(value, "a price")
    if price != price.quantize(Decimal("0.01")):
        raise DomainError(f"a price is in whole cents, got {price}")
    return price.quantize(Decimal("0.01"))


def _count(value: object, what: str, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be a whole number, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise DomainError(f"{what} must be at least {minimum}, got {value}")
