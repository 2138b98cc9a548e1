"""Checks for the notebooks' exercises: each one says what is right, or what is wrong and why.

A check returns :class:`Feedback`, which prints as one line::

    ✅ Correct: ...            or          ❌ Not yet: <what is wrong and a hint>

Checks never raise for a wrong answer (a learner running "Run all" on the
exercise notebook should see every piece of feedback), and they test the
learner's code on fresh data of their own, so a hard-coded answer fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .clock import FakeClock
from .errors import ConflictError
from .events import ANY, NewEvent
from .store import EventStore


@dataclass(frozen=True)
class Feedback:
    """The result of a check: truthy when passed, and a message for the learner."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return ("✅ Correct: " if self.passed else "❌ Not yet: ") + self.message


def _ok(message: str) -> Feedback:
    return Feedback(True, message)


def _no(message: str) -> Feedback:
    return Feedback(False, message)


def _fresh_store() -> EventStore:
    return EventStore(clock=FakeClock(datetime(2024, 1, 1, 9, tzinfo=timezone.utc), timedelta(minutes=1)))


def _not_done(value: Any) -> bool:
    return value is ... or value is None


# -- 03 · The event store ---------------------------------------------------------------------

ORDER_FLOW = ["OrderCreated", "ItemAdded", "OrderSubmitted"]


def check_order_stream(store: Any, stream_id: str = "Order-777") -> Feedback:
    """Exercise 03.1: ``stream_id`` holds OrderCreated, ItemAdded, OrderSubmitted, written in ONE append."""
    if not isinstance(store, EventStore):
        return _no("pass the EventStore you appended to, e.g. check_order_stream(my_store).")
    events = store.read(stream_id)
    if not events:
        return _no(f"the stream {stream_id!r} is empty. Append to it with store.append({stream_id!r}, [...], expected_version=0).")
    types = [e.type for e in events]
    if types != ORDER_FLOW:
        return _no(f"the stream holds {types}; it should hold exactly {ORDER_FLOW}, in that order.")
    if len({e.recorded_at for e in events}) != 1:
        return _no(
            "the three events were written by separate appends. Pass all three in one list to a single "
            "store.append(...): one append is one transaction, all or nothing."
        )
    if "order_id" not in events[0].data:
        return _no("give OrderCreated an 'order_id' in its data, so readers of the log know which order it is.")
    return _ok(f"{stream_id} has versions 1-3 at positions {events[0].position}-{events[-1].position}, written atomically.")


def check_append_with_retry(append_with_retry: Callable[..., Any]) -> Feedback:
    """Exercise 03.2: a function that reloads and retries on ConflictError, and never uses ANY.

    The check runs it against a stream where another writer sneaks in an event
    between the function's read and its first append.
    """
    if _not_done(append_with_retry) or not callable(append_with_retry):
        return _no("define append_with_retry(store, stream_id, decide, attempts=3) first.")
    store = _fresh_store()
    store.append("Counter-1", [NewEvent("Incremented", {"by": 1})], expected_version=0)
    real_read, interfered = store.read, []

    def read_then_interfere(stream_id: str, *args: Any, **kwargs: Any) -> list:
        events = real_read(stream_id, *args, **kwargs)
        if not interfered:  # another user appends right after our first read
            interfered.append(True)
            store.append(stream_id, [NewEvent("Incremented", {"by": 10})], expected_version=len(events))
        return events

    def decide(history: list) -> list[NewEvent]:
        total = sum(e.data["by"] for e in history)
        return [NewEvent("Snapshotted", {"total_seen": total})]

    real_append, expectations = store.append, []

    def recording_append(stream_id: str, events: Any, **kwargs: Any) -> Any:
        expectations.append(kwargs.get("expected_version"))
        return real_append(stream_id, events, **kwargs)

    store.read = read_then_interfere  # type: ignore[method-assign]
    store.append = recording_append  # type: ignore[method-assign]
    try:
        append_with_retry(store, "Counter-1", decide)
    except ConflictError:
        return _no("the first append conflicted and your function let ConflictError escape. Catch it, read again, decide again, append again.")
    except TypeError as exc:
        return _no(f"call signature mismatch ({exc}). Use append_with_retry(store, stream_id, decide, attempts=3).")
    finally:
        store.read, store.append = real_read, real_append  # type: ignore[method-assign]
    if ANY in expectations:
        return _no(
            "expected_version=ANY turns the conflict check off: the other writer's change is built upon "
            "without being looked at. Append with the version you read."
        )
    events = store.read("Counter-1")
    written = [e for e in events if e.type == "Snapshotted"]
    if len(written) != 1:
        return _no(f"expected exactly one new event after the retry, found {len(written)}.")
    if written[0].data["total_seen"] != 11:
        return _no(
            f"your retry decided on stale history (it saw a total of {written[0].data['total_seen']}, the "
            "stream's total was 11). Re-read the stream inside the loop, before deciding again."
        )
    problem = _give_up_problem(append_with_retry)
    if problem:
        return _no(problem)
    return _ok("it re-read the stream, decided on the new history, appended with the version it read, "
               "and gives up after `attempts` conflicts.")


class _RunawayLoop(Exception):
    pass


def _give_up_problem(append_with_retry: Callable[..., Any]) -> str | None:
    """When every attempt conflicts, the function must re-raise ConflictError after `attempts` tries."""
    store, reads = _fresh_store(), [0]
    real_read = store.read

    def always_interfere(stream_id: str, *args: Any, **kwargs: Any) -> list:
        reads[0] += 1
        if reads[0] > 20:
            raise _RunawayLoop()
        events = real_read(stream_id, *args, **kwargs)
        store.append(stream_id, [NewEvent("Noise", {})], expected_version=len(events))
        return events

    store.read = always_interfere  # type: ignore[method-assign]
    try:
        append_with_retry(store, "Busy-1", lambda history: [NewEvent("Mine", {})], attempts=3)
    except ConflictError:
        if reads[0] > 4:
            return f"with attempts=3 your function read the stream {reads[0]} times; stop after `attempts` tries."
        return None
    except _RunawayLoop:
        return "with a writer that always gets in first, your function retries forever. Stop after `attempts` tries and re-raise ConflictError."
    return "when every attempt conflicts, your function returned normally. After `attempts` tries, re-raise the ConflictError so the caller knows nothing was written."


# -- 08 · Schema evolution --------------------------------------------------------------------
# This section's own imports (the file is shared; each section keeps its imports with it).

import random  # noqa: E402
import uuid  # noqa: E402
from decimal import Decimal  # noqa: E402

from .events import RecordedEvent  # noqa: E402
from .upcasting import Upcasters, UpcastError  # noqa: E402

# ISO 4217 minor units of the currencies notebook 08's OrderPaid V3 uses: amount_minor is the amount
# in cents (pence), or in whole yen.
MINOR_UNITS = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0}


def _item_added_v1(rng: random.Random) -> dict[str, Any]:
    price = Decimal(rng.randrange(150, 25000)) / 100
    quantity = rng.randrange(1, 6)
    return {"order_id": str(rng.randrange(20000, 30000)), "sku": rng.choice(["MUG-2", "TEA-1", "LAMP-1", "SOCK-1"]),
            "price": price, "quantity": quantity, "new_total": price * quantity + Decimal(rng.randrange(0, 5000)) / 100}


def check_rename_upcaster(rename_price: Callable[[dict[str, Any]], dict[str, Any]]) -> Feedback:
    """Exercise 08.1: the upcaster ``ItemAdded`` V1 -> V2, where V2 renames ``price`` to ``unit_price``.

    The check registers the function in a fresh :class:`~esdemo.upcasting.Upcasters`
    and runs V1 items of its own through it: ``price`` must become
    ``unit_price`` (the same ``Decimal``), and nothing else may change.
    """
    if _not_done(rename_price) or not callable(rename_price):
        return _no("define rename_price(data) first: it gets an ItemAdded V1 data dict and returns the V2 dict.")
    upcasters = Upcasters()
    upcasters.register("ItemAdded", 1, rename_price)
    rng = random.Random(8)
    items = [_item_added_v1(rng) for _ in range(5)]
    for v1 in items:
        try:
            version, v2 = upcasters.upcast("ItemAdded", 1, v1)
        except UpcastError as exc:
            if exc.__cause__ is None:  # it returned something that is not a dict
                return _no(f"{exc} If you changed `data` in place, end with `return data`.")
            return _no(f"your upcaster raised {exc.__cause__!r} on the V1 data {v1!r}. V1 has the fields "
                       f"{sorted(v1)}; read `price` from it and return the V2 dict.")
        if "unit_price" not in v2:
            return _no(f"what you return has no `unit_price` ({sorted(v2)}). V2's name for the unit price is unit_price.")
        if "price" in v2:
            return _no("V2 has no `price` any more, but your result still has it: readers of V2 would see two "
                       "names for one thing. Remove it (data.pop('price')).")
        if isinstance(v2["unit_price"], float):
            return _no("unit_price is a float. Keep the Decimal exactly as stored: money is never a float, and "
                       "an upcaster must not change a value it only renames.")
        if v2["unit_price"] != v1["price"]:
            return _no(f"unit_price must be the V1 price unchanged: for price={v1['price']} you returned "
                       f"unit_price={v2['unit_price']!r}.")
        dropped = sorted(set(v1) - {"price"} - set(v2))
        if dropped:
            return _no(f"you dropped {dropped}. An upcaster changes only what the new version changes; copy "
                       "the rest, e.g. {**data, 'unit_price': ...} without 'price'.")
        added = sorted(set(v2) - set(v1) - {"unit_price"})
        if added:
            return _no(f"you added {added}, but V2 only renames price to unit_price.")
        changed = sorted(k for k in v1 if k != "price" and v2[k] != v1[k])
        if changed:
            return _no(f"you changed {changed}; only the name of price changes in V2.")
    return _ok(f"on {len(items)} fresh ItemAdded V1 events, price became unit_price and every other field came "
               "through unchanged. The stored events are still V1.")


def _payment(position: int, schema_version: int, data: dict[str, Any]) -> RecordedEvent:
    return RecordedEvent(position, f"Order-{data['order_id']}", 1, "OrderPaid", schema_version, data, {},
                         uuid.UUID(int=position), datetime(2024, 6, 1, 9, tzinfo=timezone.utc))


def _payments_of_every_version(rng: random.Random) -> list[RecordedEvent]:
    """A log with V1, V2 and V3 payments (USD, EUR, GBP and JPY) and some events of other types between them."""
    events: list[RecordedEvent] = []
    for n in range(18):
        position = len(events) + 1
        order_id = str(30000 + n)
        if n % 4 == 3:
            events.append(RecordedEvent(position, f"Order-{order_id}", 1, "ItemAdded", 1,
                                        {"order_id": order_id, "sku": "TEA-1", "price": Decimal("6.40"), "quantity": 1,
                                         "new_total": Decimal("6.40")}, {}, uuid.UUID(int=position),
                                        datetime(2024, 6, 1, 9, tzinfo=timezone.utc)))
            continue
        version = n % 3 + 1
        currency = "USD" if version == 1 else rng.choice(sorted(MINOR_UNITS))
        amount = Decimal(rng.randrange(100, 90000)) / 100
        if currency == "JPY":
            amount = Decimal(rng.randrange(300, 40000))
        if version == 1:
            events.append(_payment(position, 1, {"order_id": order_id, "amount": amount}))
        elif version == 2:
            events.append(_payment(position, 2, {"order_id": order_id, "amount": amount, "currency": currency}))
        else:
            minor = int(amount.scaleb(MINOR_UNITS[currency]))
            events.append(_payment(position, 3, {"order_id": order_id, "amount_minor": minor, "currency": currency}))
    return events


def _revenue(events: list[RecordedEvent], *, skip_v1: bool = False, v3_scale: Callable[[str], int] | None = None
             ) -> dict[str, Decimal]:
    """The right answer, or (with the keyword arguments) a typical wrong one, for diagnosis."""
    totals: dict[str, Decimal] = {}
    for e in events:
        if e.type != "OrderPaid" or (skip_v1 and e.schema_version == 1):
            continue
        if e.schema_version == 3:
            exponent = MINOR_UNITS[e.data["currency"]] if v3_scale is None else v3_scale(e.data["currency"])
            amount, currency = Decimal(e.data["amount_minor"]).scaleb(-exponent), e.data["currency"]
        else:
            amount, currency = e.data["amount"], e.data.get("currency", "USD")
        totals[currency] = totals.get(currency, Decimal("0")) + amount
    return totals


def check_revenue_by_currency(revenue_by_currency: Callable[[list[RecordedEvent]], dict[str, Decimal]]) -> Feedback:
    """Exercise 08.2: a versioned handler that totals OrderPaid V1, V2 and V3 per currency, from raw events.

    V1 ``{order_id, amount}`` (all USD), V2 ``{order_id, amount, currency}``,
    V3 ``{order_id, amount_minor, currency}`` (an int in the currency's minor
    unit: cents, pence, whole yen). Other event types are skipped. A version
    the function does not know must raise, not be skipped or guessed.
    """
    if _not_done(revenue_by_currency) or not callable(revenue_by_currency):
        return _no("define revenue_by_currency(events) first: it returns {currency: Decimal total}.")
    events = _payments_of_every_version(random.Random(88))
    expected = _revenue(events)
    try:
        result = revenue_by_currency(list(events))
    except KeyError as exc:
        if exc.args == ("currency",):
            return _no("KeyError 'currency': an OrderPaid V1 has no currency. Match on event.schema_version: "
                       "V1 payments were all in USD (the rule the add_currency upcaster encodes).")
        if exc.args == ("amount",):
            return _no("KeyError 'amount': an OrderPaid V3 stores amount_minor, an int in the currency's minor "
                       "unit, not amount. Handle case 3 separately.")
        return _no(f"your function raised KeyError {exc}. Read only the fields each version has, and skip events "
                   "that are not OrderPaid.")
    except Exception as exc:  # a learner's bug: report it, never raise from a check
        return _no(f"your function raised {exc!r} on a log with OrderPaid V1, V2 and V3 and other event types. "
                   "If that is your own 'unknown version' error, one of those cases is missing.")
    if not isinstance(result, dict):
        return _no(f"return a dict {{currency: Decimal total}}, got {type(result).__name__}.")
    if any(isinstance(v, float) for v in result.values()):
        return _no("some totals are floats. Add Decimals (Decimal(amount_minor).scaleb(-2) turns 1250 cents "
                   "into Decimal('12.50') exactly).")
    if result != expected:
        if result == _revenue(events, skip_v1=True):
            return _no("the USD total is missing the V1 payments. A V1 event has no currency field, but it is a "
                       "payment in USD: count it.")
        if result == _revenue(events, v3_scale=lambda currency: 0):
            return _no("the V3 amounts are counted in minor units (cents as if they were dollars). Divide "
                       "amount_minor by 10 ** MINOR_UNITS[currency].")
        if result == _revenue(events, v3_scale=lambda currency: 2):
            return _no("JPY is off by a factor of 100: the yen has no minor unit (MINOR_UNITS['JPY'] == 0). "
                       "Use the currency's own exponent, not a fixed 100.")
        wrong = sorted(c for c in set(result) | set(expected) if result.get(c) != expected.get(c))
        return _no(f"the totals differ for {wrong}: expected {_money_dict(expected, wrong)}, "
                   f"you returned {_money_dict(result, wrong)}. Check each version's case.")
    future = [_payment(1, 4, {"order_id": "40000", "amount": Decimal("10.00"), "currency": "EUR",
                              "method": "invoice"})]
    try:
        revenue_by_currency(future)
    except Exception:
        return _ok(f"V1, V2 and V3 payments add up to {_money_dict(expected, sorted(expected))}, and a V4 it "
                   "cannot know makes it fail loudly. Every reader written this way must learn every new version.")
    return _no("the totals are right, but given an OrderPaid V4 your function returned normally. A versioned "
               "handler that meets a version it does not know must raise (e.g. ValueError): skipping or guessing "
               "would report wrong revenue without anyone noticing.")


