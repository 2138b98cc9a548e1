"""The checks of notebook 17's exercises accept right answers and explain the typical wrong ones."""

from __future__ import annotations

from decimal import Decimal

import pytest

from esdemo.exercises import check_idempotent_handler, check_read_plan

# -- exercise 1: read-your-writes ------------------------------------------------------------------------


def plan_right(view_checkpoint, required_position, waited_s, max_wait_s):
    if required_position is None or view_checkpoint >= required_position:
        return "view"
    return "wait" if waited_s < max_wait_s else "write model"


def plan_strict(view_checkpoint, required_position, waited_s, max_wait_s):
    if required_position is None or view_checkpoint > required_position:
        return "view"
    return "wait" if waited_s < max_wait_s else "write model"


def plan_without_none(view_checkpoint, required_position, waited_s, max_wait_s):
    if view_checkpoint >= required_position:
        return "view"
    return "wait" if waited_s < max_wait_s else "write model"


def plan_waits_forever(view_checkpoint, required_position, waited_s, max_wait_s):
    if required_position is None or view_checkpoint >= required_position:
        return "view"
    return "wait"


def plan_never_waits(view_checkpoint, required_position, waited_s, max_wait_s):
    if required_position is None or view_checkpoint >= required_position:
        return "view"
    return "write model"


def plan_waits_at_the_edge(view_checkpoint, required_position, waited_s, max_wait_s):
    if required_position is None or view_checkpoint >= required_position:
        return "view"
    return "wait" if waited_s <= max_wait_s else "write model"


def plan_always_view(*args):
    return "view"


def plan_gives_up_to_a_stale_view(view_checkpoint, required_position, waited_s, max_wait_s):
    if required_position is None or view_checkpoint >= required_position:
        return "view"
    return "wait" if waited_s < max_wait_s else "view"


def plan_other_words(view_checkpoint, required_position, waited_s, max_wait_s):
    return "read model" if required_position is None or view_checkpoint >= required_position else "retry"


def test_read_plan_accepts_a_correct_solution():
    assert check_read_plan(plan_right)


@pytest.mark.parametrize("answer, hint", [
    (..., "define read_plan"),
    (plan_strict, "use >=, not >"),
    (plan_without_none, "None means the user wrote nothing"),
    (plan_waits_forever, "long after the budget ran out"),
    (plan_never_waits, "returned 'write model' at once"),
    (plan_waits_at_the_edge, "the budget is spent at waited_s == max_wait_s"),
    (plan_always_view, "the user would not see their own change"),
    (plan_gives_up_to_a_stale_view, "the user would not see their own change"),
    (plan_other_words, "return one of 'view', 'wait', 'write model'"),
    (lambda checkpoint: "view", "call signature"),
])
def test_read_plan_explains_each_typical_mistake(answer, hint):
    feedback = check_read_plan(answer)
    assert not feedback and hint in feedback.message


# -- exercise 2: an idempotent handler ----------------------------------------------------------------------


def apply_right(view, event):
    if event.position <= view["checkpoint"]:
        return
    view["revenue"] += event.data["amount"]
    view["checkpoint"] = event.position


def apply_functional(view, event):
    if event.position <= view["checkpoint"]:
        return view
    return {"checkpoint": event.position, "revenue": view["revenue"] + event.data["amount"]}


def apply_by_seen_ids(view, event):
    seen = view.setdefault("seen", set())
    if event.event_id in seen:
        return
    seen.add(event.event_id)
    view["revenue"] += event.data["amount"]
    view["checkpoint"] = event.position


def apply_everything(view, event):
    view["revenue"] += event.data["amount"]
    view["checkpoint"] = event.position


def apply_strict(view, event):
    if event.position < view["checkpoint"]:
        return
    view["revenue"] += event.data["amount"]
    view["checkpoint"] = event.position


def apply_without_moving_the_checkpoint(view, event):
    if event.position <= view["checkpoint"]:
        return
    view["revenue"] += event.data["amount"]


def apply_only_the_next_position(view, event):
    if event.position != view["checkpoint"] + 1:
        return
    view["revenue"] += event.data["amount"]
    view["checkpoint"] = event.position


def apply_wrong_field(view, event):
    view["revenue"] += event.data["price"]


def apply_in_floats(view, event):
    if event.position <= view["checkpoint"]:
        return
    view["revenue"] = float(view["revenue"]) + float(event.data["amount"])
    view["checkpoint"] = event.position


def apply_hard_coded(view, event):
    view.update(checkpoint=81, revenue=Decimal("1234.56"))


@pytest.mark.parametrize("answer", [apply_right, apply_functional, apply_by_seen_ids])
def test_idempotent_handler_accepts_correct_solutions(answer):
    assert check_idempotent_handler(answer)


@pytest.mark.parametrize("answer, hint", [
    (..., "define apply_payment"),
    (apply_everything, "counts every delivery"),
    (apply_strict, "skip position <= checkpoint, not <"),
    (apply_without_moving_the_checkpoint, "never moved"),
    (apply_only_the_next_position, "positions have holes (here "),
    (apply_wrong_field, "raised KeyError('price')"),
    (apply_in_floats, "float"),
    (apply_hard_coded, "expected revenue="),
])
def test_idempotent_handler_explains_each_typical_mistake(answer, hint):
    feedback = check_idempotent_handler(answer)
    assert not feedback and hint in feedback.message
