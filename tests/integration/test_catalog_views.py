"""The catalog's read side: three views in three storages, following the relayed outbox, checked
against the write model. DuckDB only: the admin view keeps money as DECIMAL in the store's database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from catalog_kit import PRODUCTS

from esdemo import EventStore, FakeClock, seeded_ids
from esdemo.examples.catalog import Catalog, UpdateProductPrice
from esdemo.examples.catalog_views import CatalogViews
from esdemo.read.memory_views import DataFrameTable, Documents
from esdemo.read.rebuild import rebuild
from esdemo.read.sql_views import SqlTable

REVIEWS = [("p-1", "ann", 5, "bright"), ("p-1", "bob", 4, "fine"), ("p-3", "cy", 3, "thin paper")]


@pytest.fixture
def shop():
    store = EventStore(clock=FakeClock(datetime(2024, 3, 1, 9, tzinfo=timezone.utc), step=timedelta(minutes=5)))
    catalog = Catalog(price_managers={"alice"}, id_factory=seeded_ids(11))
    for product in PRODUCTS:
        catalog.create_product(product)
    catalog.update_product_price(UpdateProductPrice("p-1", Decimal("35.00"), user="alice"))
    for review in REVIEWS:
        catalog.add_review(*review)
    catalog.sell("p-1", 3)
    catalog.sell("p-2", 1)
    catalog.sell("p-1", 1)
    yield store, catalog
    catalog.close()
    store.close()


def test_views_show_only_what_the_outbox_relay_has_published(shop):
    store, catalog = shop
    views = CatalogViews(store)
    assert views.catch_up() == 0 and views.product_page("p-1") is None   # written, not yet published
    relayed = catalog.relay_outbox(store)
    assert views.catch_up() == relayed == store.head()
    assert views.product_page("p-1")["price"] == Decimal("35.00")
    assert catalog.relay_outbox(store) == 0 and views.catch_up() == 0      # nothing new the second time


def test_each_view_lives_in_its_own_storage(shop):
    store, catalog = shop
    catalog.relay_outbox(store)
    views = CatalogViews(store)
    views.catch_up()
    assert isinstance(views.search_view.storage, DataFrameTable)
    assert isinstance(views.detail_view.storage, Documents)
    assert isinstance(views.admin_view.storage, SqlTable)
    assert len(store.sql("SELECT * FROM admin_products")) == len(PRODUCTS)   # only the admin view is in the DB


def test_search_view_has_the_seeds_fields_current_prices_and_average_ratings(shop):
    store, catalog = shop
    catalog.relay_outbox(store)
    views = CatalogViews(store)
    views.catch_up()
    everything = views.search()
    assert list(everything.columns) == ["product_id", "name", "price", "thumbnail", "rating"]
    for row in everything.to_dict("records"):
        product = catalog.get(row["product_id"])
        assert (row["name"], row["price"], row["thumbnail"]) == (product.name, product.price, product.thumbnail)
        ratings = [r[2] for r in REVIEWS if r[0] == row["product_id"]]
        assert row["rating"] == (round(sum(ratings) / len(ratings), 2) if ratings else None)
    lamps = views.search("LAMP")
    assert list(lamps["product_id"]) == ["p-1", "p-2"]                      # rated before unrated
    assert list(views.search("lamp", max_price=Decimal("50"))["product_id"]) == ["p-1"]
    assert views.search("no such thing").empty


def test_detail_view_is_a_document_with_images_and_reviews_in_order(shop):
    store, catalog = shop
    catalog.relay_outbox(store)
    views = CatalogViews(store)
    views.catch_up()
    page = views.product_page("p-1")
    assert (page["name"], page["description"], page["price"]) == ("Desk Lamp", "A desk lamp", Decimal("35.00"))
    assert page["images"] == ["lamp-1.png", "lamp-2.png"]
    assert [(r["author"], r["rating"], r["text"]) for r in page["reviews"]] == [r[1:] for r in REVIEWS if r[0] == "p-1"]
    page["reviews"].clear()                                                   # a copy: the view is unchanged
    assert len(views.product_page("p-1")["reviews"]) == 2
    assert views.product_page("p-404") is None


def test_admin_view_inventory_and_sales_agree_with_the_write_model(shop):
    store, catalog = shop
    catalog.relay_outbox(store)
    views = CatalogViews(store)
    views.catch_up()
    rows = {row.product_id: row for row in views.admin_products()}
    for product in PRODUCTS:
        current = catalog.get(product.id)
        assert (rows[product.id].price, rows[product.id].inventory) == (current.price, current.inventory)
        assert rows[product.id].units_sold == product.inventory - current.inventory
    assert rows["p-1"].revenue == 4 * Decimal("35.00")                      # sold after the price change
    assert rows["p-1"].price_updated_by == "alice" and rows["p-2"].price_updated_by is None
    last_sale = [e for e in store.read("Product-p-1") if e.type == "ProductSold"][-1]
    assert rows["p-1"].last_sold_at == last_sale.recorded_at
    assert [row.product_id for row in views.admin_products(low_stock_below=2)] == ["p-2"]


def test_a_new_process_rebuilds_memory_views_from_zero_while_the_table_keeps_its_checkpoint(shop):
    store, catalog = shop
    catalog.relay_outbox(store)
    first = CatalogViews(store)
    first.catch_up()
    second = CatalogViews(store)                                              # e.g. a restarted notebook kernel
    assert [runner.position for runner in second.runners] == [0, 0, store.head()]
    second.catch_up()
    assert second.search().equals(first.search())
    assert second.product_page("p-1") == first.product_page("p-1")


def test_blue_green_rebuild_of_the_dataframe_view(shop):
    store, catalog = shop
    catalog.relay_outbox(store)
    views = CatalogViews(store)
    views.catch_up()
    before = views.search()
    report = rebuild(store, views.search_view)
    assert (str(report.old_target), str(report.new_target)) == ("generation 1", "generation 2")
    assert views.search().equals(before)
    catalog.update_product_price(UpdateProductPrice("p-3", Decimal("5.00"), user="alice"))
    catalog.relay_outbox(store)
    views.catch_up()
    assert views.search("notebook")["price"].tolist() == [Decimal("5.00")]
