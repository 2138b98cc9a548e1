"""The catalog: CQRS without event sourcing; products table + outbox in one transaction, relayed to the store."""

from __future__ import annotations

from decimal import Decimal

import pytest

from esdemo import DomainError, default_registry, seeded_ids
from esdemo.examples.catalog import (
    Catalog,
    NotAuthorizedError,
    Product,
    ProductCreated,
    ProductNotFoundError,
    ProductPriceUpdated,
    ProductSold,
    ReviewAdded,
    UpdateProductPrice,
)

LAMP = Product("p-1", "Lamp", "A desk lamp", Decimal("40.00"), inventory=10, thumbnail="lamp.png",
               images=("lamp-1.png", "lamp-2.png"))


@pytest.fixture
def catalog():
    with Catalog(price_managers={"alice"}, id_factory=seeded_ids(3)) as catalog:
        catalog.create_product(LAMP)
        yield catalog


def state_of(catalog: Catalog) -> tuple:
    """Everything a failed command must leave untouched."""
    return catalog.get("p-1"), catalog.outbox()


def test_update_product_price_updates_the_table_and_writes_the_outbox(catalog):
    event = catalog.update_product_price(UpdateProductPrice("p-1", Decimal("35"), user="alice"))
    assert event == ProductPriceUpdated("p-1", Decimal("40.00"), Decimal("35.00"), "alice")
    assert catalog.get("p-1").price == Decimal("35.00")
    created, updated = catalog.outbox()
    assert (created["type"], updated["type"]) == ("ProductCreated", "ProductPriceUpdated")
    assert updated["stream_id"] == "Product-p-1" and updated["relayed_position"] is None


def test_only_price_managers_may_change_prices(catalog):
    before = state_of(catalog)
    with pytest.raises(NotAuthorizedError, match=r"user 'bob' may not change prices; price managers are \['alice'\]"):
        catalog.update_product_price(UpdateProductPrice("p-1", Decimal("35"), user="bob"))
    assert state_of(catalog) == before
    assert issubclass(NotAuthorizedError, PermissionError) and issubclass(NotAuthorizedError, DomainError)


@pytest.mark.parametrize("price, error, match", [
    (Decimal("0"), DomainError, "a price must be more than zero"),
    (Decimal("-1"), DomainError, "a price must be more than zero"),
    (Decimal("35.001"), DomainError, "a price is in whole cents, got 35.001"),
    (35.5, TypeError, "a price must be a Decimal"),
    (Decimal("40.00"), DomainError, "product 'p-1' already costs 40.00; nothing to change"),
    (Decimal("60.01"), DomainError, r"a price may change by at most 50% at once: 40.00 -> 60.01 looks like a typo"),
    (Decimal("19.99"), DomainError, r"at most 50% at once: 40.00 -> 19.99"),
])
def test_price_rules_are_enforced_and_a_refused_command_changes_nothing(catalog, price, error, match):
    before = state_of(catalog)
    with pytest.raises(error, match=match):
        catalog.update_product_price(UpdateProductPrice("p-1", price, user="alice"))
    assert state_of(catalog) == before


def test_the_limits_themselves_are_allowed(catalog):
    catalog.update_product_price(UpdateProductPrice("p-1", Decimal("60.00"), user="alice"))
    catalog.update_product_price(UpdateProductPrice("p-1", Decimal("30.00"), user="alice"))
    assert catalog.get("p-1").price == Decimal("30.00")


def test_unknown_products_are_reported(catalog):
    with pytest.raises(ProductNotFoundError, match="no product 'p-9' in the catalog"):
        catalog.update_product_price(UpdateProductPrice("p-9", Decimal("5"), user="alice"))
    with pytest.raises(ProductNotFoundError):
        catalog.get("p-9")
    with pytest.raises(ProductNotFoundError):
        catalog.add_review("p-9", "ann", 5)
    with pytest.raises(ProductNotFoundError):
        catalog.sell("p-9", 1)
    assert len(catalog.outbox()) == 1


