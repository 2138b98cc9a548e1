"""A small projection for testing the read-side machinery on every storage and both backends.

``Tally`` keeps, per stream, how many ``Added`` events it applied, their
sum, and the list of positions it applied: an event applied twice shows up
as a repeated position, a skipped one as a missing position.
"""

from __future__ import annotations

from decimal import Decimal

from esdemo import NewEvent
from esdemo.read.memory_views import DataFrameTable, Documents
from esdemo.read.projection import Projection
from esdemo.read.sql_views import SqlTable

COLUMNS = {"stream_id": "VARCHAR", "events": "INTEGER", "total": "DECIMAL(18, 2)", "positions": "VARCHAR",
           "last_at": "TIMESTAMP"}
STORAGES = ["sql", "documents", "dataframe"]


def make_storage(kind: str):
    if kind == "sql":
        return SqlTable(key="stream_id", columns=COLUMNS)
    if kind == "documents":
        return Documents(key="stream_id")
    return DataFrameTable(key="stream_id", columns=list(COLUMNS))


class Tally(Projection):
    name = "tally"
    event_types = {"Added"}

    def __init__(self, storage=None, *, fail_at: int | None = None, on_event=None):
        super().__init__(storage)
        self.fail_at = fail_at      # position at which the handler writes, then raises
        self.on_event = on_event    # called with each RecordedEvent before it is applied

    def default_storage(self):
        return SqlTable(key="stream_id", columns=COLUMNS)

    def handle(self, event, recorded, view):
        if self.on_event is not None:
            self.on_event(recorded)
        row = view.get(recorded.stream_id)
        if row is None:
            view.insert({"stream_id": recorded.stream_id, "events": 1, "total": event.data["n"],
                         "positions": str(recorded.position), "last_at": recorded.recorded_at})
        else:
            view.update(recorded.stream_id, events=row["events"] + 1, total=row["total"] + event.data["n"],
                        positions=f"{row['positions']},{recorded.position}", last_at=recorded.recorded_at)
        if recorded.position == self.fail_at:
            raise RuntimeError(f"handler bug at position {recorded.position}, after writing the row")

    def key_of(self, event, recorded):
        return recorded.stream_id      # lets a SQL storage load a batch's rows in one query


def fill(store, streams: int = 3, per_stream: int = 4, start: int = 0) -> None:
    """``per_stream`` rounds over ``streams`` streams of one ``Added`` each, plus one ``Noise`` event per round."""
    for round_ in range(start, start + per_stream):
        for s in range(streams):
            store.append(f"s{s}", [NewEvent("Added", {"n": Decimal(f"{s + 1}.{round_:02d}")})],
                         expected_version=round_)
        store.append("noise", [NewEvent("Noise", {})], expected_version=round_)


def rows_of(projection) -> list[dict]:
    """The live rows of a Tally, whatever its storage, sorted by stream."""
    return projection.storage.rows()


def expected_rows(store) -> list[dict]:
    """What a Tally must hold: a plain fold over the log (the oracle)."""
    rows: dict[str, dict] = {}
    for event in store.read_all():
        if event.type != "Added":
            continue
        row = rows.setdefault(event.stream_id, {"stream_id": event.stream_id, "events": 0, "total": Decimal(0),
                                                "positions": [], "last_at": None})
        row["events"] += 1
        row["total"] += event.data["n"]
        row["positions"].append(str(event.position))
        row["last_at"] = event.recorded_at
    return [{**row, "positions": ",".join(row["positions"])} for _, row in sorted(rows.items())]
