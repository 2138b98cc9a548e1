"""data/: committed files match the generator, and they load into both backends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from store_factory import fresh_location

from esdemo import FakeClock, NewEvent, Repository
from esdemo.data import DATA_DIR, DATASETS, SHOP_DEPLOY_V2, open_store, records, render, stale_files
from esdemo.examples.bank import Account
from esdemo.examples.orders import Order
from esdemo.write.domain import default_registry


def test_committed_files_are_exactly_what_the_generator_makes():
    assert stale_files() == [], "run `python -m esdemo.data` and commit data/"


def test_stale_files_notices_a_changed_or_missing_file(tmp_path):
    assert set(stale_files(tmp_path)) == {d.filename for d in DATASETS.values()} | {"README.md"}
    account = DATASETS["account_123"]
    (tmp_path / account.filename).write_bytes(render(account, account.build()).replace(b"200", b"900"))
    assert account.filename in stale_files(tmp_path)


def test_generation_is_deterministic():
    for dataset in DATASETS.values():
        assert dataset.build() == dataset.build()


def test_readme_describes_every_file():
    text = (DATA_DIR / "README.md").read_text()
    for dataset in DATASETS.values():
        assert f"`{dataset.filename}`" in text


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_dataset_restores_with_its_positions_and_times(backend, name):
    events = records(name)
    with open_store(name, backend=backend, path=fresh_location(backend)) as store:
        assert store.read_all() == events
        assert store.head() == len(events) == events[-1].position
        assert all(default_registry.decode(e) is not None for e in events)


def test_account_123_is_the_seed_then_the_rest_of_january(backend):
    with open_store("account_123", backend=backend, path=fresh_location(backend)) as store:
        accounts = Repository(store, Account)
        assert [e.type for e in store.read("Account-123")[:3]] == ["AccountOpened", "MoneyDeposited", "MoneyWithdrawn"]
        assert accounts.load("123", at_version=3).balance == Decimal("150")
        assert accounts.load("123", as_of=datetime(2024, 1, 15, tzinfo=timezone.utc)).balance == Decimal("950.00")


def test_legacy_orders_pay_with_v1_events_that_upcast_to_usd():
    events = records("legacy_orders")
    paid = [e for e in events if e.type == "OrderPaid"]
    assert paid and all(e.schema_version == 1 and set(e.data) == {"order_id", "amount"} for e in paid)
    assert {default_registry.decode(e).currency for e in paid} == {"USD"}


def test_shop_month_is_tens_of_thousands_of_valid_orders():
    events = records("shop_month")
    assert 15_000 <= len(events) <= 40_000
    paid = [e for e in events if e.type == "OrderPaid"]
    assert all(e.schema_version == 1 for e in paid if e.recorded_at < SHOP_DEPLOY_V2)
    assert all(e.schema_version == 2 for e in paid if e.recorded_at >= SHOP_DEPLOY_V2)
    assert {e.data.get("currency") for e in paid if e.schema_version == 2} == {"USD", "EUR", "GBP"}
    assert [e.recorded_at for e in events] == sorted(e.recorded_at for e in events)
    with open_store("shop_month") as store:
        order = Repository(store, Order).load("12345")
        assert order.total == sum(line["price"] * line["quantity"] for line in order.lines)


def test_a_missing_file_says_how_to_get_it_back(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m esdemo.data"):
        records("account_123", data_dir=tmp_path)
    with pytest.raises(KeyError, match="datasets are"):
        records("nope")


def test_open_store_with_a_clock_of_your_own_stamps_later_appends_with_it():
    clock = FakeClock(datetime(2024, 3, 1, 9, tzinfo=timezone.utc), step=timedelta(seconds=1))
    with open_store("account_123", clock=clock) as store:
        result = store.append("Account-123", [NewEvent("MoneyDeposited", {"account_id": "123", "amount": Decimal("1")})],
                              expected_version=8)
        assert store.read_all(result.position)[0].recorded_at == datetime(2024, 3, 1, 9, tzinfo=timezone.utc)
        assert clock.peek() == datetime(2024, 3, 1, 9, 0, 1, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="before the dataset's last event"):
        open_store("account_123", clock=FakeClock(datetime(2024, 1, 2, tzinfo=timezone.utc)))
    with pytest.raises(TypeError, match="FakeClock"):
        open_store("account_123", clock=lambda: datetime(2024, 3, 1, tzinfo=timezone.utc))
