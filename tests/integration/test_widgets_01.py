"""Notebook 01's price-sync widget: where_is_the_price on a real catalog, the demo's steps, the built widget."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from esdemo import EventStore, FakeClock, seeded_ids
from esdemo.examples.catalog import Catalog, Product, UpdateProductPrice
from esdemo.examples.catalog_views import CatalogViews
from esdemo.widgets import (
    PriceSyncDemo,
    build_price_sync_widget,
    sync_history_chart,
    sync_status_code,
    where_is_the_price,
)

VIEWS = ["search view", "detail view", "admin view"]


def statuses(frame):
    return frame["status"].to_dict()


@pytest.fixture
def shop():
    store = EventStore(clock=FakeClock(datetime(2024, 3, 1, 9, tzinfo=timezone.utc)))
    catalog = Catalog(price_managers={"alice"}, id_factory=seeded_ids(5))
    catalog.create_product(Product("p-7", "Kettle", "", Decimal("30.00"), inventory=5))
    yield catalog, store, CatalogViews(store)
    catalog.close()
    store.close()


def test_a_product_not_yet_relayed_is_not_there_in_the_log_or_any_view(shop):
    catalog, store, views = shop
    frame = where_is_the_price(catalog, store, views, "p-7")
    assert list(frame.index) == ["write model", "outbox", "event log", *VIEWS]
    assert frame.loc["write model", "price"] == "30.00" and frame.loc["outbox", "status"] == "1 event waiting"
    assert {statuses(frame)[place] for place in ["event log", *VIEWS]} == {"not there yet"}


def test_a_new_price_moves_from_write_model_to_outbox_to_log_to_each_view(shop):
    catalog, store, views = shop
    catalog.relay_outbox(store)
    views.catch_up()
    catalog.update_product_price(UpdateProductPrice("p-7", Decimal("27.00"), user="alice"))
    frame = where_is_the_price(catalog, store, views, "p-7")
    assert frame.loc["write model", "price"] == "27.00" and frame.loc["outbox", "price"] == "27.00"
    assert all(frame.loc[place, "status"] == "STALE" and frame.loc[place, "price"] == "30.00"
               for place in ["event log", *VIEWS])
    catalog.relay_outbox(store)
    frame = where_is_the_price(catalog, store, views, "p-7")
    assert (frame.loc["outbox", "status"], frame.loc["event log", "status"]) == ("empty", "up to date")
    assert all(frame.loc[place, "status"] == "STALE" for place in VIEWS)
    views.runners[1].catch_up()                                   # only the detail view
    assert statuses(where_is_the_price(catalog, store, views, "p-7"))["detail view"] == "up to date"
    assert statuses(where_is_the_price(catalog, store, views, "p-7"))["search view"] == "STALE"
    views.catch_up()
    assert set(statuses(where_is_the_price(catalog, store, views, "p-7")).values()) == {"empty", "up to date"}


def test_status_codes_for_the_chart():
    assert [sync_status_code(s) for s in ["up to date", "STALE", "2 events waiting", "empty", "not there yet"]] == [
        2, 1, 1, 0, 0]


def test_demo_rejects_bad_commands_and_changes_nothing():
    demo = PriceSyncDemo()
    before = demo.where()
    answer = demo.command("80.00", "alice")
    assert "rejected" in answer and "at most 50%" in answer
    assert "NotAuthorizedError" in demo.command("35.00", "bob")
    assert demo.where().equals(before)
    with pytest.raises(ValueError, match="view must be one of"):
        demo.project("sales")
    demo.close()


def test_demo_history_feeds_the_chart():
    demo = PriceSyncDemo()
    demo.command("35.00", "alice")
    demo.relay()
    demo.project("search")
    figure = demo.chart()
    axes = figure.axes[0]
    assert [t.get_text() for t in axes.get_xticklabels()] == ["start", "command 35.00", "relay", "project search"]
    codes = axes.images[0].get_array().tolist()
    assert codes[3] == [2, 1, 1, 2]                               # the search view row: stale until projected
    assert codes[4] == [2, 1, 1, 1]                               # the detail view row: still stale
    demo.close()


def test_widget_walks_a_price_change_through_command_relay_project():
    panel = build_price_sync_widget()
    assert "40.00" in panel.result.value and "STALE" not in panel.result.value
    panel.controls["price"].value = "44.00"
    panel.controls["command"].click()
    assert "accepted" in panel.result.value and panel.result.value.count("STALE") == 4
    panel.controls["relay"].click()
    assert "1 event appended" in panel.result.value and panel.result.value.count("STALE") == 3
    panel.controls["view"].value = "admin"
    panel.controls["project"].click()
    assert panel.result.value.count("STALE") == 2
    assert panel.demo.where().loc["admin view", "price"] == "44.00"
    panel.controls["view"].value = "all"
    panel.controls["project"].click()
    assert "STALE" not in panel.result.value
    assert [step for step, _ in panel.demo.history] == ["start", "command 44.00", "relay", "project admin", "project all"]
    panel.controls["user"].value = "bob"
    panel.controls["command"].click()
    assert "rejected" in panel.result.value and "may not change prices" in panel.result.value


def test_sync_history_chart_draws_the_notebooks_own_steps(shop):
    catalog, store, views = shop
    catalog.relay_outbox(store)
    views.catch_up()
    history = [("start", where_is_the_price(catalog, store, views, "p-7"))]
    catalog.update_product_price(UpdateProductPrice("p-7", Decimal("33.00"), user="alice"))
    history.append(("command", where_is_the_price(catalog, store, views, "p-7")))
    axes = sync_history_chart(history).axes[0]
    assert axes.images[0].get_array().tolist() == [[2, 2], [0, 1], [2, 1], [2, 1], [2, 1], [2, 1]]
    assert [t.get_text() for t in axes.texts][:2] == ["30.00", "33.00"]         # the write model's row