def _money_dict(totals: dict[str, Any], currencies: list[str]) -> str:
    return "{" + ", ".join(f"{c}: {totals.get(c, '—')}" for c in currencies) + "}"


# -- 01 · CQRS ----------------------------------------------------------------------------------

import random  # noqa: E402  (each section keeps its own imports)
from collections.abc import Mapping  # noqa: E402
from decimal import Decimal  # noqa: E402

import duckdb  # noqa: E402

from .examples.catalog import Catalog, Product, UpdateProductPrice  # noqa: E402
from .ids import seeded_ids  # noqa: E402

PRICE_EVENTS = ("ProductCreated", "ProductPriceUpdated")


def _catalog_log(seed: int) -> tuple[EventStore, dict[str, Decimal], dict[str, list[tuple[Decimal, Decimal]]]]:
    """A fresh relayed catalog log: products, reviews, sales and price changes, in a random mix.

    Returns the store, each product's current price (from the write model) and
    each product's price changes as ``(old, new)`` pairs, in order.
    """
    rng = random.Random(seed)
    store = _fresh_store()
    changes: dict[str, list[tuple[Decimal, Decimal]]] = {}
    with Catalog(price_managers={"pat"}, id_factory=seeded_ids(seed)) as catalog:
        ids = [f"sku-{rng.randrange(100, 999)}-{n}" for n in range(4)]
        for product_id in ids:
            price = Decimal(rng.randrange(500, 9000)) / 100
            catalog.create_product(Product(product_id, f"Item {product_id}", "", price, inventory=50))
            changes[product_id] = []
        # ids[0] changes price twice, ids[1] and ids[3] once, ids[2] never; reviews and sales in between
        for product_id in [ids[0], ids[1], ids[0], ids[3]]:
            catalog.add_review(product_id, "kim", rng.randint(1, 5), "ok")
            catalog.sell(product_id, rng.randint(1, 3))
            old = catalog.get(product_id).price
            new = (old * Decimal(rng.choice(["0.8", "0.9", "1.1", "1.25"]))).quantize(Decimal("0.01"))
            catalog.update_product_price(UpdateProductPrice(product_id, new, user="pat"))
            changes[product_id].append((old, new))
        catalog.sell(ids[2], 2)
        catalog.relay_outbox(store)
        prices = {product_id: catalog.get(product_id).price for product_id in ids}
    return store, prices, changes


def check_price_list(price_list: Callable[[list], Any]) -> Feedback:
    """Exercise 01.1: ``price_list(events)`` folds the relayed catalog log into ``{product_id: price}``.

    The check runs it on a fresh log of its own (other products, other
    prices, reviews and sales mixed in) and compares with the write model.
    """
    if _not_done(price_list) or not callable(price_list):
        return _no("define price_list(events) first: it takes a list of recorded events and returns a dict.")
    store, prices, changes = _catalog_log(seed=101)
    events = store.read_all()
    try:
        answer = price_list(events)
    except Exception as exc:  # noqa: BLE001  (any error is feedback, not a crash)
        try:
            price_list([e for e in events if e.type in PRICE_EVENTS])
        except Exception:  # noqa: BLE001
            return _no(f"your function raised {exc!r}. Read prices from event.data: data['price'] in "
                       "ProductCreated, data['new_price'] in ProductPriceUpdated.")
        return _no(f"your function raised {exc!r} on a log that also holds ReviewAdded and ProductSold events. "
                   "A view reads the whole log: skip the event types it does not need (if event.type == ...).")
    if not isinstance(answer, Mapping):
        return _no(f"return a dict {{product_id: price}}, got {type(answer).__name__}.")
    missing = [p for p in prices if p not in answer]
    never_changed = [p for p in missing if not changes[p]]
    if never_changed:
        return _no(f"{never_changed[0]} is missing. Its price never changed, so the only event that states it "
                   "is ProductCreated (data['price']): handle that event type too.")
    if missing or set(answer) != set(prices):
        return _no(f"the keys should be the product ids in the log, {sorted(prices)}; got {sorted(answer, key=str)}.")
    floats = [p for p in prices if isinstance(answer[p], float)]
    if floats:
        return _no(f"{floats[0]}: got the float {answer[floats[0]]!r}. Keep prices as Decimal, as the events hold "
                   "them (floats cannot hold 19.99 exactly).")
    wrong = [p for p in prices if answer[p] != prices[p]]
    if not wrong:
        return _ok(f"your view agrees with the write model for all {len(prices)} products, on a log of "
                   f"{len(events)} events you had never seen.")
    created = {p: (changes[p][0][0] if changes[p] else prices[p]) for p in prices}
    if all(answer[p] == created[p] for p in prices):
        return _no("every product still has the price it was created with: apply ProductPriceUpdated too "
                   "(its data['new_price']).")
    if any(len(changes[p]) == 1 and answer[p] == changes[p][0][0] for p in prices):
        product_id = next(p for p in prices if len(changes[p]) == 1 and answer[p] == changes[p][0][0])
        return _no(f"{product_id}: got {answer[product_id]}, the price BEFORE its change. ProductPriceUpdated has "
                   "old_price and new_price; the view wants new_price.")
    if any(len(changes[p]) > 1 and answer[p] == changes[p][0][1] for p in prices):
        product_id = next(p for p in prices if len(changes[p]) > 1 and answer[p] == changes[p][0][1])
        return _no(f"{product_id}: got {answer[product_id]}, the price after its FIRST change, but it changed again "
                   "later. Apply the events in log order and let each update overwrite the last.")
    return _no(f"{wrong[0]}: expected {prices[wrong[0]]} (what the write model says), got {answer[wrong[0]]}.")


OUTBOX_SCHEMA = """
CREATE TABLE products (id VARCHAR PRIMARY KEY, price DECIMAL(18, 2) NOT NULL);
CREATE SEQUENCE outbox_seq;
CREATE TABLE outbox (seq BIGINT PRIMARY KEY DEFAULT nextval('outbox_seq'), type VARCHAR NOT NULL,
                     product_id VARCHAR NOT NULL, old_price DECIMAL(18, 2) NOT NULL,
                     new_price DECIMAL(18, 2) NOT NULL);
"""


def outbox_exercise_db(products: Mapping[str, Decimal] | None = None) -> duckdb.DuckDBPyConnection:
    """Exercise 01.2's database: a ``products`` table (id, price) and an ``outbox`` table, in memory.

    ``outbox`` columns: ``seq`` (filled in for you), ``type``, ``product_id``,
    ``old_price``, ``new_price``. Default products: p-1 at 40.00, p-2 at 12.50.
    """
    con = duckdb.connect(":memory:")
    con.execute(OUTBOX_SCHEMA)
    for product_id, price in (products or {"p-1": Decimal("40.00"), "p-2": Decimal("12.50")}).items():
        con.execute("INSERT INTO products VALUES (?, ?)", [product_id, price])
    return con


class _SimulatedCrash(Exception):
    """The check pulls the plug between two writes."""


