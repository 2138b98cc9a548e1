"""The course's sample data: small, committed, and rebuilt byte for byte by one command.

``python -m esdemo.data`` writes every file in ``data/`` (``--check`` only
compares). Each dataset is an *export* of an event log: one JSON object per
line, a recorded event with its position, stream, version, type, schema
version, data, metadata, id and time, in the store's own tagged JSON (see
:mod:`esdemo.store.serialization`). :func:`open_store` loads one into a fresh
store with :meth:`~esdemo.store.event_store.EventStore.restore`, so the history is the
same history, with the same positions and timestamps, not a re-enactment.

The generators use the example aggregates themselves, so every order obeys
the domain's rules, and a seeded ``random.Random``, so every run is the same.
"""

from __future__ import annotations

import argparse
import gzip
import io
import random
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from .examples.bank import Account
from .examples.orders import Order, order_paid_v1
from .store.clock import FakeClock
from .store.event_store import EventStore
from .store.events import RecordedEvent
from .store.ids import seeded_ids
from .store.serialization import dumps, loads
from .write.domain import default_registry

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
UTC = timezone.utc


@dataclass(frozen=True)
class Dataset:
    """One file of ``data/``: its name, what it holds, and the function that builds it."""

    name: str
    filename: str
    description: str
    build: Callable[[], list[RecordedEvent]]


# -- builders -----------------------------------------------------------------------------------

def _log_builder(seed: int):
    """Collects (time, stream, events) and numbers them into one log ordered by time."""
    pending: list[tuple[datetime, str, list]] = []
    next_id = seeded_ids(seed)

    def add(when: datetime, stream_id: str, new_events: Iterable) -> None:
        pending.append((when, stream_id, list(new_events)))

    def build() -> list[RecordedEvent]:
        log, versions = [], {}
        for when, stream_id, new_events in sorted(pending, key=lambda item: (item[0], item[1])):
            for new in new_events:
                versions[stream_id] = versions.get(stream_id, 0) + 1
                log.append(RecordedEvent(len(log) + 1, stream_id, versions[stream_id], new.type, new.schema_version,
                                         dict(new.data), dict(new.metadata), next_id(), when))
        return log

    return add, build


def _encode_pending(aggregate) -> list:
    events = [default_registry.encode(event) for event in aggregate.pending_events]
    aggregate.mark_saved(aggregate.version + len(events))
    return events


ACCOUNT_123 = [  # (time, command, amount): the seed's three events, then the rest of January
    (datetime(2024, 1, 1, 9, 0, tzinfo=UTC), "open", Decimal("0.00")),
    (datetime(2024, 1, 2, 10, 30, tzinfo=UTC), "deposit", Decimal("200.00")),
    (datetime(2024, 1, 3, 14, 15, tzinfo=UTC), "withdraw", Decimal("50.00")),
    (datetime(2024, 1, 10, 8, 0, tzinfo=UTC), "deposit", Decimal("1200.00")),
    (datetime(2024, 1, 12, 17, 45, tzinfo=UTC), "withdraw", Decimal("400.00")),
    (datetime(2024, 1, 16, 12, 5, tzinfo=UTC), "withdraw", Decimal("35.20")),
    (datetime(2024, 1, 22, 9, 10, tzinfo=UTC), "deposit", Decimal("75.00")),
    (datetime(2024, 1, 29, 16, 40, tzinfo=UTC), "withdraw", Decimal("980.00")),
]


def build_account_123() -> list[RecordedEvent]:
    """The seed's account 123 (opened with $0, +$200, -$50 = $150), then the rest of its January."""
    add, build = _log_builder(seed=123)
    account = None
    for when, command, amount in ACCOUNT_123:
        if command == "open":
            account = Account.open("123", owner="Ada Lovelace", opening_balance=amount)
        else:
            getattr(account, command)(amount)
        add(when, account.stream_id, _encode_pending(account))
    return build()


CATALOG = [  # (sku, unit price): what the shop sells
    ("BOOK-1", "25.00"), ("BOOK-2", "32.50"), ("BOOK-3", "18.90"), ("MUG-1", "12.00"), ("MUG-2", "14.50"),
    ("TEA-1", "6.40"), ("TEA-2", "8.00"), ("TEA-3", "11.20"), ("PEN-1", "2.50"), ("PEN-2", "25.00"),
    ("BAG-1", "39.00"), ("BAG-9", "50.00"), ("LAMP-1", "74.00"), ("DESK-1", "249.00"), ("CHAIR-1", "189.00"),
    ("CARD-1", "3.20"), ("CARD-2", "4.80"), ("PLANT-1", "16.00"), ("PLANT-2", "22.00"), ("SOCK-1", "9.90"),
]


