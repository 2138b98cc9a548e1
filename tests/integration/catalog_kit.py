"""The products the catalog tests (CRUD and CQRS) start from: one lamp with two images, one nearly sold out."""

from __future__ import annotations

from decimal import Decimal

from esdemo.examples.catalog import Product

PRODUCTS = [
    Product("p-1", "Desk Lamp", "A desk lamp", Decimal("40.00"), inventory=10, thumbnail="lamp.png",
            images=("lamp-1.png", "lamp-2.png")),
    Product("p-2", "Floor Lamp", "A tall lamp", Decimal("90.00"), inventory=2, thumbnail="floor.png"),
    Product("p-3", "Notebook", "Squared paper", Decimal("4.50"), inventory=100, thumbnail="book.png"),
]