class _CrashOnSecondWrite:
    """Wraps a connection; the second INSERT/UPDATE/DELETE raises, as if the process died right there."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con, self.writes = con, 0

    def _count(self, sql: Any) -> None:
        if isinstance(sql, str) and sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            self.writes += 1
            if self.writes == 2:
                raise _SimulatedCrash("the process died between the two writes")

    def execute(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        self._count(sql)
        return self._con.execute(sql, *args, **kwargs)

    def sql(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        self._count(sql)
        return self._con.sql(sql, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        con.begin()
    except duckdb.TransactionException:
        return True
    con.rollback()
    return False


def _outbox_state(con: duckdb.DuckDBPyConnection, product_id: str) -> tuple[Decimal, list[tuple]]:
    (price,) = con.execute("SELECT price FROM products WHERE id = ?", [product_id]).fetchone()
    rows = con.execute("SELECT type, product_id, old_price, new_price FROM outbox ORDER BY seq").fetchall()
    return price, rows


def check_change_price(change_price: Callable[..., Any]) -> Feedback:
    """Exercise 01.2: ``change_price(con, product_id, new_price)`` updates the product and writes the outbox
    in ONE transaction, so a crash between the two writes leaves neither.

    The check runs it twice on fresh databases of its own: once normally, and
    once pulling the plug on its second write.
    """
    if _not_done(change_price) or not callable(change_price):
        return _no("define change_price(con, product_id, new_price) first.")
    old, new = Decimal("9.50"), Decimal("8.75")
    products = {"lamp-7": Decimal("64.00"), "mug-3": old}
    con = outbox_exercise_db(products)
    try:
        change_price(con, "mug-3", new)
    except Exception as exc:  # noqa: BLE001
        return _no(f"change_price(con, 'mug-3', Decimal('8.75')) raised {exc!r}.")
    try:
        if _in_transaction(con):
            return _no("your function began a transaction and never committed it: end with con.commit().")
        price, rows = _outbox_state(con, "mug-3")
        (other,) = con.execute("SELECT price FROM products WHERE id = 'lamp-7'").fetchone()
    except duckdb.ConnectionException:
        return _no("the connection was closed by your function. In DuckDB `with con:` closes the connection "
                   "(it does not open a transaction as sqlite3 does): use con.begin() ... con.commit().")
    if other != products["lamp-7"]:
        return _no("another product's price changed too: update only WHERE id = ?.")
    if price != new:
        return _no(f"the products table still says {price} for mug-3; UPDATE products SET price = ? WHERE id = ?.")
    if not rows:
        return _no("the price changed but the outbox is empty: nobody (no read view, no other service) will ever "
                   "hear about it. INSERT a ProductPriceUpdated row into the outbox as well.")
    if len(rows) != 1:
        return _no(f"one price change should write one outbox row, found {len(rows)}.")
    expected = ("ProductPriceUpdated", "mug-3", old, new)
    if rows[0] != expected:
        names = ("type", "product_id", "old_price", "new_price")
        wrong = [f"{n}={got!r} (expected {want!r})" for n, got, want in zip(names, rows[0], expected) if got != want]
        return _no("the outbox row is not quite right: " + ", ".join(wrong) + ". old_price is the price before the change.")

    con = outbox_exercise_db(products)
    crashing = _CrashOnSecondWrite(con)
    try:
        change_price(crashing, "mug-3", new)
    except Exception:  # noqa: BLE001  (the crash we caused, or what the learner turned it into)
        pass
    if crashing.writes < 2:
        return _no("the check could not interrupt your function between its two writes: run both statements "
                   "through con.execute(...) on the connection you are given.")
    if _in_transaction(con):
        con.rollback()  # the process died: the database throws away what was not committed
    price, rows = _outbox_state(con, "mug-3")
    if price == new and not rows:
        return _no("when the process died between your two writes, the price had changed and the event was lost: "
                   "the dual-write problem. Do both in ONE transaction: con.begin(), both statements, con.commit() "
                   "(con.rollback() if anything fails).")
    if price == old and rows:
        return _no("when the process died between your two writes, the outbox announced a price change that never "
                   "happened. Do both in ONE transaction: con.begin(), both statements, con.commit().")
    if price != old or rows:
        return _no(f"after the crash the database holds price {price} and {len(rows)} outbox rows; a crash must "
                   "leave both untouched. Do both writes in ONE transaction.")
    return _ok("the price and its event are written together or not at all: after a crash between the two writes "
               "there was neither. A relay can now publish the outbox at leisure.")


# -- 04 · Aggregates ------------------------------------------------------------------------------
# This section's own imports (the file is shared; each section keeps its imports with it).

from datetime import datetime, timedelta, timezone  # noqa: E402
from decimal import Decimal  # noqa: E402

from .aggregate import DomainError  # noqa: E402
from .domain import EventRegistry  # noqa: E402
from .events import AppendResult  # noqa: E402
from .examples.orders import ItemAdded, Order, OrderCreated, OrderPaid, OrderSubmitted  # noqa: E402
from .repository import Repository  # noqa: E402
from .tables import format_value  # noqa: E402

_SUBMITTED_AT = datetime(2024, 1, 5, 12, tzinfo=timezone.utc)


def _order_for_coupons(cls: type, order_id: str, items: list[tuple[str, str, int]]) -> Any:
    order = cls.create(order_id, customer="c-7")
    for sku, price, quantity in items:
        order.add_item(sku, Decimal(price), quantity)
    return order


def _refusal_problem(order: Any, what: str, code: str, amount: Decimal) -> str | None:
    """None if apply_coupon(code, amount) is refused with DomainError and records nothing; else the hint."""
    before = len(order.pending_events)
    try:
        order.apply_coupon(code, amount)
    except DomainError:
        if len(order.pending_events) != before:
            return (f"{what} was refused, but only after recording a CouponApplied event. A command validates "
                    "first and records last, so a refused command leaves no trace.")
        return None
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        return (f"{what} raised {type(exc).__name__}({exc}); raise DomainError instead. Callers catch "
                "DomainError to tell a refused command (show it to the user) from a bug (fix the code).")
    return f"{what} was accepted. apply_coupon must refuse it with DomainError."


def check_coupon_order(CouponOrder: Any) -> Feedback:  # noqa: N803 - the learner's class
    """Exercise 04.1: an Order with a coupon command that validates, records, and changes state only in apply.

    The check runs the learner's class on orders of its own: a valid coupon,
    each rule (after submit or payment, a second coupon, zero, more than the
    total), a replay of the recorded events into a blank order, and a save
    and load through a real store.
    """
    if _not_done(CouponOrder) or not isinstance(CouponOrder, type):
        return _no("define the class first: class CouponOrder(Order): ...")
    if not issubclass(CouponOrder, Order):
        return _no("CouponOrder must extend Order (class CouponOrder(Order): ...), so it keeps the order's "
                   "commands and rules and only adds the coupon.")
    if not callable(getattr(CouponOrder, "apply_coupon", None)):
        return _no("CouponOrder has no apply_coupon method. Define the command apply_coupon(self, code, amount).")
    items = [("MUG-1", "12.00", 2), ("TEA-3", "8.50", 1)]  # total 32.50
    swallowed = ("your apply swallows the Order's own events. End the match with `case _: super().apply(event)`, "
                 "so Order.apply handles them.")
    try:
        order = CouponOrder.create("C-1", customer="c-7")
    except Exception as exc:  # noqa: BLE001
        return _no(f"CouponOrder.create('C-1', customer='c-7') failed with {type(exc).__name__}: {exc}. Keep "
                   "__init__(self, id) and call super().__init__(id) first.")
    if order.status != "created":
        return _no(f"after CouponOrder.create(...) the order's status is {order.status!r}, not 'created': {swallowed}")
    try:
        for sku, price, quantity in items:
            order.add_item(sku, Decimal(price), quantity)
    except Exception as exc:  # noqa: BLE001
        return _no(f"adding items to a CouponOrder failed with {type(exc).__name__}: {exc}.")
    if order.total != Decimal("32.50"):
        return _no(f"after two items worth 32.50 the total is {order.total}: {swallowed}")
    recorded = len(order.pending_events)
    try:
        order.apply_coupon("SPRING", Decimal("7.50"))
    except DomainError as exc:
        return _no(f"a valid coupon (7.50 off a total of 32.50, before submit) was refused: {exc}. Check your conditions.")
    except TypeError as exc:
        if "has no case for" in str(exc):
            return _no("apply has no case for CouponApplied: record() calls apply, which fell through to Order.apply. "
                       "Add `case CouponApplied(): ...` before `case _: super().apply(event)`.")
        return _no(f"apply_coupon('SPRING', Decimal('7.50')) raised TypeError: {exc}")
    except Exception as exc:  # noqa: BLE001
        return _no(f"apply_coupon('SPRING', Decimal('7.50')) raised {type(exc).__name__}: {exc}")
    new = order.pending_events[recorded:]
    if len(new) != 1:
        return _no(f"a valid coupon should record exactly one event; yours recorded {len(new)}. "
                   "Call self.record(CouponApplied(self.id, code, amount)) once, after the checks.")
    event = new[0]
    if type(event).__name__ != "CouponApplied":
        return _no(f"the coupon recorded a {type(event).__name__}; record a CouponApplied(self.id, code, amount).")
    if (getattr(event, "code", None), getattr(event, "amount", None)) != ("SPRING", Decimal("7.50")):
        return _no(f"the event is {event!r}; it should carry the code and amount the command was given "
                   "(CouponApplied(self.id, code, amount)).")
    if order.total == Decimal("17.50"):
        return _no("the total went down twice (32.50 - 7.50 - 7.50 = 17.50): once in the command and once in apply. "
                   "Change the total only in apply.")
    replayed = CouponOrder(order.id)
    replayed.replay(list(order.pending_events), version=len(order.pending_events))
    live, again = order.snapshot_state(), replayed.snapshot_state()
    if live != again:
        differs = {k: (live.get(k), again.get(k)) for k in sorted(set(live) | set(again)) if live.get(k) != again.get(k)}
        shown = "; ".join(f"{k}: live {format_value(a)}, replayed {format_value(b)}" for k, (a, b) in differs.items())
        return _no(f"replaying the same events into a blank CouponOrder gives a different order ({shown}). The "
                   "command changed the state itself; a load would lose that change. Only record in the command, "
                   "and make every state change in apply, which runs for new and for replayed events alike.")
    if order.total != Decimal("25.00"):
        return _no(f"after 7.50 off 32.50 the total is {order.total}, expected 25.00: in apply, lower self.total by "
                   "event.amount.")
    if getattr(order, "coupon", None) != "SPRING":
        return _no(f"after the coupon, order.coupon is {getattr(order, 'coupon', None)!r}; apply should set it to the "
                   "event's code ('SPRING').")
    submitted = _order_for_coupons(CouponOrder, "C-2", items)
    submitted.submit(at=_SUBMITTED_AT)
    paid = _order_for_coupons(CouponOrder, "C-3", [("BAG-9", "40.00", 1)])
    paid.submit(at=_SUBMITTED_AT)
    paid.pay()
    cases = [
        (order, "a second coupon on the same order", "AGAIN", Decimal("1.00")),
        (submitted, "a coupon on a submitted order", "LATE", Decimal("1.00")),
        (paid, "a coupon on a paid order", "LATER", Decimal("1.00")),
        (_order_for_coupons(CouponOrder, "C-4", [("PEN-2", "2.50", 3)]), "a coupon of 0.00", "ZERO", Decimal("0.00")),
        (_order_for_coupons(CouponOrder, "C-5", [("PEN-2", "2.50", 3)]), "a coupon of -5.00", "MINUS", Decimal("-5.00")),
        (_order_for_coupons(CouponOrder, "C-6", [("PEN-2", "2.50", 3)]), "a coupon of 7.51 on a total of 7.50", "BIG",
         Decimal("7.51")),
    ]
    for target, what, code, amount in cases:
        problem = _refusal_problem(target, what, code, amount)
        if problem:
            return _no(problem)
    registry = EventRegistry()
    for cls in (OrderCreated, ItemAdded, OrderSubmitted, OrderPaid, type(event)):
        registry.register(cls)
    with _fresh_store() as store:
        repository = Repository(store, CouponOrder, registry=registry)
        repository.save(order)
        loaded = repository.load(order.id)
        if loaded.snapshot_state() != order.snapshot_state():
            return _no(f"saved and loaded again, the order is {loaded.snapshot_state()} instead of "
                       f"{order.snapshot_state()}. State must come only from the events.")
    return _ok("the coupon command validates first and records one CouponApplied; apply changes the total, so a "
               "replay (and a load from the store) gives the same order; a second coupon, a coupon after submit or "
               "payment, and amounts of zero or more than the total are refused with nothing recorded.")


def _clerk(store: EventStore, order_id: str, command: Callable[[Order], None]) -> None:
    """Another user, with a repository of their own, runs ``command`` on the order and saves it."""
    other = Repository(store, Order)
    order = other.load(order_id)
    command(order)
    other.save(order)


def _interfere(orders: Repository, action: Callable[[], None], times: int) -> list[int]:
    """Patch ``orders.load``: after each of the first ``times`` loads, ``action`` runs. Returns the load count."""
    real_load, loads = orders.load, [0]

    def load(*args: Any, **kwargs: Any) -> Any:
        loads[0] += 1
        if loads[0] > 20:
            raise _RunawayLoop()
        aggregate = real_load(*args, **kwargs)
        if loads[0] <= times:
            action()
        return aggregate

    orders.load = load  # type: ignore[method-assign]
    return loads


def _seed_order(store: EventStore, order_id: str, *, submit: bool) -> None:
    order = Order.create(order_id, customer="c-9")
    order.add_item("BOOK-1", Decimal("25.00"), 2)
    if submit:
        order.submit(at=_SUBMITTED_AT)
    Repository(store, Order).save(order)


def check_execute(execute: Any) -> Feedback:
    """Exercise 04.2: ``execute(orders, order_id, command, attempts=3)``, the command handler with retries.

    Three scenarios on a store of the check's own: another clerk adds an item
    between the learner's load and save (the retry must run the command on
    the new state); another clerk pays first (the retry must let the order's
    DomainError through, so the order is paid once); and a clerk who always
    gets in first (give up after ``attempts`` with ConflictError).
    """
    if _not_done(execute) or not callable(execute):
        return _no("define execute(orders, order_id, command, attempts=3) first.")
    tea = Decimal("8.00")
    with _fresh_store() as store:
        _seed_order(store, "A-1", submit=False)
        orders = Repository(store, Order)
        loads = _interfere(orders, lambda: _clerk(store, "A-1", lambda o: o.add_item("MUG-1", Decimal("12.00"))), 1)
        try:
            result = execute(orders, "A-1", lambda order: order.add_item("TEA-3", tea))
        except ConflictError:
            return _no("another clerk added an item between your load and your save, and the ConflictError escaped. "
                       "Catch it, load the order again, run the command on the new order, save again.")
        except _RunawayLoop:
            return _no("your function kept loading the order (more than 20 times) after one conflict. Load, run the "
                       "command, save; go round again only on ConflictError.")
        except TypeError as exc:
            return _no(f"call signature mismatch ({exc}). Use execute(orders, order_id, command, attempts=3), and "
                       "call command(order) with the loaded order.")
        items = [e for e in store.read("Order-A-1") if e.type == "ItemAdded"]
        mine = [e for e in items if e.data["sku"] == "TEA-3"]
        if not mine:
            return _no("nothing of yours was saved: after command(order), call orders.save(order).")
        if len(mine) > 1:
            return _no(f"the command was saved {len(mine)} times; save once per successful attempt.")
        expected_total = [e for e in items if e.version < mine[0].version][-1].data["new_total"] + tea
        if mine[0].data["new_total"] != expected_total:
            return _no(f"your ItemAdded says new_total={mine[0].data['new_total']}, but after the other clerk's item "
                       f"the total was {expected_total - tea} + {tea} = {expected_total}. The retry saved a decision "
                       "made on the old order. Load the order again inside the loop and run the command on it.")
        if loads[0] < 2:
            return _no("your function saved without loading the order again after the conflict; load it again "
                       "inside the loop.")
        if not isinstance(result, AppendResult):
            return _no(f"it worked, but execute returned {result!r}; return what orders.save(order) returns (an "
                       "AppendResult), so the caller knows the new version and position.")
    with _fresh_store() as store:
        _seed_order(store, "B-1", submit=True)
        orders = Repository(store, Order)
        _interfere(orders, lambda: _clerk(store, "B-1", lambda o: o.pay()), 1)
        try:
            execute(orders, "B-1", lambda order: order.pay())
        except DomainError:
            pass
        except ConflictError:
            return _no("when another clerk paid first, your function let ConflictError escape. Reload and run pay() "
                       "again: the order itself will then refuse, because it is already paid.")
        except _RunawayLoop:
            return _no("when another clerk paid first, your function kept retrying. A DomainError is the order's "
                       "answer; let it reach the caller instead of trying again.")
        else:
            payments = [e for e in store.read("Order-B-1") if e.type == "OrderPaid"]
            if len(payments) > 1:
                return _no(f"the order was paid {len(payments)} times! Your retry saved pay() decided on the stale "
                           "order. Load the order again inside the loop and run the command on it.")
            return _no("another clerk paid first; on the retry the order refused (it is already paid), but your "
                       "function returned as if it had worked. Let DomainError reach the caller: a broken rule is an "
                       "answer, and retrying cannot change it.")
    with _fresh_store() as store:
        _seed_order(store, "C-1", submit=False)
        orders = Repository(store, Order)
        loads = _interfere(orders, lambda: _clerk(store, "C-1", lambda o: o.add_item("PEN-2", Decimal("2.50"))), 99)
        try:
            execute(orders, "C-1", lambda order: order.add_item("TEA-3", tea), attempts=3)
        except ConflictError:
            if loads[0] != 3:
                return _no(f"with attempts=3 your function loaded the order {loads[0]} times; try exactly `attempts` "
                           "times, then re-raise.")
        except _RunawayLoop:
            return _no("with a clerk who always gets in first, your function retries forever. After `attempts` "
                       "tries, re-raise the ConflictError.")
        else:
            return _no("when every attempt conflicts, your function returned normally. After `attempts` tries, "
                       "re-raise the ConflictError so the caller knows nothing was saved.")
    return _ok("it loads, runs the command, and saves with the loaded version; on a conflict it runs the command "
               "again on the reloaded order (so the order was paid only once), lets the order's DomainError through, "
               "and gives up after `attempts` conflicts.")


# -- 11 · Interview prep --------------------------------------------------------------------------
# This section's own imports (the file is shared; each section keeps its own imports).

import random  # noqa: E402
import uuid  # noqa: E402
from decimal import Decimal  # noqa: E402

from .events import RecordedEvent  # noqa: E402

READ_PLANS = ("view", "wait", "write model")  # what exercise 11.1's read_plan may answer


def _right_read_plan(checkpoint: int, required: int | None, waited_s: float, max_wait_s: float) -> str:
    if required is None or checkpoint >= required:
        return "view"
    return "wait" if waited_s < max_wait_s else "write model"


def _read_plan_cases(rng: random.Random) -> list[tuple[int, int | None, float, float]]:
    """(view_checkpoint, required_position, waited_s, max_wait_s): every branch and both edges."""
    cases = []
    for _ in range(3):
        required = rng.randrange(50, 5000)
        budget = rng.choice([0.2, 0.5, 2.0])
        cases += [
            (required + rng.randrange(1, 40), required, 0.0, budget),       # the view is past the write
            (required, required, 0.0, budget),                               # exactly at it
            (rng.randrange(0, 40), None, 0.0, budget),                       # nothing written this session
            (required - rng.randrange(1, 40), required, budget / 4, budget),  # behind, time left
            (required - 1, required, budget, budget),                        # behind, budget just spent
            (required - rng.randrange(1, 40), required, budget * 3, budget),  # behind, long past the budget
        ]
    return cases


def check_read_plan(read_plan: Callable[..., str]) -> Feedback:
    """Exercise 11.1: read-your-writes. ``read_plan(view_checkpoint, required_position, waited_s, max_wait_s)``.

    Returns ``"view"`` when the view has applied the position the user wrote
    at (or the user wrote nothing: ``required_position is None``), ``"wait"``
    while ``waited_s < max_wait_s``, and ``"write model"`` once the budget is
    spent (read the aggregate from the event store instead).
    """
    if _not_done(read_plan) or not callable(read_plan):
        return _no("define read_plan(view_checkpoint, required_position, waited_s, max_wait_s) first.")
    cases = _read_plan_cases(random.Random(11))
    for checkpoint, required, waited, budget in cases:
        expected = _right_read_plan(checkpoint, required, waited, budget)
        try:
            got = read_plan(checkpoint, required, waited, budget)
        except TypeError as exc:
            if required is None:
                return _no(f"with required_position=None your function raised {exc!r}. None means the user wrote "
                           "nothing in this session: any view is recent enough, return 'view'.")
            return _no(f"your function raised {exc!r}; call signature: read_plan(view_checkpoint, "
                       "required_position, waited_s, max_wait_s).")
        except Exception as exc:  # a learner's bug: report it, never raise from a check
            return _no(f"read_plan({checkpoint}, {required}, {waited}, {budget}) raised {exc!r}.")
        if got == expected:
            continue
        call = f"read_plan({checkpoint}, {required}, {waited}, {budget})"
        if got not in READ_PLANS:
            return _no(f"{call} returned {got!r}; return one of {', '.join(repr(p) for p in READ_PLANS)}.")
        if required is None:
            return _no(f"{call} returned {got!r}. None means the user wrote nothing in this session: any view is "
                       "recent enough, return 'view'.")
        if checkpoint == required:
            return _no(f"{call} returned {got!r}, but the view's checkpoint equals the position of the write. A "
                       "checkpoint is the position of the last event the view has applied, so the write is in the "
                       "view: use >=, not >.")
        if checkpoint > required:
            return _no(f"{call} returned {got!r}: the view is already past the write, serve it.")
        if got == "view":
            return _no(f"{call} returned 'view', but the view has applied only up to {checkpoint} and the write is at "
                       f"{required}: the user would not see their own change.")
        if waited < budget:
            return _no(f"{call} returned 'write model' at once. The view is usually only milliseconds behind; "
                       "wait while waited_s < max_wait_s, and fall back only when the budget is spent.")
        try:
            forever = read_plan(checkpoint, required, budget * 100, budget) == "wait"
        except Exception:  # only a probe for the hint; the answer is wrong either way
            forever = False
        if waited == budget and not forever:
            return _no(f"{call} returned 'wait', but the budget is spent at waited_s == max_wait_s: fall back to "
                       "the write model (wait only while waited_s < max_wait_s).")
        return _no(f"{call} returned 'wait' long after the budget ran out: a read that waits for ever is an outage. "
                   "Once waited_s >= max_wait_s, read from the write model.")
    return _ok(f"on {len(cases)} situations it serves the view once the checkpoint has reached the write "
               "(equal counts), waits while the budget lasts, then reads from the write model.")


def _payments_delivered_at_least_once(rng: random.Random) -> tuple[list[RecordedEvent], list[int]]:
    """Twelve OrderPaid events at positions with holes, and a delivery order with redeliveries."""
    positions = sorted(rng.sample(range(1, 90), 12))
    events = [RecordedEvent(position, f"Order-{50000 + n}", 4, "OrderPaid", 2,
                            {"order_id": str(50000 + n), "amount": Decimal(rng.randrange(500, 30000)) / 100,
                             "currency": "USD"}, {}, uuid.UUID(int=position),
                            datetime(2024, 6, 1, 9, tzinfo=timezone.utc) + timedelta(minutes=position))
              for n, position in enumerate(positions)]
    # A batch of five; a crash, so the runner redelivers from the fourth; a duplicate of the ninth; the rest.
    order = [0, 1, 2, 3, 4, 3, 4, 5, 6, 7, 8, 8, 9, 10, 11]
    return events, order


def _simulate(events: list[RecordedEvent], order: list[int], skip: Callable[[int, int], bool]) -> Decimal:
    checkpoint, revenue = 0, Decimal("0")
    for i in order:
        if skip(events[i].position, checkpoint):
            continue
        revenue += events[i].data["amount"]
        checkpoint = events[i].position
    return revenue


def check_idempotent_handler(apply_payment: Callable[[dict[str, Any], RecordedEvent], Any]) -> Feedback:
    """Exercise 11.2: a revenue handler that applies each event once although events arrive at least once.

    ``apply_payment(view, event)`` gets ``view = {"checkpoint": int, "revenue":
    Decimal}`` and a ``RecordedEvent``; it changes ``view`` in place (or
    returns the new view dict). The check delivers payments with a
    redelivered batch and a duplicate, at positions with holes.
    """
    if _not_done(apply_payment) or not callable(apply_payment):
        return _no("define apply_payment(view, event) first.")
    events, order = _payments_delivered_at_least_once(random.Random(111))
    view: dict[str, Any] = {"checkpoint": 0, "revenue": Decimal("0")}
    for i in order:
        try:
            returned = apply_payment(view, events[i])
        except Exception as exc:  # a learner's bug: report it, never raise from a check
            return _no(f"apply_payment raised {exc!r} on the event at position {events[i].position}. The view is a "
                       "dict {'checkpoint': int, 'revenue': Decimal}; the amount is event.data['amount'].")
        if isinstance(returned, dict):
            view = returned
    expected = sum((e.data["amount"] for e in events), Decimal("0"))
    revenue, checkpoint = view.get("revenue"), view.get("checkpoint")
    if isinstance(revenue, float):
        return _no("the revenue is a float: add Decimals.")
    if revenue == expected and checkpoint == events[-1].position:
        return _ok(f"{len(order)} deliveries of {len(events)} events, revenue {expected}: each event counted once, "
                   "and the checkpoint moved with the revenue.")
    holes = ", ".join(str(e.position) for e in events[:4])
    if checkpoint == 0 and revenue == 0:
        return _no(f"nothing was applied: the revenue is still 0. If you apply only position == checkpoint + 1: a view "
                   f"receives only the types it handles, so positions have holes (here {holes}, ...); skip only what "
                   "is <= checkpoint.")
    if checkpoint == 0:
        return _no("view['checkpoint'] never moved. After applying an event, set it to event.position, in the same "
                   "step as the revenue (in a database: the same transaction); it is how the view knows what it has "
                   "done.")
    if revenue == _simulate(events, order, lambda position, cp: False):
        return _no(f"the revenue counts every delivery ({revenue} instead of {expected}). Delivery is at least once: "
                   "skip an event whose position is <= view['checkpoint'].")
    if revenue == _simulate(events, order, lambda position, cp: position < cp):
        return _no(f"the event AT the checkpoint was counted again ({revenue} instead of {expected}). The checkpoint is "
                   "the position of the last event applied, so skip position <= checkpoint, not < .")
    if revenue == _simulate(events, order, lambda position, cp: position != cp + 1):
        return _no(f"you applied only the event at checkpoint + 1 ({revenue} instead of {expected}). A view receives "
                   f"only the types it handles, so positions have holes (here {holes}, ...): skip only what is "
                   "<= checkpoint.")
    return _no(f"after all deliveries the view holds revenue={revenue!r}, checkpoint={checkpoint!r}; expected "
               f"revenue={expected}, checkpoint={events[-1].position}.")


# -- 02 · Event sourcing -------------------------------------------------------------------------

from datetime import datetime as _datetime  # noqa: E402  (each section keeps its own imports)

from .examples.bank import Account  # noqa: E402
from .repository import AggregateNotFoundError, Repository  # noqa: E402

_UTC = timezone.utc


def _account_log(account_id: str, opening: Decimal, moves: list[tuple[_datetime, str, Decimal]],
                 opened_at: _datetime) -> tuple[EventStore, list, Repository]:
    """A fresh store holding one account: opened at ``opened_at``, then ``(time, "deposit"|"withdraw", amount)``."""
    clock = FakeClock(opened_at)
    store = EventStore(clock=clock)
    accounts = Repository(store, Account)
    account = Account.open(account_id, owner="Grace Hopper", opening_balance=opening)
    accounts.save(account)
    for when, command, amount in moves:
        clock.set(when)
        getattr(account, command)(amount)
        accounts.save(account)
    return store, store.read(f"Account-{account_id}"), accounts


def check_balance_fold(balance_after: Callable[[Any, Any], Any]) -> Feedback:
    """Exercise 02.1: ``balance_after(balance, event)`` is one step of the replay, for recorded events.

    The check folds a fresh account's events (an opening balance that is not
    zero, deposits and withdrawals with cents) from ``Decimal("0")`` and
    compares with the ``Account`` aggregate at every step.
    """
    if _not_done(balance_after) or not callable(balance_after):
        return _no("define balance_after(balance, event) first: it returns the balance after one event.")
    day = datetime(2024, 2, 1, 9, tzinfo=_UTC)
    moves = [(day + timedelta(days=1), "deposit", Decimal("310.40")), (day + timedelta(days=2), "withdraw", Decimal("72.15")),
             (day + timedelta(days=4), "deposit", Decimal("18.00")), (day + timedelta(days=7), "withdraw", Decimal("200.00"))]
    store, events, accounts = _account_log("77", Decimal("25.00"), moves, day)
    balance: Any = Decimal("0")
    for event in events:
        before = balance
        try:
            balance = balance_after(balance, event)
        except Exception as exc:  # noqa: BLE001
            return _no(f"at version {event.version} ({event.type}) your function raised {exc!r}. The amount is "
                       "event.data['amount'] (event.data['opening_balance'] for AccountOpened).")
        expected = accounts.load("77", at_version=event.version).balance
        if balance is None:
            return _no(f"your function returned None after {event.type}: return the new balance.")
        if isinstance(balance, float):
            return _no(f"after {event.type} you returned the float {balance!r}. Keep money in Decimal, as the events "
                       "hold it.")
        if balance == expected:
            continue
        if event.type == "AccountOpened":
            return _no(f"after AccountOpened(opening_balance={event.data['opening_balance']}) the balance is "
                       f"{expected}, you have {balance}: an account opens with its opening balance.")
        amount = event.data.get("amount")
        if event.type == "MoneyWithdrawn" and amount is not None and balance == before + amount:
            return _no(f"a withdrawal of {amount} took the balance from {before} to {balance}: it must go down.")
        if event.type == "MoneyDeposited" and amount is not None and balance == before - amount:
            return _no(f"a deposit of {amount} took the balance from {before} to {balance}: it must go up.")
        return _no(f"after version {event.version} ({event.type} {event.data}) the balance should be {expected}, "
                   f"your fold says {balance}.")
    return _ok(f"your fold agrees with the Account aggregate at every one of {len(events)} steps of an account "
               "you had never seen: that is all a replay is.")


def check_balance_as_of(balance_as_of: Callable[..., Any]) -> Feedback:
    """Exercise 02.2: ``balance_as_of(store, account_id, when)``: the balance from the events recorded at or before ``when``.

    The check asks about a fresh account at four instants, one of them the
    exact time of an event (which had happened by then).
    """
    if _not_done(balance_as_of) or not callable(balance_as_of):
        return _no("define balance_as_of(store, account_id, when) first.")
    feb = lambda day, hour=9, minute=0: datetime(2024, 2, day, hour, minute, tzinfo=_UTC)  # noqa: E731
    moves = [(feb(3, 12), "deposit", Decimal("500.00")), (feb(10, 8, 30), "withdraw", Decimal("120.50")),
             (feb(10, 17), "deposit", Decimal("40.00")), (feb(20, 11), "withdraw", Decimal("300.00"))]
    store, events, accounts = _account_log("55", Decimal("0"), moves, feb(1))
    now = accounts.load("55").balance
    questions = [(feb(5, 0), Decimal("500.00")), (feb(10, 8, 30), Decimal("379.50")), (feb(10, 12), Decimal("379.50")),
                 (datetime(2024, 3, 1, tzinfo=_UTC), now)]
    for when, expected in questions:
        try:
            answer = balance_as_of(store, "55", when)
        except AggregateNotFoundError as exc:
            return _no(f"your function raised {exc!r}. Load from the store you are given: "
                       "Repository(store, Account).load(account_id, as_of=when).")
        except Exception as exc:  # noqa: BLE001
            return _no(f"balance_as_of(store, '55', {when.isoformat()}) raised {exc!r}.")
        if isinstance(answer, Account):
            return _no("you returned the Account itself; return its balance (account.balance).")
        if answer == expected:
            continue
        if answer == now and when < feb(20, 11):
            return _no(f"as of {when:%d %b %H:%M} you answered {answer}, today's balance. Stop the replay at `when`: "
                       "Repository(store, Account).load(account_id, as_of=when).")
        if when == feb(10, 8, 30) and answer == Decimal("500.00"):
            return _no("at exactly 10 Feb 08:30 a withdrawal of 120.50 was recorded, and by that instant it had "
                       "happened: keep events recorded at or before `when` (<=, not <).")
        return _no(f"as of {when:%Y-%m-%d %H:%M} the balance was {expected}; your function says {answer}.")
    return _ok("right at all four instants, including one exactly at an event's timestamp.")


def check_find_culprit(find_culprit: Callable[..., Any]) -> Feedback:
    """Exercise 02.3: ``find_culprit(events, buggy_after)`` returns the first event after which a buggy fold
    disagrees with the ``Account`` replay, or ``None`` when they always agree.

    The check plants a bug of its own (withdrawals rounded to whole dollars)
    in a fresh account whose first withdrawal with cents is in the middle of
    the stream, so every later step disagrees too.
    """
    if _not_done(find_culprit) or not callable(find_culprit):
        return _no("define find_culprit(events, buggy_after) first.")
    day = datetime(2024, 3, 1, 9, tzinfo=_UTC)
    moves = [(day + timedelta(days=1), "deposit", Decimal("300.00")), (day + timedelta(days=2), "withdraw", Decimal("40.00")),
             (day + timedelta(days=3), "deposit", Decimal("120.50")), (day + timedelta(days=5), "withdraw", Decimal("60.75")),
             (day + timedelta(days=6), "deposit", Decimal("10.00")), (day + timedelta(days=8), "withdraw", Decimal("20.00"))]
    _, events, _ = _account_log("31", Decimal("0"), moves, day)
    culprit = events[4]                                   # MoneyWithdrawn(60.75), version 5

    def rounds_withdrawals(balance: Decimal, event: Any) -> Decimal:
        if event.type == "AccountOpened":
            return event.data["opening_balance"]
        if event.type == "MoneyDeposited":
            return balance + event.data["amount"]
        return balance - event.data["amount"].to_integral_value()

    def correct(balance: Decimal, event: Any) -> Decimal:
        if event.type == "AccountOpened":
            return event.data["opening_balance"]
        sign = 1 if event.type == "MoneyDeposited" else -1
        return balance + sign * event.data["amount"]

    try:
        found = find_culprit(events, rounds_withdrawals)
    except Exception as exc:  # noqa: BLE001
        return _no(f"find_culprit(events, buggy_after) raised {exc!r}.")
    if isinstance(found, int) and not isinstance(found, bool):
        return _no(f"you returned {found}, a number; return the event itself (the RecordedEvent), so its type, "
                   "data and time can be inspected.")
    if found is None:
        return _no("you returned None, but the buggy fold does disagree with the account from some step on.")
    if found == events[-1] or (getattr(found, "version", 0) > culprit.version):
        return _no(f"you returned the event at version {getattr(found, 'version', '?')}. Once a fold goes wrong, "
                   "every later step is wrong too: return the FIRST event after which the two disagree.")
    if getattr(found, "version", None) == culprit.version - 1:
        return _no("you returned the event just before the culprit. Compare the states AFTER each event: the first "
                   "event whose result differs is the one the bug mishandles.")
    if found != culprit:
        return _no(f"the culprit is the event at version {culprit.version} ({culprit.type} {culprit.data['amount']}); "
                   f"you returned {found!r}.")
    try:
        clean = find_culprit(events, correct)
    except Exception as exc:  # noqa: BLE001
        return _no(f"with a fold that has no bug, your function raised {exc!r}; it should return None.")
    if clean is not None:
        return _no("with a fold that agrees with the account at every step, your function still returned an event; "
                   "return None when there is no disagreement.")
    return _ok(f"found {culprit.type}({culprit.data['amount']}) at version {culprit.version}, the first event the "
               "buggy fold gets wrong, and None for a fold without a bug.")


# -- 07 · Snapshots -------------------------------------------------------------------------------
# This section's own imports (the file is shared; each section keeps its imports with it).

from decimal import Decimal  # noqa: E402

from .examples.bank import Account, MoneyDeposited  # noqa: E402
from .repository import AggregateNotFoundError, Repository  # noqa: E402

# (stream version, snapshots as (version, schema_version), the class's schema_version, at_version, hint)
_REPLAY_CASES = [
    (130, [(120, 1)], 1, None, "load the snapshot, then replay only the events after it"),
    (130, [(40, 1), (80, 1), (120, 1)], 1, None, "use the newest usable snapshot, not the first one"),
    (130, [(60, 1), (120, 2)], 1, None,
     "a snapshot with another schema_version was written for another shape of the state: ignore it"),
    (130, [(60, 2), (120, 1)], 2, None, "the class's own schema_version decides which snapshots fit"),
    (130, [(60, 1), (120, 1)], 1, 90,
     "a load at_version=90 must not use a snapshot from its future (120), and stops at version 90"),
    (25, [], 1, None, "with no usable snapshot, replay everything from event 1"),
    (120, [(120, 1)], 1, None, "the snapshot already covers the last event: there is nothing to replay"),
]


def _shown(versions: list[int]) -> str:
    return "nothing" if not versions else f"{versions[0]}..{versions[-1]}" if len(versions) > 1 else str(versions[0])


def _true_replay(stream_version: int, snapshots: list[tuple[int, int]], schema_version: int,
                 at_version: int | None) -> range:
    """Build the case in a real store and ask the real Repository what a load replays."""
    with _fresh_store() as store:
        accounts = Repository(store, Account)
        account = Account.open("x", owner="Ada")
        for _ in range(stream_version - 1):
            account.deposit(Decimal("1"))
        accounts.save(account)
        for version, schema in snapshots:
            state = accounts.load("x", at_version=version).snapshot_state()
            accounts.snapshots.save("Account-x", version, schema, state)
        shaped = type("AccountShape", (Account,), {"stream_prefix": "Account", "snapshot_version": schema_version})
        plan = Repository(store, shaped).load_plan("x", at_version=at_version)
    return range(plan.version - plan.replayed + 1, plan.version + 1)


def check_events_to_replay(events_to_replay: Any) -> Feedback:
    """Exercise 07.1: ``events_to_replay(stream_version, snapshots, schema_version, at_version=None)``.

    It returns the versions a load replays. Each case is built in a real store
    and answered by the real ``Repository.load_plan``, so the check compares
    the learner's rules with what the code does.
    """
    if _not_done(events_to_replay) or not callable(events_to_replay):
        return _no("define events_to_replay(stream_version, snapshots, schema_version, at_version=None) first.")
    for stream_version, snapshots, schema_version, at_version, hint in _REPLAY_CASES:
        case = (f"a stream at version {stream_version}, snapshots {snapshots} (version, schema_version), "
                f"schema_version={schema_version}" + (f", at_version={at_version}" if at_version else ""))
        try:
            answer = events_to_replay(stream_version, list(snapshots), schema_version, at_version)
        except TypeError as exc:
            return _no(f"calling it failed ({exc}). Use events_to_replay(stream_version, snapshots, schema_version, "
                       "at_version=None).")
        except Exception as exc:  # noqa: BLE001
            return _no(f"for {case} it raised {type(exc).__name__}: {exc}.")
        if isinstance(answer, int) or not hasattr(answer, "__iter__"):
            return _no(f"for {case} it returned {answer!r}. Return the versions to replay, such as "
                       "range(first, last + 1), not how many.")
        versions, expected = list(answer), list(_true_replay(stream_version, snapshots, schema_version, at_version))
        if versions == expected:
            continue
        told = f"For {case} you replay {_shown(versions)}; a load replays {_shown(expected)}."
        if versions and expected and abs(versions[0] - expected[0]) <= 1 and abs(versions[-1] - expected[-1]) <= 1:
            return _no(f"{told} Off by one: the snapshot at version N already contains event N, so replay starts "
                       "at N + 1, and the last version is included: range(N + 1, last + 1).")
        return _no(f"{told} Hint: {hint}.")
    return _ok("your rules agree with Repository.load_plan: the newest snapshot of the class's schema version at or "
               "before the target, then the events after it, up to and including the target.")


def _account_history(store: EventStore) -> tuple[list[Decimal], Decimal]:
    """Account x, written by the OLD code (Account, snapshot_version 1) with a snapshot every 4 events."""
    accounts = Repository(store, Account, snapshot_every=4)
    account = Account.open("x", owner="Ada")
    accounts.save(account)
    deposits = [Decimal(a) for a in ("120.00", "75.50", "910.25", "40.00", "66.10", "12.00", "310.00",
                                     "55.55", "20.00", "81.00", "19.99")]
    for number, amount in enumerate(deposits):
        account.deposit(amount)
        if number == 5:
            account.withdraw(Decimal("500.00"))
        accounts.save(account)
    return deposits, account.balance


def check_account_v2(AccountV2: Any) -> Feedback:  # noqa: N803 - the learner's class
    """Exercise 07.2: a new version of Account with ``largest_deposit``, loading streams with old snapshots.

    The check writes an account with the old ``Account`` (snapshots every 4
    events, schema version 1; the largest deposit long before the newest
    snapshot), then loads it with the learner's class.
    """
    if _not_done(AccountV2) or not isinstance(AccountV2, type):
        return _no("define the class first: class AccountV2(Account): ...")
    if not issubclass(AccountV2, Account):
        return _no("AccountV2 must extend Account (class AccountV2(Account): ...), to keep its commands and apply.")
    if AccountV2.stream_id_for("x") != "Account-x":
        return _no(f"AccountV2 reads the stream {AccountV2.stream_id_for('x')!r}, but the accounts live in 'Account-x'. "
                   "Set stream_prefix = 'Account' so the new class reads the same streams.")
    with _fresh_store() as store:
        deposits, balance = _account_history(store)
        accounts = Repository(store, AccountV2)
        try:
            fresh = AccountV2.open("y", owner="Bo")
            loaded = accounts.load("x")
        except AggregateNotFoundError as exc:
            return _no(f"loading failed: {exc}")
        except Exception as exc:  # noqa: BLE001
            return _no(f"loading the account with AccountV2 raised {type(exc).__name__}: {exc}")
        if getattr(fresh, "largest_deposit", None) != Decimal("0"):
            return _no(f"a new account's largest_deposit is {getattr(fresh, 'largest_deposit', None)!r}; set it to "
                       "Decimal('0') in __init__, after super().__init__(id).")
        if loaded.balance != balance:
            return _no(f"the loaded balance is {loaded.balance}, not {balance}: your apply does not pass every event "
                       "to Account's apply. Call super().apply(event) for all of them.")
        largest, got = max(deposits), loaded.largest_deposit
        plan = accounts.load_plan("x")
        if AccountV2.snapshot_version == Account.snapshot_version or plan.snapshot is not None:
            return _no(f"largest_deposit came out as {got}, but it is {largest}. AccountV2 still has snapshot_version "
                       f"{AccountV2.snapshot_version}, so the load restored the old code's snapshot at version "
                       f"{plan.snapshot}, which has no largest_deposit, and only saw the deposits after it. The "
                       "state's shape changed: bump snapshot_version (to 2).")
        if got == deposits[-1]:
            return _no(f"largest_deposit is {got}, the latest deposit; keep the largest one seen so far: "
                       "max(self.largest_deposit, event.amount).")
        if got != largest:
            return _no(f"largest_deposit is {got}, but the largest deposit was {largest}. In apply, for a "
                       "MoneyDeposited, keep max(self.largest_deposit, event.amount).")
        accounts.take_snapshot(loaded)  # the new code's first snapshot (schema version 2)
        loaded.deposit(Decimal("5.00"))
        accounts.save(loaded)
        again = accounts.load("x")
        if again.largest_deposit != largest or accounts.load_plan("x").snapshot is None:
            return _no(f"after a snapshot by AccountV2 and one more deposit of 5.00, largest_deposit is "
                       f"{again.largest_deposit}, not {largest}. Keep largest_deposit a plain public attribute, so "
                       "the snapshot saves and restores it.")
        old = Repository(store, Account).load("x")
        if old.balance != again.balance:
            return _no("the old Account class no longer loads the stream correctly.")
    return _ok(f"the old snapshots were ignored (full replay), largest_deposit is {largest}, AccountV2's own snapshots "
               "work, and the old Account class still loads the same stream with its own snapshots: old and new code "
               "can run side by side during a deploy.")


# -- 09 · Eventual consistency -------------------------------------------------------------------
# This section's own imports (the file is shared; each section keeps its own imports).

import random  # noqa: E402

from .memory_views import Documents  # noqa: E402
from .projection import Projection  # noqa: E402
from .projection_runner import ProjectionRunner  # noqa: E402


class _EventCount(Projection):
    """The smallest view there is: how many events it has applied. Enough to poll."""

    name = "event_count"

    def default_storage(self) -> Documents:
        return Documents(key="view")

    def handle(self, event: Any, recorded: Any, view: Any) -> None:
        row = view.get("all", {"view": "all", "events": 0})
        view.upsert({**row, "events": row["events"] + 1})


class _UsedWaitFor(Exception):
    pass


class _PolledView:
    """What the learner's function gets as ``view``: a runner's polling API, counting the questions asked."""

    def __init__(self, runner: ProjectionRunner):
        self._runner, self.store, self.name, self.questions = runner, runner.store, runner.name, 0

    @property
    def position(self) -> int:
        return self._runner.position

    def has_reached(self, position: int) -> bool:
        self.questions += 1
        if self.questions > 200:
            raise _RunawayLoop()
        return self._runner.has_reached(position)

    def lag(self) -> Any:
        return self._runner.lag()

    def wait_for(self, *args: Any, **kwargs: Any) -> int:
        raise _UsedWaitFor()


def _busy_shop(projecting: bool) -> tuple[_PolledView, int, Callable[[], None], list[int]]:
    """A log where others keep writing: 4 events by others, then "our" command's 2 events (positions 5-6).

    Each tick, others append 2 more events and (if ``projecting``) the view
    applies one batch of 2. Returns the view, our position, the tick and its counter.
    """
    store = _fresh_store()
    store.append("Order-others", [NewEvent("ItemAdded", {"n": n}) for n in range(4)], expected_version=0)
    position = store.append("Order-12345", [NewEvent("OrderCreated", {}), NewEvent("ItemAdded", {})],
                            expected_version=0).position
    runner = ProjectionRunner(store, _EventCount(), batch_size=2)
    ticks = [0]

    def tick() -> None:
        ticks[0] += 1
        if ticks[0] > 50:
            raise _RunawayLoop()
        store.append("Order-others", [NewEvent("ItemAdded", {}), NewEvent("ItemAdded", {})], expected_version=ANY)
        if projecting:
            runner.run_once()

    return _PolledView(runner), position, tick, ticks


def _poll(wait_by_polling: Callable[..., Any], view: _PolledView, position: int, tick: Callable[[], None],
          ticks: list[int], **kwargs: Any) -> tuple[Any, str | None]:
    """Run the learner's function; returns (its answer, None) or (None, the hint for what went wrong)."""
    try:
        return wait_by_polling(view, position, tick, **kwargs), None
    except _RunawayLoop:
        if not ticks[0]:
            return None, ("your function asks view.has_reached(...) again and again without calling tick() in "
                          "between. Nothing changes between two questions unless time passes: tick() after each no.")
        return None, ("your function never stops polling. Count the ticks and return False after max_polls of "
                      "them: a UI cannot spin forever, it shows 'still processing' and moves on.")
    except _UsedWaitFor:
        return None, ("view.wait_for blocks until a background thread applies the event; nothing here runs in the "
                      "background. Poll instead: ask view.has_reached(position), and call tick() between questions.")
    except TypeError as exc:
        return None, f"call signature mismatch ({exc}). Use wait_by_polling(view, position, tick, max_polls=10)."
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        return None, (f"your function raised {type(exc).__name__}: {exc}. When the view is not there after max_polls "
                      "ticks, return False (the UI then says 'still processing'); do not raise.")