def _shop_orders(add, rng: random.Random, first_id: int, days: list[datetime], orders_per_day: Callable[[datetime], int],
                 v1_until: datetime | None, currencies: list[tuple[str, float]]) -> None:
    """Generate orders day by day: created, 1-5 items, usually submitted, usually paid."""
    order_id = first_id
    names, weights = zip(*currencies)
    for day in days:
        for _ in range(orders_per_day(day)):
            start = day + timedelta(hours=8, minutes=rng.randrange(14 * 60), seconds=rng.randrange(60))
            order = Order.create(str(order_id), customer=f"C-{rng.randrange(1, 401):04d}")
            add(start, order.stream_id, _encode_pending(order))
            when = start
            for _ in range(rng.choice([1, 1, 2, 2, 2, 3, 3, 4, 5])):
                sku, price = rng.choice(CATALOG)
                when += timedelta(minutes=rng.randrange(1, 6), seconds=rng.randrange(60))
                order.add_item(sku, Decimal(price), quantity=rng.choice([1, 1, 1, 2, 3]))
                add(when, order.stream_id, _encode_pending(order))
            fate = rng.random()
            if fate < 0.10:  # abandoned cart: never submitted
                order_id += 1
                continue
            when += timedelta(minutes=rng.randrange(1, 11), seconds=rng.randrange(60))
            order.submit(at=when)
            add(when, order.stream_id, _encode_pending(order))
            if fate < 0.15:  # submitted, never paid
                order_id += 1
                continue
            when += timedelta(minutes=rng.randrange(1, 61), seconds=rng.randrange(60))
            if v1_until is not None and when < v1_until:  # the old payment service wrote OrderPaid V1
                order.pay()
                _encode_pending(order)  # keeps the aggregate in step; what was stored is the V1 event
                add(when, order.stream_id, [order_paid_v1(order.id, order.total)])
            else:
                order.pay(currency=rng.choices(names, weights)[0])
                add(when, order.stream_id, _encode_pending(order))
            order_id += 1


def build_legacy_orders() -> list[RecordedEvent]:
    """December 2023: a dozen orders paid through the old payment service (OrderPaid V1, no currency)."""
    add, build = _log_builder(seed=2023)
    rng = random.Random(2023)
    days = [datetime(2023, 12, 18 + i, tzinfo=UTC) for i in range(4)]
    _shop_orders(add, rng, 9001, days, lambda day: 3, v1_until=datetime(2024, 1, 1, tzinfo=UTC),
                 currencies=[("USD", 1.0)])
    return build()


SHOP_DEPLOY_V2 = datetime(2024, 2, 5, tzinfo=UTC)  # the payment service started writing OrderPaid V2


def build_shop_month() -> list[RecordedEvent]:
    """February 2024 in a small web shop: ~4,000 orders and ~20,000 events.

    Weekends are busier; about 10% of carts are abandoned and 5% of orders
    are submitted but never paid. Until 5 February payments were written as
    ``OrderPaid`` V1 (all USD); from then on as V2, with EUR and GBP too.
    """
    add, build = _log_builder(seed=202402)
    rng = random.Random(202402)
    days = [datetime(2024, 2, 1, tzinfo=UTC) + timedelta(days=i) for i in range(29)]

    def orders_per_day(day: datetime) -> int:
        return int(rng.gauss(170 if day.weekday() >= 5 else 125, 12))

    _shop_orders(add, rng, 10001, days, orders_per_day, v1_until=SHOP_DEPLOY_V2,
                 currencies=[("USD", 0.8), ("EUR", 0.15), ("GBP", 0.05)])
    return build()


DATASETS = {
    d.name: d
    for d in [
        Dataset("account_123", "account_123.jsonl",
                "The seed's account 123: AccountOpened($0), MoneyDeposited($200), MoneyWithdrawn($50), then the "
                "rest of January 2024, for temporal queries such as the balance on 15 January.",
                build_account_123),
        Dataset("legacy_orders", "legacy_orders_2023.jsonl",
                "Orders from December 2023, paid through the old payment service: their OrderPaid events are "
                "schema version 1, {order_id, amount}, with no currency (notebook 10).",
                build_legacy_orders),
        Dataset("shop_month", "shop_2024_02.jsonl.gz",
                "A month (February 2024) of a web shop's order events, with OrderPaid V1 until the deploy on "
                "5 February and V2 after it (notebook 15, the capstone).",
                build_shop_month),
    ]
}


# -- files ---------------------------------------------------------------------------------------

def to_line(event: RecordedEvent) -> str:
    """One recorded event as one line of JSON."""
    return dumps({
        "position": event.position, "stream_id": event.stream_id, "version": event.version, "type": event.type,
        "schema_version": event.schema_version, "data": event.data, "metadata": event.metadata,
        "event_id": event.event_id, "recorded_at": event.recorded_at,
    }, f"event at position {event.position}")


def from_line(line: str) -> RecordedEvent:
    """The inverse of :func:`to_line`."""
    raw = loads(line)
    return RecordedEvent(raw["position"], raw["stream_id"], raw["version"], raw["type"], raw["schema_version"],
                         raw["data"], raw["metadata"], raw["event_id"], raw["recorded_at"])


