"""The checks of notebook 01's exercises accept right answers and explain each typical wrong one."""

from __future__ import annotations

from decimal import Decimal

from esdemo.exercises import check_change_price, check_price_list, outbox_exercise_db

# -- Exercise 1: a price list view, folded from the log ------------------------------------------


def price_list_right(events):
    prices = {}
    for event in events:
        if event.type == "ProductCreated":
            prices[event.data["product_id"]] = event.data["price"]
        elif event.type == "ProductPriceUpdated":
            prices[event.data["product_id"]] = event.data["new_price"]
    return prices


def price_list_without_skipping(events):
    prices = {}
    for event in events:
        if event.type == "ProductCreated":
            prices[event.data["product_id"]] = event.data["price"]
        else:                                   # ReviewAdded and ProductSold have no new_price
            prices[event.data["product_id"]] = event.data["new_price"]
    return prices


def price_list_updates_only(events):
    return {e.data["product_id"]: e.data["new_price"] for e in events if e.type == "ProductPriceUpdated"}


def price_list_created_only(events):
    return {e.data["product_id"]: e.data["price"] for e in events if e.type == "ProductCreated"}


def price_list_old_price(events):
    prices = {}
    for event in events:
        if event.type == "ProductCreated":
            prices[event.data["product_id"]] = event.data["price"]
        elif event.type == "ProductPriceUpdated":
            prices[event.data["product_id"]] = event.data["old_price"]
    return prices


def price_list_first_update_wins(events):
    prices, updated = {}, set()
    for event in events:
        product_id = event.data["product_id"]
        if event.type == "ProductCreated":
            prices[product_id] = event.data["price"]
        elif event.type == "ProductPriceUpdated" and product_id not in updated:
            prices[product_id] = event.data["new_price"]
            updated.add(product_id)
    return prices


def price_list_floats(events):
    return {key: float(value) for key, value in price_list_right(events).items()}


def test_price_list_accepts_a_correct_fold():
    feedback = check_price_list(price_list_right)
    assert feedback, feedback.message


def test_price_list_explains_each_typical_mistake():
    assert "define price_list" in check_price_list(...).message
    assert "skip the event types" in check_price_list(price_list_without_skipping).message
    assert "ProductCreated" in check_price_list(price_list_updates_only).message
    assert "BEFORE its change" in check_price_list(price_list_old_price).message
    assert "apply ProductPriceUpdated" in check_price_list(price_list_created_only).message
    assert "log order" in check_price_list(price_list_first_update_wins).message
    assert "Decimal" in check_price_list(price_list_floats).message
    assert "return a dict" in check_price_list(lambda events: [1, 2]).message
    assert "raised" in check_price_list(lambda events: events[0].data["nope"]).message


def test_price_list_rejects_the_answer_hard_coded_from_the_notebook():
    assert not check_price_list(lambda events: {"p-1": Decimal("35.00"), "p-2": Decimal("90.00")})


# -- Exercise 2: the outbox, in one transaction ---------------------------------------------------

OUTBOX_INSERT = ("INSERT INTO outbox (type, product_id, old_price, new_price) "
                 "VALUES ('ProductPriceUpdated', ?, ?, ?)")


def old_price_of(con, product_id):
    return con.execute("SELECT price FROM products WHERE id = ?", [product_id]).fetchone()[0]


def change_price_right(con, product_id, new_price):
    con.begin()
    try:
        old_price = old_price_of(con, product_id)
        con.execute("UPDATE products SET price = ? WHERE id = ?", [new_price, product_id])
        con.execute(OUTBOX_INSERT, [product_id, old_price, new_price])
        con.commit()
    except Exception:
        con.rollback()
        raise


def change_price_begin_commit_no_rollback(con, product_id, new_price):
    con.execute("BEGIN TRANSACTION")
    old_price = old_price_of(con, product_id)
    con.execute("UPDATE products SET price = ? WHERE id = ?", [new_price, product_id])
    con.execute(OUTBOX_INSERT, [product_id, old_price, new_price])
    con.execute("COMMIT")


def change_price_two_autocommits(con, product_id, new_price):
    old_price = old_price_of(con, product_id)
    con.execute("UPDATE products SET price = ? WHERE id = ?", [new_price, product_id])
    con.execute(OUTBOX_INSERT, [product_id, old_price, new_price])


def change_price_outbox_first(con, product_id, new_price):
    con.execute(OUTBOX_INSERT, [product_id, old_price_of(con, product_id), new_price])
    con.execute("UPDATE products SET price = ? WHERE id = ?", [new_price, product_id])


def change_price_swallow_and_commit(con, product_id, new_price):
    con.begin()
    old_price = old_price_of(con, product_id)
    con.execute("UPDATE products SET price = ? WHERE id = ?", [new_price, product_id])
    try:
        con.execute(OUTBOX_INSERT, [product_id, old_price, new_price])
    except Exception:
        pass                                    # "the event is optional"
    con.commit()


def change_price_no_outbox(con, product_id, new_price):
    con.execute("UPDATE products SET price = ? WHERE id = ?", [new_price, product_id])


def change_price_never_commits(con, product_id, new_price):
    con.begin()
    old_price = old_price_of(con, product_id)
    con.execute("UPDATE products SET price = ? WHERE id = ?", [new_price, product_id])
    con.execute(OUTBOX_INSERT, [product_id, old_price, new_price])


def change_price_new_as_old(con, product_id, new_price):
    con.begin()
    con.execute("UPDATE products SET price = ? WHERE id = ?", [new_price, product_id])
    con.execute(OUTBOX_INSERT, [product_id, new_price, new_price])
    con.commit()


def change_price_with_block(con, product_id, new_price):
    with con:                                   # sqlite3 habit: in DuckDB this closes the connection
        old_price = old_price_of(con, product_id)
        con.execute("UPDATE products SET price = ? WHERE id = ?", [new_price, product_id])
        con.execute(OUTBOX_INSERT, [product_id, old_price, new_price])


def change_price_everything(con, product_id, new_price):
    con.begin()
    con.execute("UPDATE products SET price = ?", [new_price])
    con.execute(OUTBOX_INSERT, [product_id, Decimal("9.50"), new_price])
    con.commit()


def test_outbox_exercise_db_has_the_documented_tables():
    con = outbox_exercise_db()
    assert con.execute("SELECT id, price FROM products ORDER BY id").fetchall() == [
        ("p-1", Decimal("40.00")), ("p-2", Decimal("12.50"))]
    change_price_right(con, "p-1", Decimal("35.00"))
    assert con.execute("SELECT seq, type, product_id, old_price, new_price FROM outbox").fetchall() == [
        (1, "ProductPriceUpdated", "p-1", Decimal("40.00"), Decimal("35.00"))]


def test_change_price_accepts_one_transaction_in_either_spelling():
    assert check_change_price(change_price_right)
    assert check_change_price(change_price_begin_commit_no_rollback)


def test_change_price_explains_each_typical_mistake():
    assert "define change_price" in check_change_price(...).message
    assert "dual-write problem" in check_change_price(change_price_two_autocommits).message
    assert "dual-write problem" in check_change_price(change_price_swallow_and_commit).message
    assert "never happened" in check_change_price(change_price_outbox_first).message
    assert "outbox is empty" in check_change_price(change_price_no_outbox).message
    assert "never committed" in check_change_price(change_price_never_commits).message
    assert "old_price" in check_change_price(change_price_new_as_old).message
    assert "closes the connection" in check_change_price(change_price_with_block).message
    assert "another product" in check_change_price(change_price_everything).message