def check_wait_by_polling(wait_by_polling: Callable[..., Any]) -> Feedback:
    """Exercise 09.1: ``wait_by_polling(view, position, tick, max_polls=10) -> bool``, the polling UI.

    Three scenarios on logs of the check's own, where others keep writing:
    the view reaches our position after three ticks (exactly at a batch
    boundary), the view already has it, and the projection is stopped.
    """
    if _not_done(wait_by_polling) or not callable(wait_by_polling):
        return _no("define wait_by_polling(view, position, tick, max_polls=10) first.")
    view, position, tick, ticks = _busy_shop(projecting=True)
    answer, problem = _poll(wait_by_polling, view, position, tick, ticks)
    if problem:
        return _no(problem)
    if answer is not True and answer is not False:
        return _no(f"your function returned {answer!r}; return True when the view has your write, False when you "
                   "give up, so the UI knows which message to show.")
    if answer is False or ticks[0] > 4:
        if ticks[0] >= 10 and view.has_reached(position):
            return _no(f"the view had applied your write (position {position}) after 3 ticks, but your function went on "
                       f"waiting for {ticks[0]} ticks. Wait for the position your command wrote "
                       "(view.has_reached(position)), not for the log's head: others keep writing, so the head moves on "
                       "and a busy view may never catch it.")
        return _no(f"the view had your write after 3 ticks, but your function returned {answer!r} after {ticks[0]}. "
                   "Ask view.has_reached(position) after every tick, and return True as soon as it says yes.")
    if ticks[0] == 4:
        return _no(f"one tick too many: after 3 ticks the view's checkpoint was exactly {position}, your position, so "
                   "your write was already visible. A view has applied position p when its checkpoint >= p "
                   "(view.has_reached(p)), not > p.")
    if ticks[0] < 3:
        return _no(f"your function returned True after {ticks[0]} tick(s), when the view had not applied position "
                   f"{position} yet (its checkpoint was {2 * ticks[0]}). Ask view.has_reached(position) before "
                   "saying yes.")
    view, position, tick, ticks = _busy_shop(projecting=True)
    for _ in range(3):
        tick()
    ticks[0] = 0
    answer, problem = _poll(wait_by_polling, view, position, tick, ticks)
    if problem:
        return _no(problem)
    if answer is not True or ticks[0] > 1:
        return _no(f"the view already had your write (position {position}), yet your function called tick() "
                   f"{ticks[0]} times and answered {answer!r}. It waited for something else, such as the log's head "
                   "when it was called: wait for the position your command wrote, with view.has_reached(position).")
    if ticks[0]:
        return _no("the view already had your write, yet your function called tick() before answering. Ask first: "
                   "if the view is there, show it at once.")
    view, position, tick, ticks = _busy_shop(projecting=False)
    answer, problem = _poll(wait_by_polling, view, position, tick, ticks, max_polls=4)
    if problem:
        return _no(problem)
    if answer is not False:
        return _no(f"the projection was stopped, so the view never got your write, but your function returned "
                   f"{answer!r}. Return False after max_polls ticks.")
    if ticks[0] != 4:
        return _no(f"with max_polls=4 your function ticked {ticks[0]} times before giving up. Use the max_polls "
                   "argument: tick at most max_polls times, then return False.")
    return _ok("it asks before waiting, returns True as soon as the view has applied your position (even while "
               "others keep writing), and gives up with False after max_polls ticks.")