def render(dataset: Dataset, events: list[RecordedEvent]) -> bytes:
    """The exact bytes of a dataset's file (gzip with no timestamp, so it is reproducible)."""
    text = "".join(to_line(event) + "\n" for event in events).encode()
    if not dataset.filename.endswith(".gz"):
        return text
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(text)
    return buffer.getvalue()


def records(name: str, data_dir: Path = DATA_DIR) -> list[RecordedEvent]:
    """The events of dataset ``name`` (see :data:`DATASETS`), read from ``data/``."""
    dataset = _dataset(name)
    path = Path(data_dir) / dataset.filename
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing. The sample data is committed with the project; regenerate it with "
            "`python -m esdemo.data` from the project folder."
        )
    raw = path.read_bytes()
    if dataset.filename.endswith(".gz"):
        raw = gzip.decompress(raw)
    return [from_line(line) for line in raw.decode().splitlines() if line]


def open_store(name: str, *, backend: str = "duckdb", path: str = ":memory:", step: timedelta = timedelta(minutes=1),
               data_dir: Path = DATA_DIR, clock: FakeClock | None = None) -> EventStore:
    """A new store holding dataset ``name``, restored with its original positions and timestamps.

    The store's clock is a :class:`~esdemo.store.clock.FakeClock` that starts one
    ``step`` after the last event and moves ``step`` per append, so what a
    notebook appends afterwards is reproducible too. Pass your own ``clock``
    (a ``FakeClock`` at or after the last event) to keep a handle on it, e.g.
    for a runner's ``lag()``: ``ProjectionRunner(store, view, clock=clock.peek)``.
    """
    events = records(name, data_dir)
    if clock is None:
        clock = FakeClock(events[-1].recorded_at + step, step=step)
    elif not isinstance(clock, FakeClock):
        raise TypeError(f"clock must be a FakeClock (appends after the data must be reproducible), got {clock!r}")
    elif clock.peek() < events[-1].recorded_at:
        raise ValueError(f"the clock reads {clock.peek().isoformat()}, before the dataset's last event "
                         f"({events[-1].recorded_at.isoformat()}); a log's time only moves on, so start it later")
    store = EventStore(path, backend=backend, clock=clock)
    store.restore(events)
    return store


def readme(built: dict[str, list[RecordedEvent]]) -> str:
    """``data/README.md``, generated so that its counts are always true."""
    lines = [
        "# Sample data",
        "",
        "Generated by `python -m esdemo.data` (deterministic: the same bytes on every run; "
        "`python -m esdemo.data --check` compares without writing, and a test does the same).",
        "Do not edit these files by hand.",
        "",
        "Each file is an export of an event log: one JSON object per line, with `position`, `stream_id`, "
        "`version`, `type`, `schema_version`, `data`, `metadata`, `event_id` and `recorded_at`. "
        "Decimals, datetimes, dates and UUIDs are written as `{\"$decimal\": \"200.00\"}` and so on "
        "(see `esdemo/store/serialization.py`). Load one with `esdemo.data.open_store(name)`.",
        "",
        "| file | dataset | events | streams | first | last | what it is |",
        "|---|---|---|---|---|---|---|",
    ]
    for dataset in DATASETS.values():
        events = built[dataset.name]
        streams = len({e.stream_id for e in events})
        lines.append(
            f"| `{dataset.filename}` | `{dataset.name}` | {len(events):,} | {streams:,} | "
            f"{events[0].recorded_at:%Y-%m-%d %H:%M} | {events[-1].recorded_at:%Y-%m-%d %H:%M} | {dataset.description} |"
        )
    return "\n".join(lines) + "\n"


def outputs() -> dict[str, bytes]:
    """Every file of ``data/`` by name, as the generator makes it."""
    built = {dataset.name: dataset.build() for dataset in DATASETS.values()}
    files = {dataset.filename: render(dataset, built[dataset.name]) for dataset in DATASETS.values()}
    files["README.md"] = readme(built).encode()
    return files


def stale_files(data_dir: Path = DATA_DIR) -> list[str]:
    """Files of ``data/`` that are missing or differ from what the generator makes."""
    def unpacked(name: str, content: bytes) -> bytes:  # compare gzip files by content: zlib builds may differ
        return gzip.decompress(content) if name.endswith(".gz") else content

    stale = []
    for name, content in outputs().items():
        path = Path(data_dir) / name
        if not path.exists() or unpacked(name, path.read_bytes()) != unpacked(name, content):
            stale.append(name)
    return stale


def _dataset(name: str) -> Dataset:
    if name not in DATASETS:
        raise KeyError(f"no dataset {name!r}; the datasets are {sorted(DATASETS)}")
    return DATASETS[name]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m esdemo.data", description="Write (or check) the files in data/.")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if a file is stale")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="folder to write to (default: data/)")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.out)
        for name in stale:
            print(f"stale: {args.out / name}")
        print("data/ is up to date" if not stale else "run `python -m esdemo.data` to regenerate")
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, content in outputs().items():
        (args.out / name).write_bytes(content)
        print(f"wrote {args.out / name} ({len(content):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
