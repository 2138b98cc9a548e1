"""The sagas notebook's exercise checks, each with a right answer and the typical wrong ones."""

from __future__ import annotations

from esdemo.examples.checkout import CancelOrder, RefundPayment, ReleaseStock
from esdemo.exercises import check_compensation, check_idempotent_reaction


def right_compensation(order_id, completed, reason):
    undo = {"payment": ("refund-payment", RefundPayment(order_id, reason)),
            "stock": ("release-stock", ReleaseStock(order_id, reason))}
    return [undo[step] for step in reversed(completed)] + [("cancel-order", CancelOrder(order_id, reason))]


def test_the_right_compensation_passes_and_runs_in_the_process_manager():
    feedback = check_compensation(right_compensation)
    assert feedback and "refunded once" in feedback.message


def test_compensation_mistakes_are_named():
    assert "define compensate" in check_compensation(...).message
    forgot_cancel = check_compensation(lambda o, done, r: right_compensation(o, done, r)[:-1])
    assert not forgot_cancel and "must end cancelled" in forgot_cancel.message
    wrong_order = check_compensation(
        lambda o, done, r: [(s, c) for s, c in reversed(right_compensation(o, done, r)[:-1])]
        + [right_compensation(o, done, r)[-1]])
    assert not wrong_order and "wrong order" in wrong_order.message
    always_refund = check_compensation(lambda o, done, r: [("refund-payment", RefundPayment(o, r)),
                                                           ("release-stock", ReleaseStock(o, r)),
                                                           ("cancel-order", CancelOrder(o, r))])
    assert not always_refund and "nothing was charged" in always_refund.message
    no_release = check_compensation(lambda o, done, r: [("cancel-order", CancelOrder(o, r))])
    assert not no_release and "still reserved" in no_release.message
    broken = check_compensation(lambda o, done, r: 1 / 0)
    assert not broken and "ZeroDivisionError" in broken.message


def right_award(message, db):
    if message["message_id"] in db["seen"]:
        return
    db["points"][message["customer_id"]] = db["points"].get(message["customer_id"], 0) + 10
    db["seen"].add(message["message_id"])


def test_the_idempotent_reaction_passes():
    assert check_idempotent_reaction(right_award)


def test_reaction_mistakes_are_named():
    def every_delivery(message, db):
        db["points"][message["customer_id"]] = db["points"].get(message["customer_id"], 0) + 10

    def by_customer(message, db):
        if message["customer_id"] not in db["seen"]:
            db["seen"].add(message["customer_id"])
            db["points"][message["customer_id"]] = db["points"].get(message["customer_id"], 0) + 10

    assert "define award_points" in check_idempotent_reaction(None).message
    assert "every delivery counted" in check_idempotent_reaction(every_delivery).message
    assert "not the customer" in check_idempotent_reaction(by_customer).message
    assert "raised" in check_idempotent_reaction(lambda m, db: db["nope"]).message