def _right_high_water_mark(checkpoint: int, visible: set[int]) -> int:
    mark = checkpoint
    while mark + 1 in visible:
        mark += 1
    return mark


def _high_water_cases(rng: random.Random) -> list[tuple[int, set[int]]]:
    cases = [
        (0, {1, 2, 3, 5, 6}),                                     # a gap at 4
        (3, {1, 2, 3, 5, 6}),                                     # a gap right after the checkpoint
        (10, {*range(1, 7), *range(8, 13), 14}),                  # 7 was rolled back, given up on long ago
        (5, set(range(1, 6))),                                    # nothing new
        (0, set()),                                               # an empty log
        (4, set(range(1, 10))),                                   # no gaps at all
    ]
    for _ in range(30):
        top = rng.randint(5, 40)
        visible = {p for p in range(1, top + 1) if rng.random() > 0.15}
        cases.append((rng.randint(0, top), visible))
    return cases


def check_high_water_mark(high_water_mark: Callable[[int, set[int]], Any]) -> Feedback:
    """Exercise 09.2: ``high_water_mark(checkpoint, visible) -> int``, how far a reader may safely move.

    Tested on hand-made cases (a gap, a gap below the checkpoint, nothing
    new, an empty log) and on random logs with holes.
    """
    if _not_done(high_water_mark) or not callable(high_water_mark):
        return _no("define high_water_mark(checkpoint, visible) first.")
    for checkpoint, visible in _high_water_cases(random.Random(909)):
        expected = _right_high_water_mark(checkpoint, visible)
        shown = f"high_water_mark({checkpoint}, {{{', '.join(map(str, sorted(visible)))}}})" if visible else (
            f"high_water_mark({checkpoint}, set())")
        try:
            answer = high_water_mark(checkpoint, set(visible))
        except TypeError as exc:
            return _no(f"{shown} raised TypeError: {exc}. Check the call signature: high_water_mark(checkpoint, "
                       "visible), where visible is a set of positions; return an int.")
        except Exception as exc:  # noqa: BLE001
            if not any(p > checkpoint for p in visible):
                return _no(f"{shown} raised {type(exc).__name__}: {exc}. When nothing new is visible, the reader stays "
                           f"where it is: return the checkpoint ({checkpoint}).")
            return _no(f"{shown} raised {type(exc).__name__}: {exc}.")
        if answer == expected and isinstance(answer, int) and not isinstance(answer, bool):
            continue
        if answer is None or not isinstance(answer, int) or isinstance(answer, bool):
            return _no(f"{shown} returned {answer!r}; return the position (an int) the reader may move to, "
                       f"here {expected}.")
        if answer < checkpoint:
            return _no(f"{shown} returned {answer}, behind the checkpoint. Start from the checkpoint: positions at or "
                       "below it are done (a hole down there is one the reader already gave up on), and a high-water "
                       "mark never moves backwards.")
        if visible and answer == max(visible):
            return _no(f"{shown} returned {answer}, the highest visible position: that is the naive reader. Position "
                       f"{expected + 1} is missing; if it commits later, a reader at {answer} skips it forever. Stop "
                       f"at the last position before the first gap after the checkpoint ({expected}).")
        if answer == expected + 1:
            return _no(f"{shown} returned {answer}, which is the gap itself (it is not visible). Return the last "
                       f"position before it ({expected}).")
        return _no(f"{shown} returned {answer}; the answer is {expected}: count up from the checkpoint while the next "
                   "position is visible.")
    return _ok("it moves from the checkpoint over visible positions only, stops before the first gap, stays put when "
               "nothing new is visible, and never goes backwards.")