def test_create_product_rules(catalog):
    with pytest.raises(DomainError, match="product 'p-1' already exists"):
        catalog.create_product(LAMP)
    with pytest.raises(DomainError, match="a product needs a non-empty name"):
        catalog.create_product(Product("p-2", " ", "", Decimal("1.00"), inventory=1))
    with pytest.raises(DomainError, match="inventory must be at least 0, got -1"):
        catalog.create_product(Product("p-2", "Mug", "", Decimal("1.00"), inventory=-1))
    with pytest.raises(TypeError, match="create_product takes a Product"):
        catalog.create_product({"id": "p-2"})
    assert len(catalog.outbox()) == 1


def test_sell_and_review(catalog):
    assert catalog.sell("p-1", 3) == ProductSold("p-1", 3, Decimal("40.00"))
    assert catalog.get("p-1").inventory == 7
    with pytest.raises(DomainError, match="cannot sell 8 of 'p-1': only 7 in stock"):
        catalog.sell("p-1", 8)
    assert catalog.add_review("p-1", "ann", 4, "bright") == ReviewAdded("p-1", "ann", 4, "bright")
    for rating in (0, 6):
        with pytest.raises(DomainError, match="rating"):
            catalog.add_review("p-1", "ann", rating)
    assert [row["type"] for row in catalog.outbox()] == ["ProductCreated", "ProductSold", "ReviewAdded"]


def test_price_managers_must_be_a_collection():
    with pytest.raises(TypeError, match="not one string"):
        Catalog(price_managers="alice")


# -- publishing through the outbox, on both store backends ---------------------------------------------

def test_relay_appends_the_outbox_to_the_store_with_the_fixed_event_ids(catalog, store):
    catalog.update_product_price(UpdateProductPrice("p-1", Decimal("35"), user="alice"))
    assert catalog.relay_outbox(store) == 2
    outbox = catalog.outbox()
    events = store.read("Product-p-1")
    assert [e.event_id for e in events] == [row["event_id"] for row in outbox]
    assert [row["relayed_position"] for row in outbox] == [e.position for e in events]
    assert [default_registry.decode(e) for e in events] == [
        ProductCreated("p-1", "Lamp", "A desk lamp", Decimal("40.00"), 10, "lamp.png", ["lamp-1.png", "lamp-2.png"]),
        ProductPriceUpdated("p-1", Decimal("40.00"), Decimal("35.00"), "alice"),
    ]
    assert catalog.relay_outbox(store) == 0 and store.head() == 2


def test_event_ids_come_from_the_id_factory(catalog):
    ids = seeded_ids(3)
    assert catalog.outbox()[0]["event_id"] == ids()


def test_a_crash_between_update_and_publish_loses_nothing(catalog, store):
    """The price change and its event were committed together; the relay runs later, maybe after a restart."""
    catalog.update_product_price(UpdateProductPrice("p-1", Decimal("35"), user="alice"))
    assert store.head() == 0  # nothing published yet ("the crash")
    catalog.relay_outbox(store)
    assert [e.type for e in store.read("Product-p-1")] == ["ProductCreated", "ProductPriceUpdated"]


def test_a_crash_after_the_append_but_before_marking_the_row_does_not_duplicate(catalog, store, monkeypatch):
    mark = catalog._mark_relayed

    def crash(seq, position):
        raise ConnectionError("the relay died here")

    monkeypatch.setattr(catalog, "_mark_relayed", crash)
    with pytest.raises(ConnectionError):
        catalog.relay_outbox(store)
    assert store.head() == 1 and catalog.outbox()[0]["relayed_position"] is None
    monkeypatch.setattr(catalog, "_mark_relayed", mark)
    assert catalog.relay_outbox(store) == 1  # appended again: the store recognises the id as a retry
    assert store.head() == 1
    assert catalog.outbox()[0]["relayed_position"] == 1


def test_if_the_outbox_write_fails_the_product_update_is_rolled_back_too(catalog, monkeypatch):
    def broken(cur, event):
        raise OSError("outbox unavailable")

    monkeypatch.setattr(catalog, "_publish", broken)
    with pytest.raises(OSError):
        catalog.update_product_price(UpdateProductPrice("p-1", Decimal("35"), user="alice"))
    assert catalog.get("p-1").price == Decimal("40.00")  # the UPDATE was rolled back with it
