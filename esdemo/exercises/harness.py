"""The test bench several exercise checks share: a shop to try answers on, and a plug to pull.

* :func:`order_shop`: a fresh store of orders in every status, their events
  interleaved as in a real shop (notebooks 06 and 08 check projections on it);
* :func:`make_projection` and :func:`run_projection`: build the learner's
  projection class and catch it up, turning each typical mistake into a hint;
* :class:`CrashAtWrite` and :class:`CrashingStore`: "the process dies at write N".
  A check runs the learner's code through them, counts its writes, then runs
  it again and pulls the plug at one of them, to see whether what was written
  before the crash leaves the database consistent (notebooks 01 and 06).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ..examples.orders import Order
from ..read.projection import Projection, ProjectionError
from ..read.projection_runner import ProjectionRunner
from ..store.event_store import EventStore
from ..store.ids import seeded_ids
from ..write.repository import Repository
from .feedback import _fresh_store, _not_done

SHOP_SKUS = [("BOOK-1", "25.00"), ("MUG-1", "12.00"), ("TEA-3", "8.00"), ("PEN-2", "2.50"), ("LAMP-1", "74.00")]
"""What the shop sells: (sku, unit price)."""

WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "UPSERT")
"""The SQL statements that count as writes (by their first word)."""


class SimulatedCrash(Exception):
    """The check pulled the plug: the process "died" at this write."""


class CrashAtWrite:
    """Wraps a connection or a cursor: records every write statement it runs, and dies at write ``crash_at``.

    ``execute``, ``executemany`` and ``sql`` are watched; anything else goes
    straight to the wrapped object. Writes are counted from 1 across every
    wrapper sharing the same ``writes`` list; at write number ``crash_at``
    (``None``: never) it raises :class:`SimulatedCrash` *instead of* running
    the statement, as if the process had died right before it.

    >>> crashing = CrashAtWrite(con, crash_at=2)
    >>> change_price(crashing, "mug-3", Decimal("8.75"))    # raises SimulatedCrash on its second write
    """

    def __init__(self, target: Any, crash_at: int | None = None, writes: list[str] | None = None):
        self._target, self._crash_at = target, crash_at
        self.writes: list[str] = [] if writes is None else writes

    def _watch(self, sql: Any) -> None:
        if isinstance(sql, str) and sql.lstrip().upper().startswith(WRITE_STATEMENTS):
            self.writes.append(sql)
            if len(self.writes) == self._crash_at:
                raise SimulatedCrash(f"the process died at write {self._crash_at}")

    def execute(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        self._watch(sql)
        return self._target.execute(sql, *args, **kwargs)

    def executemany(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        self._watch(sql)
        return self._target.executemany(sql, *args, **kwargs)

    def sql(self, sql: Any, *args: Any, **kwargs: Any) -> Any:
        self._watch(sql)
        return self._target.sql(sql, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


class CrashingStore:
    """The real store, except that ``transaction()`` hands out cursors wrapped in :class:`CrashAtWrite`.

    ``writes`` lists the write statements of every transaction so far, in
    order; with ``crash_at`` the transaction holding that write raises
    :class:`SimulatedCrash` and so rolls back, as a dead process's would.
    """

    def __init__(self, store: EventStore, crash_at: int | None = None):
        self._store, self._crash_at = store, crash_at
        self.writes: list[str] = []

    @contextmanager
    def transaction(self) -> Iterator[CrashAtWrite]:
        with self._store.transaction() as cur:
            yield CrashAtWrite(cur, self._crash_at, self.writes)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def order_shop(seed: int, *, created: int, submitted: int, paid: int,
               currencies: tuple[str, ...] = ("USD",)) -> tuple[EventStore, Repository]:
    """A fresh store with orders in each status, their events interleaved as in a real shop.

    ``created`` orders stay carts (some empty), ``submitted`` are checked out
    but unpaid, ``paid`` are paid in one of ``currencies``. The same seed
    gives the same shop.
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
            sku, price = rng.choice(SHOP_SKUS)
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


def make_projection(cls: Any, what: str) -> Projection | str:
    """An instance of the learner's projection class ``cls`` (named ``what``), or a hint saying why there is none."""
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


def run_projection(store: EventStore, projection: Projection) -> str | None:
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