# -- 05 · Projections -----------------------------------------------------------------------------
# This section's own imports (the file is shared; each section keeps its imports with it).

import random  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from decimal import Decimal  # noqa: E402

from .domain import default_registry  # noqa: E402
from .events import RecordedEvent  # noqa: E402
from .examples.orders import Order, payment_of  # noqa: E402
from .ids import seeded_ids  # noqa: E402
from .projection import Projection, ProjectionError  # noqa: E402
from .projection_runner import ProjectionRunner  # noqa: E402
from .repository import Repository  # noqa: E402
from .tables import live_rows  # noqa: E402

_SKUS_05 = [("BOOK-1", "25.00"), ("MUG-1", "12.00"), ("TEA-3", "8.00"), ("PEN-2", "2.50"), ("LAMP-1", "74.00")]


def _shop_05(seed: int, *, created: int, submitted: int, paid: int,
             currencies: tuple[str, ...] = ("USD",)) -> tuple[EventStore, Repository]:
    """A fresh store with orders in each status, their events interleaved as in a real shop.

    ``created`` orders stay carts (some empty), ``submitted`` are checked out
    but unpaid, ``paid`` are paid in one of ``currencies``.
    """
    rng = random.Random(seed)
    store = _fresh_store()
    orders = Repository(store, Order, id_factory=seeded_ids(seed))
    ids = [str(rng.randrange(10_000, 99_999) * 10 + n) for n in range(created + submitted + paid)]
    rng.shuffle(ids)
    fates = ["created"] * created + ["submitted"] * submitted + ["paid"] * paid
    rng.shuffle(fates)
    for order_id in ids:
        orders.save(Order.create(order_id, customer=f"c-{rng.randrange(1, 9)}"))
    for order_id, fate in zip(ids, fates):  # items in a second round, so streams interleave in the log
        if fate == "created" and rng.random() < 0.4:
            continue                                           # an empty cart
        order = orders.load(order_id)
        for _ in range(rng.randrange(1, 4)):
            sku, price = rng.choice(_SKUS_05)
            order.add_item(sku, Decimal(price), rng.randrange(1, 4))
        orders.save(order)
    for order_id, fate in zip(ids, fates):
        if fate != "created":
            order = orders.load(order_id)
            order.submit(at=datetime(2024, 1, 1, 12, tzinfo=timezone.utc))
            orders.save(order)
    for order_id, fate in zip(ids, fates):
        if fate == "paid":
            order = orders.load(order_id)
            order.pay(currency=rng.choice(currencies))
            orders.save(order)
    return store, orders


def _statuses(store: EventStore, orders: Repository) -> dict[str, int]:
    """The write model's answer: how many orders are in each status."""
    counts: dict[str, int] = {}
    for (stream_id,) in store.query("SELECT DISTINCT stream_id FROM events"):
        status = orders.load(stream_id.removeprefix("Order-")).status
        counts[status] = counts.get(status, 0) + 1
    return counts


def _make_projection(cls: Any, what: str) -> Projection | str:
    """An instance of the learner's projection class, or a hint saying why there is none."""
    if _not_done(cls) or not isinstance(cls, type):
        return f"define the class first: class {what}(Projection): ..."
    if not issubclass(cls, Projection):
        return f"{what} must extend Projection (class {what}(Projection): ...), so a ProjectionRunner can feed it."
    try:
        projection = cls()
    except TypeError as exc:
        return f"{what}() failed: {exc}"
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        return f"{what}() raised {type(exc).__name__}: {exc}"
    return projection


def _run_projection(store: EventStore, projection: Projection) -> str | None:
    """Catch the projection up; None if it worked, else a hint about the handler's error."""
    try:
        ProjectionRunner(store, projection).catch_up()
    except ProjectionError as exc:
        cause = exc.__cause__
        where = str(exc).split(":", 1)[0]
        if isinstance(cause, ValueError) and "already has a row" in str(cause):
            return (f"{where}: insert() was called for a key that already has a row. insert() is for a new row; "
                    "read the row with view.get(key) and update() it, or upsert() the whole row.")
        if isinstance(cause, KeyError):
            return (f"{where}: the handler read or updated a row that is not there ({cause.args[0] if cause.args else cause}). "
                    "The first event for a key must create its row: view.get(key) returns None when there is none.")
        return f"{where}: your handler raised {cause!r}."
    except Exception as exc:  # noqa: BLE001 - e.g. a storage that refuses the view's name or columns
        return f"running your projection failed with {type(exc).__name__}: {exc}"
    return None


def check_status_board(StatusBoard: Any) -> Feedback:  # noqa: N803 - the learner's class
    """Exercise 05.1: a projection counting the orders in each status, with one row per status.

    The view has a key column ``status`` and a column ``orders``. The check
    runs the class on a shop of its own (orders left as carts, submitted,
    and paid, their events interleaved), compares with the write model, then
    pays one more order and checks that the count moves from submitted to paid.
    """
    projection = _make_projection(StatusBoard, "StatusBoard")
    if isinstance(projection, str):
        return _no(projection)
    rng = random.Random(51)
    store, orders = _shop_05(51, created=rng.randrange(2, 5), submitted=rng.randrange(2, 5), paid=rng.randrange(3, 7))
    expected = _statuses(store, orders)
    problem = _run_projection(store, projection)
    if problem:
        return _no(problem)
    rows = live_rows(projection)
    if rows and not {"status", "orders"} <= set(rows[0]):
        return _no(f"the view's rows have the columns {sorted(rows[0])}; the exercise asks for a key column 'status' "
                   "and a column 'orders'.")
    got = {row["status"]: row["orders"] for row in rows if row["orders"]}
    if not got:
        if projection.registry is None:
            return _no("the view is empty. Without registry = default_registry, handle() receives RecordedEvents, "
                       "and no case OrderCreated(...) ever matches. Add registry = default_registry to the class.")
        return _no("the view is empty: no case in handle() matched. Match on the domain events, e.g. "
                   "case OrderCreated(): ..., and list their types in event_types.")
    total = sum(expected.values())
    if got == expected:
        orders_to_pay = [stream_id.removeprefix("Order-") for (stream_id,) in store.query(
            "SELECT stream_id FROM events WHERE type = 'OrderSubmitted' AND stream_id NOT IN "
            "(SELECT stream_id FROM events WHERE type = 'OrderPaid') ORDER BY position")]
        order = orders.load(orders_to_pay[0])
        order.pay()
        orders.save(order)
        ProjectionRunner(store, projection).catch_up()
        later = {row["status"]: row["orders"] for row in live_rows(projection) if row["orders"]}
        if later != _statuses(store, orders):
            return _no(f"right at first, but after one more payment the view says {later}; expected "
                       f"{_statuses(store, orders)}.")
        return _ok(f"{total} orders, {got}, as the write model says; and a new payment moved one order from "
                   "submitted to paid.")
    if sum(got.values()) > total:
        return _no(f"your counts add up to {sum(got.values())} orders, but there are {total}: {got}. An order is in "
                   "one status at a time: when it moves on, take it out of the old status (orders - 1) as you add it "
                   "to the new one.")
    missing = sorted(status for status in expected if status not in got)
    if missing:
        return _no(f"no orders counted as {missing} ({got}, expected {expected}). Does event_types list every event "
                   "that changes the status (OrderCreated, OrderSubmitted, OrderPaid), with a case for each?")
    return _no(f"the view says {got}; the write model says {expected}.")


def create_revenue_tables(store: EventStore) -> None:
    """Exercise 05.2's tables, next to the log: ``revenue`` and its checkpoint.

    ``revenue(currency VARCHAR PRIMARY KEY, amount DECIMAL(18, 2))`` and
    ``revenue_checkpoint(position BIGINT)``, which holds one row, 0 at first.
    """
    with store.transaction() as cur:
        cur.execute("CREATE TABLE revenue (currency VARCHAR PRIMARY KEY, amount DECIMAL(18, 2) NOT NULL)")
        cur.execute("CREATE TABLE revenue_checkpoint (position BIGINT NOT NULL)")
        cur.execute("INSERT INTO revenue_checkpoint VALUES (0)")


class _CrashAtWrite(Exception):
    """The check pulls the plug on one of the function's writes."""


