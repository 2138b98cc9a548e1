"""The storming board lays out the wall in time order and refuses a board that does not hold together."""

from __future__ import annotations

import pytest

from esdemo.storming import (
    BOARD_COLUMNS,
    ORDER_STORMING,
    BoardError,
    Step,
    policy_sentences,
    storming_board,
)


def test_the_board_has_one_row_per_event_in_time_order():
    board = storming_board(ORDER_STORMING)
    assert list(board.columns) == list(BOARD_COLUMNS[1:])
    assert list(board.index) == list(range(1, len(ORDER_STORMING) + 1))
    assert list(board["event"]) == [step.event for step in ORDER_STORMING]
    assert board.loc[1, "actor / policy"] == "customer"
    assert board.loc[4, "actor / policy"] == "policy: reserve what is ordered (on OrderSubmitted)"


def test_empty_cells_are_empty_text():
    board = storming_board([Step("ClockTicked")])
    assert board.loc[1].to_dict() == {"read model": "", "actor / policy": "", "command": "", "event": "ClockTicked"}


def test_policies_read_back_as_whenever_sentences():
    assert policy_sentences(ORDER_STORMING) == [
        "reserve what is ordered: whenever OrderSubmitted, then ReserveStock",
        "no payment, no order: whenever PaymentFailed, then CancelOrder",
        "give back what a cancelled order held: whenever OrderCancelled, then ReleaseStock",
    ]


def test_a_policy_must_react_to_an_earlier_event():
    late = [Step("StockReserved", "ReserveStock", policy="reserve", trigger="OrderSubmitted"),
            Step("OrderSubmitted", "SubmitOrder", actor="customer")]
    with pytest.raises(BoardError, match="not an earlier event"):
        storming_board(late)


@pytest.mark.parametrize("steps, message", [
    ([Step("")], "has no event"),
    ([Step("OrderPaid", "TakePayment", actor="customer", policy="pay", trigger="OrderPaid")], "both an actor"),
    ([Step("OrderCreated"), Step("OrderPaid", trigger="OrderCreated")], "no policy"),
])
def test_a_broken_board_is_refused_with_what_to_do(steps, message):
    with pytest.raises(BoardError, match=message):
        policy_sentences(steps)
