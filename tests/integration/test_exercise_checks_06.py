"""Notebook 06's exercise checks, each with a right answer and the typical wrong ones."""

from __future__ import annotations

import pytest

from esdemo import Projection, SqlTable, default_registry
from esdemo.examples.orders import OrderCreated, OrderPaid, OrderSubmitted, payment_of
from esdemo.exercises import check_project_revenue, check_status_board

BOARD = {"status": "VARCHAR", "orders": "INTEGER"}
MOVES = {"OrderCreated": (None, "created"), "OrderSubmitted": ("created", "submitted"), "OrderPaid": ("submitted", "paid")}


class Board(Projection):
    name = "status_board"
    event_types = ("OrderCreated", "OrderSubmitted", "OrderPaid")
    registry = default_registry

    def default_storage(self):
        return SqlTable(key="status", columns=BOARD)

    def move(self, view, old, new):
        if old is not None:
            view.update(old, orders=view[old]["orders"] - 1)
        row = view.get(new)
        if row is None:
            view.insert({"status": new, "orders": 1})
        else:
            view.update(new, orders=row["orders"] + 1)


class RightBoard(Board):
    def handle(self, event, recorded, view):
        match event:
            case OrderCreated():
                self.move(view, None, "created")
            case OrderSubmitted():
                self.move(view, "created", "submitted")
            case OrderPaid():
                self.move(view, "submitted", "paid")


class NeverLeaves(Board):
    def handle(self, event, recorded, view):
        self.move(view, None, MOVES[type(event).__name__][1])


class InsertsEveryTime(Board):
    def handle(self, event, recorded, view):
        view.insert({"status": MOVES[type(event).__name__][1], "orders": 1})


class UpdatesMissingRow(Board):
    def handle(self, event, recorded, view):
        new = MOVES[type(event).__name__][1]
        view.update(new, orders=view[new]["orders"] + 1)


class NoRegistry(RightBoard):
    registry = None


class OnlyCreated(RightBoard):
    event_types = ("OrderCreated",)


class NoName(Projection):
    event_types = ("OrderCreated",)

    def default_storage(self):
        return SqlTable(key="status", columns=BOARD)

    def handle(self, event, recorded, view):
        pass


class NoStorage(RightBoard):
    def default_storage(self):
        return Projection.default_storage(self)


class WrongColumns(RightBoard):
    def default_storage(self):
        return SqlTable(key="state", columns={"state": "VARCHAR", "orders": "INTEGER"})

    def move(self, view, old, new):
        row = view.get(new)
        view.upsert({"state": new, "orders": (row["orders"] if row else 0) + 1})


def test_a_right_status_board_passes():
    feedback = check_status_board(RightBoard)
    assert feedback, feedback.message
    assert repr(feedback).startswith("✅ Correct:") and "moved one order from submitted to paid" in feedback.message


@pytest.mark.parametrize("answer, hint", [
    (..., "define the class first"),
    (object, "must extend Projection"),
    (NeverLeaves, "take it out of the old status"),
    (InsertsEveryTime, "insert() was called for a key that already has a row"),
    (UpdatesMissingRow, "The first event for a key must create its row"),
    (NoRegistry, "registry = default_registry"),
    (OnlyCreated, "Does event_types list every event"),
    (NoName, "must set a class attribute name"),
    (NoStorage, "has no default storage"),
    (WrongColumns, "a key column 'status' and a column 'orders'"),
])
def test_typical_mistakes_get_a_specific_hint(answer, hint):
    feedback = check_status_board(answer)
    assert not feedback and hint in feedback.message
    assert repr(feedback).startswith("❌ Not yet:")


def read_checkpoint(cur):
    return cur.execute("SELECT position FROM revenue_checkpoint").fetchone()[0]


def add_payment(cur, event):
    amount, currency = payment_of(event)
    cur.execute("INSERT INTO revenue VALUES (?, ?) ON CONFLICT (currency) DO UPDATE SET amount = amount + excluded.amount",
                [currency, amount])


def one_transaction(store):
    with store.transaction() as cur:
        events = store.read_all(read_checkpoint(cur) + 1)
        for event in events:
            if event.type == "OrderPaid":
                add_payment(cur, event)
        if events:
            cur.execute("UPDATE revenue_checkpoint SET position = ?", [events[-1].position])
    return len(events)


def one_transaction_per_event(store):
    with store.transaction() as cur:
        checkpoint = read_checkpoint(cur)
    for event in store.read_all(checkpoint + 1):
        with store.transaction() as cur:
            if event.type == "OrderPaid":
                add_payment(cur, event)
            cur.execute("UPDATE revenue_checkpoint SET position = ?", [event.position])


def view_then_checkpoint(store):
    with store.transaction() as cur:
        checkpoint = read_checkpoint(cur)
    for event in store.read_all(checkpoint + 1):
        if event.type == "OrderPaid":
            with store.transaction() as cur:
                add_payment(cur, event)
        with store.transaction() as cur:
            cur.execute("UPDATE revenue_checkpoint SET position = ?", [event.position])


def checkpoint_then_view(store):
    with store.transaction() as cur:
        checkpoint = read_checkpoint(cur)
    for event in store.read_all(checkpoint + 1):
        with store.transaction() as cur:
            cur.execute("UPDATE revenue_checkpoint SET position = ?", [event.position])
        if event.type == "OrderPaid":
            with store.transaction() as cur:
                add_payment(cur, event)


def ignores_the_checkpoint(store):
    with store.transaction() as cur:
        events = store.read_all()
        for event in events:
            if event.type == "OrderPaid":
                add_payment(cur, event)
        cur.execute("UPDATE revenue_checkpoint SET position = ?", [events[-1].position])


def never_saves_the_checkpoint(store):
    with store.transaction() as cur:
        for event in store.read_all(read_checkpoint(cur) + 1):
            if event.type == "OrderPaid":
                add_payment(cur, event)


def autocommit(store):
    cur = store.connection
    events = store.read_all(read_checkpoint(cur) + 1)
    for event in events:
        if event.type == "OrderPaid":
            add_payment(cur, event)
    if events:
        cur.execute("UPDATE revenue_checkpoint SET position = ?", [events[-1].position])


def wrong_signature(store, batch_size):
    return 0


def test_right_answers_pass_one_transaction_per_batch_or_per_event():
    for answer in (one_transaction, one_transaction_per_event):
        feedback = check_project_revenue(answer)
        assert feedback, f"{answer.__name__}: {feedback.message}"
        assert "exactly once" in feedback.message


@pytest.mark.parametrize("answer, hint", [
    (..., "define project_revenue(store) first"),
    (view_then_checkpoint, "counted the payment again"),
    (checkpoint_then_view, "skipped the payment"),
    (ignores_the_checkpoint, "process only the events after it"),
    (never_saves_the_checkpoint, "revenue_checkpoint says 0"),
    (autocommit, "nothing was written through store.transaction()"),
    (wrong_signature, "takes the store as its only argument"),
])
def test_typical_revenue_mistakes_get_a_specific_hint(answer, hint):
    feedback = check_project_revenue(answer)
    assert not feedback and hint in feedback.message, feedback.message


def test_a_hard_coded_answer_fails():
    def hard_coded(store):
        with store.transaction() as cur:
            cur.execute("INSERT INTO revenue VALUES ('USD', 51.50)")
            cur.execute("UPDATE revenue_checkpoint SET position = ?", [store.head()])

    feedback = check_project_revenue(hard_coded)
    assert not feedback and "but the log says" in feedback.message