class _CountingCursor:
    """Wraps a cursor; records INSERT/UPDATE/DELETE statements and raises at write number ``crash_at``."""

    def __init__(self, cur: Any, writes: list[str], crash_at: int | None):
        self._cur, self._writes, self._crash_at = cur, writes, crash_at

    def _write(self, sql: Any) -> None:
        if isinstance(sql, str) and sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "UPSERT")):
            self._writes.append(sql)
            if len(self._writes) == self._crash_at:
                raise _CrashAtWrite(f"the process died at write {self._crash_at}")

    def execute(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        self._write(sql)
        return self._cur.execute(sql, *args, **kwargs)

    def executemany(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        self._write(sql)
        return self._cur.executemany(sql, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


class _WatchedStore:
    """The real store, except that ``transaction()`` hands out a :class:`_CountingCursor`."""

    def __init__(self, store: EventStore, crash_at: int | None = None):
        self._store, self.writes, self._crash_at = store, [], crash_at

    @contextmanager
    def transaction(self) -> Any:
        with self._store.transaction() as cur:
            yield _CountingCursor(cur, self.writes, self._crash_at)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _revenue_state(store: EventStore) -> tuple[dict[str, Decimal], int]:
    revenue = {currency: amount for currency, amount in store.query("SELECT currency, amount FROM revenue")}
    (checkpoint,) = store.query("SELECT position FROM revenue_checkpoint")[0]
    return revenue, checkpoint


def _true_revenue(store: EventStore) -> tuple[dict[str, Decimal], int]:
    """Revenue per currency over the whole log, and the position of the last payment."""
    revenue: dict[str, Decimal] = {}
    last = 0
    for event in store.read_all():
        if event.type == "OrderPaid":
            amount, currency = payment_of(event)
            revenue[currency] = revenue.get(currency, Decimal("0")) + amount
            last = event.position
    return revenue, last


def _money_05(totals: dict[str, Decimal]) -> str:
    return "{" + ", ".join(f"{currency}: {amount}" for currency, amount in sorted(totals.items())) + "}"


def _payments_log(seed: int) -> list[RecordedEvent]:
    """A log with payments in USD, EUR and GBP among other order events, then two late EUR payments."""
    store, orders = _shop_05(seed, created=2, submitted=2, paid=5, currencies=("USD", "EUR", "GBP"))
    for n in range(2):
        order = Order.create(f"late-{seed}-{n}", customer="c-1")
        order.add_item("TEA-3", Decimal("8.00"), n + 1)
        order.submit(at=datetime(2024, 1, 2, 12, tzinfo=timezone.utc))
        order.pay(currency="EUR")
        orders.save(order)
    events = store.read_all()
    store.close()
    return events


def _revenue_store(events: list[RecordedEvent]) -> EventStore:
    """A fresh store holding ``events`` and exercise 05.2's two tables."""
    store = _fresh_store()
    store.restore(events)
    create_revenue_tables(store)
    return store


def _revenue_problem(store: EventStore, what: str) -> str | None:
    """None if the revenue view and its checkpoint agree with the log, else what is wrong."""
    revenue, checkpoint = _revenue_state(store)
    truth, last_payment = _true_revenue(store)
    if any(isinstance(amount, float) for amount in revenue.values()):
        return f"{what}: the amounts are floats. Keep Decimal (the column is DECIMAL(18, 2))."
    if revenue != truth:
        more = sum(revenue.values(), Decimal("0")) > sum(truth.values(), Decimal("0"))
        return (f"{what}: revenue {_money_05(revenue)}, but the log says "
                f"{_money_05(truth)}" + (" (too much: payments counted twice)." if more else "."))
    if not last_payment <= checkpoint <= store.head():
        return (f"{what}: the revenue is right, but revenue_checkpoint says {checkpoint}; it must be the position of "
                f"the last event processed ({store.head()}), or the next run will process events again.")
    return None


def _crash_points(writes: list[str]) -> list[int]:
    """Where to pull the plug (1-based write numbers): on the first and the last write to ``revenue``, and right
    after each, which is where a view and a checkpoint written separately disagree. Else on the first 12 writes."""
    touches_view = [n for n, sql in enumerate(writes, start=1)
                    if "revenue" in sql.lower() and "revenue_checkpoint" not in sql.lower()]
    if not touches_view:
        return list(range(1, min(len(writes), 12) + 1))
    points = {touches_view[0], touches_view[0] + 1, touches_view[-1], touches_view[-1] + 1}
    return sorted(n for n in points if n <= len(writes))


def check_project_revenue(project_revenue: Callable[[EventStore], Any]) -> Feedback:
    """Exercise 05.2: ``project_revenue(store)`` adds the payments after the checkpoint to ``revenue``, exactly once.

    The check runs it on a log of its own (payments in USD, EUR and GBP
    between other order events), runs it again, appends more payments and
    runs it once more. Then it pulls the plug on a write to ``revenue``
    and on the write right after it, restarts, and checks that every
    payment is counted exactly once: which holds only if the view and the
    checkpoint are written in ONE transaction.
    """
    if _not_done(project_revenue) or not callable(project_revenue):
        return _no("define project_revenue(store) first.")
    log = _payments_log(52)
    late = len(log) - 8                                       # the two late orders are the last 8 events
    store = _revenue_store(log[:late])
    watched = _WatchedStore(store)
    try:
        project_revenue(watched)
    except TypeError as exc:
        return _no(f"project_revenue(store) raised TypeError: {exc}. It takes the store as its only argument.")
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        return _no(f"project_revenue(store) raised {type(exc).__name__}: {exc}. OrderPaid data has 'amount' and "
                   "'currency'; the tables are revenue(currency, amount) and revenue_checkpoint(position).")
    revenue, checkpoint = _revenue_state(store)
    if not revenue and checkpoint == 0:
        return _no("nothing was written: revenue is empty and the checkpoint still 0. Add each OrderPaid's amount to "
                   "its currency's row, and set revenue_checkpoint to the last position processed.")
    problem = _revenue_problem(store, "after the first run")
    if problem:
        return _no(problem)
    if not watched.writes:
        return _no("the result is right, but nothing was written through store.transaction(), so the view and the "
                   "checkpoint were not written in one transaction (store.connection commits every statement on its "
                   "own). Use: with store.transaction() as cur: ...")
    project_revenue(watched)
    problem = _revenue_problem(store, "after running it a second time, with no new events")
    if problem:
        return _no(problem + " Read the checkpoint first and process only the events after it: "
                             "store.read_all(checkpoint + 1).")
    store.restore(log[late:])
    project_revenue(watched)
    problem = _revenue_problem(store, "after two more payments and a third run")
    if problem:
        return _no(problem)
    store.close()
    measured = _WatchedStore(_revenue_store(log))
    project_revenue(measured)
    writes = len(measured.writes)
    measured.close()
    for crash_at in _crash_points(measured.writes):
        crashed = _revenue_store(log)
        try:
            project_revenue(_WatchedStore(crashed, crash_at))
        except Exception:  # noqa: BLE001 - our crash, or what the learner turned it into
            pass
        project_revenue(crashed)                                  # the restart
        problem = _revenue_problem(crashed, f"when the process died at write {crash_at} of {writes} and restarted")
        if problem:
            revenue, _ = _revenue_state(crashed)
            truth, _ = _true_revenue(crashed)
            crashed.close()
            if sum(revenue.values(), Decimal("0")) > sum(truth.values(), Decimal("0")):
                hint = (" The view's change was committed but the checkpoint's was not, so the restart counted the "
                        "payment again. Write both in ONE transaction: with store.transaction() as cur: both "
                        "statements inside.")
            else:
                hint = (" The checkpoint was committed but the view's change was not, so the restart skipped the "
                        "payment. Write both in ONE transaction: with store.transaction() as cur: both statements inside.")
            return _no(problem + hint)
        crashed.close()
    return _ok("every payment counted exactly once: on reruns, on new events, and when the process died on a write "
               "to the view or right after it, then restarted. The view and its checkpoint change together or not at all.")


# -- 06 · Rebuilding projections ------------------------------------------------------------------
# This section's own imports (the file is shared; each section keeps its imports with it).

import duckdb  # noqa: E402

from .examples.orders import ItemAdded  # noqa: E402
from .rebuild import rebuild, rebuild_set_based  # noqa: E402
from .sql_views import SqlTable  # noqa: E402


class SkuDemand(Projection):
    """What customers put in their carts, per SKU: units, and their value at the unit price (from ItemAdded).

    Every cart counts, paid or not: this is demand, not revenue. Exercise
    06.1 asks for the same view as one SQL query over the log.
    """

    name = "sku_demand"
    event_types = ("ItemAdded",)
    registry = default_registry

    def default_storage(self) -> SqlTable:
        return SqlTable(key="sku", columns={"sku": "VARCHAR", "units": "INTEGER", "value": "DECIMAL(18, 2)"})

    def handle(self, event, recorded, view) -> None:
        match event:
            case ItemAdded(sku=sku, price=price, quantity=quantity):
                row = view.get(sku, {"units": 0, "value": Decimal("0")})
                view.upsert({"sku": sku, "units": row["units"] + quantity, "value": row["value"] + price * quantity})

    def key_of(self, event, recorded) -> str:
        return event.sku


def _sku_rows(store: EventStore, *, units: str, value: str) -> dict[str, tuple[int, Decimal]]:
    """Per SKU, a typical wrong answer (units as ``count`` or ``sum``; value as ``price`` or ``line``)."""
    rows: dict[str, tuple[int, Decimal]] = {}
    for event in store.read_all():
        if event.type == "ItemAdded":
            n, v = rows.get(event.data["sku"], (0, Decimal("0")))
            quantity, price = event.data["quantity"], event.data["price"]
            rows[event.data["sku"]] = (n + (1 if units == "count" else quantity),
                                       v + (price if value == "price" else price * quantity))
    return rows


def check_sku_demand_sql(sql: Any) -> Feedback:
    """Exercise 06.1: the SQL of a set-based rebuild of :class:`SkuDemand`.

    ``sql`` is a SELECT returning the columns ``sku``, ``units`` and ``value``,
    reading the log ``FROM {events}``. The check builds the view per event on
    a shop of its own, rebuilds it set-based with ``sql``, and compares the
    two tables row by row.
    """
    if _not_done(sql) or not isinstance(sql, str) or not sql.strip():
        return _no("define sku_demand_sql first: a string holding a SELECT ... FROM {events} ...")
    if "{events}" not in sql:
        return _no("the query must read the log FROM {events} (with the braces): the rebuild replaces {events} with "
                   "the events up to the log's head, so the new table and its checkpoint agree.")
    store, _ = _shop_05(61, created=4, submitted=3, paid=6)
    projection = SkuDemand()
    rebuild(store, projection)
    per_event = {row["sku"]: (row["units"], row["value"]) for row in live_rows(projection)}
    try:
        rebuild_set_based(store, projection, sql)
    except duckdb.Error as exc:
        text = str(exc)
        if "$decimal" in text or ("Conversion" in type(exc).__name__ and "{" in text):
            return _no("the database could not turn a price into a number. Prices are stored as tagged JSON, "
                       "{\"$decimal\": \"25.00\"}: read them with data->>'$.price.\"$decimal\"' and CAST that to "
                       f"DECIMAL(18, 2). ({type(exc).__name__}: {text.splitlines()[0]})")
        if "null" in text.lower() and "constraint" in text.lower():
            return _no("a row came out with no sku: only ItemAdded events have one. Add WHERE type = 'ItemAdded'. "
                       f"({text.splitlines()[0]})")
        if "duplicate" in text.lower() or "PRIMARY KEY" in text:
            return _no("two rows came out for the same sku: GROUP BY the sku, so each SKU is one row. "
                       f"({text.splitlines()[0]})")
        if "Binder" in type(exc).__name__ and any(name in text for name in ("sku", "units", "value")):
            return _no("the query must return columns named sku, units and value (use AS units, AS value). "
                       f"({text.splitlines()[0]})")
        return _no(f"the database refused the query: {type(exc).__name__}: {text.splitlines()[0]}")
    except Exception as exc:  # noqa: BLE001 - anything else is feedback, not a crash
        return _no(f"the set-based rebuild failed: {type(exc).__name__}: {exc}")
    set_based = {row["sku"]: (row["units"], row["value"]) for row in live_rows(projection)}
    if set_based == per_event:
        return _ok(f"the set-based rebuild gives exactly the per-event table: {len(per_event)} SKUs, "
                   f"{sum(u for u, _ in per_event.values())} units, on a log of {store.head()} events you had never seen.")
    if set_based == _sku_rows(store, units="count", value="line"):
        return _no("units counts ItemAdded events (count(*)), but one event can add 2 or 3 of a SKU: units is the "
                   "sum of the quantities.")
    if {sku: v for sku, (_, v) in set_based.items()} == {sku: v for sku, (_, v) in
                                                        _sku_rows(store, units="sum", value="price").items()}:
        return _no("value adds up unit prices, but a line of 3 mugs is worth 3 × the price: sum price × quantity.")
    missing = sorted(set(per_event) - set(set_based))
    if missing:
        return _no(f"SKUs missing from your table: {missing}. Read every ItemAdded in {{events}}.")
    wrong = sorted(sku for sku in per_event if set_based.get(sku) != per_event[sku])
    sku = wrong[0] if wrong else sorted(set(set_based) - set(per_event))[0]
    return _no(f"the tables differ, e.g. for {sku}: per event (units, value) = {per_event.get(sku)}, "
               f"yours = {set_based.get(sku)}.")


OPEN_CART_COLUMNS = {"order_id": "VARCHAR", "customer_id": "VARCHAR", "items": "INTEGER", "value": "DECIMAL(18, 2)"}
"""Exercise 06.2's view: one row per cart not (yet) checked out."""


def check_open_carts(OpenCarts: Any) -> Feedback:  # noqa: N803 - the learner's class
    """Exercise 06.2: a new view built from history: the carts nobody has checked out.

    One row per order that was created but not submitted, with the columns
    of :data:`OPEN_CART_COLUMNS`: ``items`` (units in the cart) and
    ``value`` (the cart's total). The check builds it from a shop's whole
    history of its own and compares with the write model.
    """
    projection = _make_projection(OpenCarts, "OpenCarts")
    if isinstance(projection, str):
        return _no(projection)
    store, orders = _shop_05(62, created=5, submitted=3, paid=4)
    problem = _run_projection(store, projection)
    if problem:
        if "OrderPaid" in problem or "OrderSubmitted" in problem:
            problem += (" Once a cart is checked out its row is gone: an OrderPaid needs no case at all (leave it out "
                        "of event_types).")
        return _no(problem)
    rows = live_rows(projection)
    if rows and not set(OPEN_CART_COLUMNS) <= set(rows[0]):
        return _no(f"the view's rows have the columns {sorted(rows[0])}; use OPEN_CART_COLUMNS: {list(OPEN_CART_COLUMNS)}.")
    got = {row["order_id"]: row for row in rows}
    carts = {}
    for (stream_id,) in store.query("SELECT DISTINCT stream_id FROM events ORDER BY stream_id"):
        order = orders.load(stream_id.removeprefix("Order-"))
        carts[order.id] = order
    open_ids = {order_id for order_id, order in carts.items() if order.status == "created"}
    if not got:
        if projection.registry is None:
            return _no("the view is empty. Without registry = default_registry, handle() receives RecordedEvents and "
                       "no case OrderCreated(...) matches.")
        return _no("the view is empty: insert a row for every OrderCreated.")
    extra = set(got) - open_ids
    if extra:
        if {carts[order_id].status for order_id in extra if order_id in carts} == {"submitted"}:
            return _no("paid orders are gone, but submitted ones are still there. A cart closes at checkout: delete "
                       "its row on OrderSubmitted, not on OrderPaid.")
        return _no(f"{len(extra)} of your rows are orders that were checked out. When an OrderSubmitted arrives, the "
                   "cart is no longer open: view.delete(order_id).")
    missing = open_ids - set(got)
    if missing:
        empty = {order_id for order_id in missing if not carts[order_id].lines}
        if empty == missing:
            return _no("carts with no items are missing. An empty cart is still an open cart: insert the row on "
                       "OrderCreated (items 0, value 0), not on the first ItemAdded.")
        return _no(f"open carts missing from your view: {sorted(missing)}.")
    for order_id in sorted(open_ids):
        order, row = carts[order_id], got[order_id]
        units = sum(line["quantity"] for line in order.lines)
        if row["customer_id"] != order.customer_id:
            return _no(f"cart {order_id}: customer_id {row['customer_id']!r}, expected {order.customer_id!r} (from "
                       "OrderCreated).")
        if row["items"] != units:
            if row["items"] == len(order.lines):
                return _no(f"cart {order_id}: items is {row['items']}, the number of ItemAdded events; count units: "
                           "add each event's quantity.")
            return _no(f"cart {order_id}: items is {row['items']}, expected {units} units.")
        if row["value"] != order.total:
            last = order.lines[-1] if order.lines else None
            if last and row["value"] == last["price"] * last["quantity"]:
                return _no(f"cart {order_id}: value {row['value']} is only the last line. The cart's value is its "
                           "total: ItemAdded.new_total (or add price × quantity to the row's value).")
            return _no(f"cart {order_id}: value is {row['value']}, expected {order.total}.")
    return _ok(f"{len(open_ids)} open carts worth {sum((carts[i].total for i in open_ids), Decimal('0'))}, built "
               f"from a history of {store.head()} events that never had this view.")


# -- 10 · Capstone: an order system ----------------------------------------------------------------
# This section's own imports (the file is shared; each section keeps its own imports).

import random  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402
from decimal import Decimal  # noqa: E402

from .domain import default_registry  # noqa: E402
from .events import RecordedEvent  # noqa: E402
from .examples.orders import Order, OrderCreated, OrderPaid, order_paid_v1  # noqa: E402
from .ids import seeded_ids  # noqa: E402
from .repository import AggregateNotFoundError, Repository  # noqa: E402

_CAPSTONE_SKUS = [("BOOK-1", "25.00"), ("MUG-1", "12.00"), ("TEA-3", "11.20"), ("LAMP-1", "74.00"), ("PEN-2", "2.50")]


def _capstone_shop(seed: int) -> list[RecordedEvent]:
    """A small shop of the check's own: three customers; payments V2 in three currencies, one old V1
    payment, an order submitted but never paid, and an abandoned cart. Events of orders interleave."""
    rng = random.Random(seed)
    store = _fresh_store()
    orders = Repository(store, Order, id_factory=seeded_ids(seed))
    customers = [f"C-{rng.randrange(1000, 9999)}" for _ in range(3)]
    plan = (["v1"] + ["USD", "EUR", "GBP", "USD", "EUR"] + ["unpaid", "cart"]) * 2
    rng.shuffle(plan)
    live = []
    for n, fate in enumerate(plan):
        order = Order.create(f"{seed}-{n}", customer=customers[n % 3] if n < 3 else rng.choice(customers))
        for _ in range(rng.randrange(1, 4)):
            sku, price = rng.choice(_CAPSTONE_SKUS)
            order.add_item(sku, Decimal(price), rng.randrange(1, 4))
        orders.save(order)
        live.append((order, fate))
    for order, fate in live:                    # a second round, so that orders' events interleave in the log
        if fate == "cart":
            continue
        order.submit(at=datetime(2024, 2, 1, 12, tzinfo=timezone.utc))
        if fate == "v1":                        # paid through the old payment service: OrderPaid V1, no currency
            orders.save(order)
            store.append(order.stream_id, [order_paid_v1(order.id, order.total)], expected_version=order.version)
            continue
        if fate != "unpaid":
            order.pay(currency=fate)
        orders.save(order)
    events = store.read_all()
    store.close()
    return events


def _right_revenue_per_customer(events: list[RecordedEvent], *, skip_v1: bool = False) -> dict[tuple[str, str], Decimal]:
    customer_of: dict[str, str] = {}
    revenue: dict[tuple[str, str], Decimal] = {}
    for recorded in events:
        if recorded.type not in ("OrderCreated", "OrderPaid") or (skip_v1 and recorded.schema_version == 1
                                                                   and recorded.type == "OrderPaid"):
            continue
        event = default_registry.decode(recorded)
        if isinstance(event, OrderCreated):
            customer_of[event.order_id] = event.customer_id
        elif isinstance(event, OrderPaid):
            key = (customer_of[event.order_id], event.currency)
            revenue[key] = revenue.get(key, Decimal("0")) + event.amount
    return revenue


def _cart_values(events: list[RecordedEvent]) -> dict[tuple[str, str], Decimal]:
    """The typical wrong answer that adds up carts (ItemAdded) instead of payments, in USD."""
    customer_of, totals = {}, {}
    for recorded in events:
        if recorded.type == "OrderCreated":
            customer_of[recorded.data["order_id"]] = recorded.data["customer_id"]
        elif recorded.type == "ItemAdded":
            totals[recorded.data["order_id"]] = recorded.data["new_total"]
    revenue: dict[tuple[str, str], Decimal] = {}
    for order_id, total in totals.items():
        key = (customer_of[order_id], "USD")
        revenue[key] = revenue.get(key, Decimal("0")) + total
    return revenue


def _money_10(totals: dict[Any, Any]) -> str:
    return "{" + ", ".join(f"{key}: {value}" for key, value in sorted(totals.items(), key=str)) + "}"


def check_revenue_per_customer(revenue_per_customer: Callable[[list[RecordedEvent]], Any]) -> Feedback:
    """Exercise 10.1: ``revenue_per_customer(events) -> {(customer_id, currency): Decimal}`` from the log.

    Run on two shops of the check's own (payments V1 and V2 in three
    currencies, an unpaid order, an abandoned cart, events interleaved).
    """
    if _not_done(revenue_per_customer) or not callable(revenue_per_customer):
        return _no("define revenue_per_customer(events) first.")
    for seed in (1001, 1002):
        events = _capstone_shop(seed)
        expected = _right_revenue_per_customer(events)
        try:
            answer = revenue_per_customer(list(events))
        except KeyError as exc:
            if exc.args and exc.args[0] == "currency":
                return _no("KeyError: 'currency'. The shop's oldest payments are OrderPaid V1, stored before currencies "
                           "existed. Read events through default_registry.decode(recorded): its upcaster turns V1 into "
                           "V2 with currency 'USD', so your code sees one shape.")
            return _no(f"your function raised KeyError {exc}. OrderPaid names the order, not the customer: remember "
                       "each order's customer when you see its OrderCreated, and look it up at the payment.")
        except TypeError as exc:
            return _no(f"revenue_per_customer(events) raised TypeError: {exc}. It takes the list of recorded events "
                       "(store.read_all()) and returns a dict.")
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            return _no(f"revenue_per_customer(events) raised {type(exc).__name__}: {exc}")
        if not isinstance(answer, dict):
            return _no(f"your function returned a {type(answer).__name__}; return a dict "
                       "{(customer_id, currency): Decimal amount}.")
        answer = {key: value for key, value in answer.items() if value != 0}
        if answer == expected:
            continue
        if any(isinstance(value, float) for value in answer.values()):
            return _no("the amounts are floats. Money stays Decimal all the way: start each total at Decimal('0').")
        if not all(isinstance(value, (Decimal, int)) and not isinstance(value, bool) for value in answer.values()):
            return _no(f"the values must be Decimal amounts; yours include {next(iter(answer.values()))!r}.")
        if answer and all(isinstance(key, str) for key in answer):
            customers = {customer for customer, _ in expected}
            if set(answer) <= customers:
                return _no("your keys are customers only, so amounts in USD, EUR and GBP were added together. Never add "
                           "different currencies: key the totals by (customer_id, currency).")
            return _no(f"your keys are {sorted(answer)[:3]}...; key the totals by (customer_id, currency), e.g. "
                       f"{next(iter(expected))}.")
        if answer == _right_revenue_per_customer(events, skip_v1=True):
            return _no("the USD revenue of the old payments is missing: OrderPaid V1 events have no 'currency' field, "
                       "and your code skipped them. Decode with default_registry.decode(recorded): the upcaster makes "
                       "every V1 payment a V2 payment in USD.")
        if answer == _cart_values(events) or sum(answer.values()) > sum(expected.values()):
            return _no("your totals are higher than what was paid: they count items of orders that were never paid "
                       "(an abandoned cart, an unpaid order). Revenue is what OrderPaid says was paid: add up "
                       "OrderPaid amounts, not ItemAdded prices.")
        customers = {customer for customer, _ in expected}
        if any(isinstance(key, tuple) and key and key[0] not in customers for key in answer):
            return _no(f"your keys {sorted(answer, key=str)[:2]}... are not (customer_id, currency). OrderPaid names "
                       "the order: look up the order's customer, remembered from its OrderCreated.")
        return _no(f"on a shop of the check's own, the answer is {_money_10(expected)}; yours is {_money_10(answer)}.")
    return _ok("payments only (no carts, no unpaid orders), V1 payments upcast to USD, currencies kept apart, and each "
               "payment credited to the customer who created the order: right on two shops you had never seen.")


def _timeline_shop() -> tuple[Repository, dict[str, datetime]]:
    """Order T-1: created, item, submitted, paid, one save (one minute) apart; T-2: a cart. Returns the times."""
    store = _fresh_store()                      # FakeClock: 09:00, then one minute per append
    orders = Repository(store, Order, id_factory=seeded_ids(10))
    order = Order.create("T-1", customer="C-1")
    orders.save(order)                                                  # 09:00 created
    order.add_item("BOOK-1", Decimal("25.00"))
    orders.save(order)                                                  # 09:01
    cart = Order.create("T-2", customer="C-2")
    cart.add_item("PEN-2", Decimal("2.50"))
    orders.save(cart)                                                   # 09:02 (another order)
    order.submit(at=datetime(2024, 1, 1, 9, 3, tzinfo=timezone.utc))
    orders.save(order)                                                  # 09:03 submitted
    order.pay(currency="EUR")
    orders.save(order)                                                  # 09:04 paid
    times = {event.type: event.recorded_at for event in store.read("Order-T-1")}
    return orders, times


def check_status_at(status_at: Callable[..., Any]) -> Feedback:
    """Exercise 10.2: ``status_at(orders, order_id, when)``: the order's status at an instant, or ``None``.

    A temporal query: only replaying the stream up to ``when`` can answer it;
    a view knows only the present.
    """
    if _not_done(status_at) or not callable(status_at):
        return _no("define status_at(orders, order_id, when) first.")
    orders, times = _timeline_shop()
    second = timedelta(seconds=1)
    cases = [
        ("T-1", times["OrderCreated"] - second, None, "before it was created"),
        ("T-1", times["OrderCreated"], "created", "at the very instant it was created"),
        ("T-1", times["ItemAdded"] + 30 * second, "created", "after its first item"),
        ("T-1", times["OrderSubmitted"], "submitted", "at the instant OrderSubmitted was recorded"),
        ("T-1", times["OrderPaid"] - second, "submitted", "a second before the payment"),
        ("T-1", times["OrderPaid"] + timedelta(days=30), "paid", "a month later"),
        ("T-2", times["OrderPaid"], "created", "for the cart T-2"),
        ("T-9", times["OrderPaid"], None, "for an order that never existed"),
    ]
    for order_id, when, expected, what in cases:
        shown = f"status_at(orders, {order_id!r}, {when:%H:%M:%S})"
        try:
            answer = status_at(orders, order_id, when)
        except AggregateNotFoundError:
            return _no(f"{shown} ({what}) raised AggregateNotFoundError. At that moment the order did not exist: catch "
                       "the error and return None.")
        except TypeError as exc:
            return _no(f"{shown} raised TypeError: {exc}. Use status_at(orders, order_id, when), with orders a "
                       "Repository and when an aware datetime.")
        except Exception as exc:  # noqa: BLE001
            return _no(f"{shown} ({what}) raised {type(exc).__name__}: {exc}")
        if isinstance(answer, Order):
            return _no(f"{shown} returned the Order itself; return its status (order.status), a string.")
        if answer == expected:
            continue
        if answer == "paid" and order_id == "T-1":
            return _no(f"{shown} ({what}) returned 'paid': the order's status now, not at that moment. Replay the stream "
                       "only up to `when`: orders.load(order_id, as_of=when).")
        if expected in ("created", "submitted") and what.startswith("at the"):
            return _no(f"{shown} ({what}) returned {answer!r}, expected {expected!r}: an event recorded exactly at "
                       "`when` has happened by then (as_of keeps events recorded at or before it).")
        return _no(f"{shown} ({what}) returned {answer!r}, expected {expected!r}.")
    return _ok("it replays only the events recorded up to `when` (that instant included), and returns None before the "
               "order existed: a question no view that only stores the present can answer.")
