"""The CRUD catalog (notebook 01's starting point): one database, pages assembled on every read,
the naive dual write; and the same pages as the CQRS read side shows for the same history."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from catalog_kit import PRODUCTS

from esdemo import DomainError, EventStore, FakeClock, StoreClosedError, seeded_ids
from esdemo.examples.catalog import Catalog, ProductNotFoundError, UpdateProductPrice
from esdemo.examples.catalog_crud import CrudCatalog
from esdemo.examples.catalog_views import CatalogViews

START = datetime(2024, 3, 1, 9, tzinfo=timezone.utc)
REVIEWS = [("p-1", "ann", 5, "bright"), ("p-3", "cy", 3, "thin paper"), ("p-1", "bob", 4, "fine")]
# (what, args): one history, run against both the CRUD catalog and the CQRS write side
HISTORY = [("sell", ("p-1", 3)), ("price", ("p-1", Decimal("35.00"))), ("sell", ("p-1", 1)), ("sell", ("p-2", 2)),
           ("price", ("p-3", Decimal("5.20")))]


@pytest.fixture
def crud():
    with CrudCatalog(clock=FakeClock(START, step=timedelta(minutes=1))) as crud:
        for product in PRODUCTS:
            crud.add_product(product)
        for review in REVIEWS:
            crud.add_review(*review)
        for what, args in HISTORY:
            crud.sell(*args) if what == "sell" else crud.update_price(*args)
        yield crud


def test_search_joins_reviews_for_the_average_rating_and_puts_rated_products_first(crud):
    lamps = crud.search("LAMP")
    assert list(lamps.columns) == ["product_id", "name", "price", "thumbnail", "rating"]
    assert list(lamps["product_id"]) == ["p-1", "p-2"]
    assert lamps.loc[0, "rating"] == 4.5 and lamps.loc[1, "rating"] is None
    assert lamps.loc[0, "price"] == Decimal("35.00")
    assert list(crud.search()["product_id"]) == ["p-1", "p-3", "p-2"]
    assert crud.search("no such thing").empty


def test_product_page_is_assembled_from_three_tables(crud):
    page = crud.product_page("p-1")
    assert (page["name"], page["description"], page["price"]) == ("Desk Lamp", "A desk lamp", Decimal("35.00"))
    assert page["images"] == ["lamp-1.png", "lamp-2.png"]
    assert [(r["author"], r["rating"]) for r in page["reviews"]] == [("ann", 5), ("bob", 4)]
    assert crud.product_page("p-404") is None


def test_admin_panel_aggregates_every_sale_at_the_price_of_the_day(crud):
    rows = {row["product_id"]: row for row in crud.admin_panel().to_dict("records")}
    assert (rows["p-1"]["units_sold"], rows["p-1"]["revenue"]) == (4, 3 * Decimal("40.00") + Decimal("35.00"))
    assert (rows["p-1"]["inventory"], rows["p-2"]["inventory"]) == (6, 0)
    assert rows["p-3"]["units_sold"] == 0 and rows["p-3"]["last_sold_at"] is None
    assert rows["p-2"]["last_sold_at"] > rows["p-1"]["last_sold_at"]
    assert crud.row_counts() == {"products": 3, "product_images": 2, "reviews": 3, "sales": 3}


def test_failed_writes_change_nothing(crud):
    before = (crud.admin_panel().to_dict("records"), crud.row_counts())
    with pytest.raises(DomainError, match="only 0 in stock"):
        crud.sell("p-2", 1)
    with pytest.raises(ProductNotFoundError, match="no product 'p-9'"):
        crud.update_price("p-9", Decimal("1.00"))
    with pytest.raises(DomainError, match="whole cents"):
        crud.update_price("p-1", Decimal("1.001"))
    with pytest.raises(DomainError, match="1 to 5 stars"):
        crud.add_review("p-1", "eve", 6)
    with pytest.raises(DomainError, match="already exists"):
        crud.add_product(PRODUCTS[0])
    assert (crud.admin_panel().to_dict("records"), crud.row_counts()) == before


def test_update_then_publish_works_while_the_store_is_up(crud):
    store = EventStore()
    crud.update_price("p-2", Decimal("80.00"), publish_to=store)
    (event,) = store.read("Product-p-2")
    assert event.data == {"product_id": "p-2", "old_price": Decimal("90.00"), "new_price": Decimal("80.00")}


def test_update_then_publish_loses_the_event_when_the_second_write_fails(crud):
    store = EventStore()
    store.close()                                                # the broker is down, or the process dies here
    with pytest.raises(StoreClosedError):
        crud.update_price("p-2", Decimal("80.00"), publish_to=store)
    assert crud.get("p-2").price == Decimal("80.00")             # the first write committed anyway


def test_crud_pages_and_cqrs_views_agree_on_the_same_history(crud):
    store = EventStore(clock=FakeClock(START, step=timedelta(minutes=1)))
    with Catalog(price_managers={"alice"}, id_factory=seeded_ids(1)) as catalog:
        for product in PRODUCTS:
            catalog.create_product(product)
        for review in REVIEWS:
            catalog.add_review(*review)
        for what, args in HISTORY:
            if what == "sell":
                catalog.sell(*args)
            else:
                catalog.update_product_price(UpdateProductPrice(*args, user="alice"))
        catalog.relay_outbox(store)
    views = CatalogViews(store)
    views.catch_up()
    assert views.search().to_dict("records") == crud.search().to_dict("records")
    for product in PRODUCTS:
        page = views.product_page(product.id)
        page["reviews"] = [{k: v for k, v in review.items() if k != "at"} for review in page["reviews"]]
        assert page == crud.product_page(product.id)
    admin = {row.product_id: (row.price, row.inventory, row.units_sold, row.revenue) for row in views.admin_products()}
    assert admin == {row["product_id"]: (row["price"], row["inventory"], row["units_sold"], row["revenue"])
                     for row in crud.admin_panel().to_dict("records")}
