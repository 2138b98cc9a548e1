from datetime import datetime, timezone
from decimal import Decimal
from uuid import uuid4

from esdemo import RecordedEvent
from esdemo.tables import events_table, format_data


def test_events_table_reads_like_the_seed():
    when = datetime(2024, 1, 2, 10, 30, tzinfo=timezone.utc)
    event = RecordedEvent(7, "Account-123", 2, "MoneyDeposited", 1, {"amount": Decimal("200.00")}, {}, uuid4(), when)
    table = events_table([event])
    assert list(table.index) == [7]
    assert table.loc[7, "data"] == "amount=200.00"
    assert table.loc[7, "recorded_at"] == "2024-01-02 10:30"
    assert list(events_table([event], columns=["type"]).columns) == ["type"]
    assert list(events_table([]).columns) == ["stream", "version", "type", "schema", "data", "recorded_at"]


def test_format_data_nests():
    assert format_data({"items": [{"sku": "A", "price": Decimal("1.5")}]}) == "items=[{sku: A, price: 1.5}]"
