"""The checks of notebook 11's exercises accept right answers and explain each typical mistake."""

from __future__ import annotations

import pytest

from esdemo.exercises import (
    check_catch_up_time,
    check_high_water_mark,
    check_still_pending,
    check_wait_by_polling,
)

# -- Exercise 1: wait_by_polling ----------------------------------------------------------------------


def right(view, position, tick, max_polls=10):
    for _ in range(max_polls):
        if view.has_reached(position):
            return True
        tick()
    return view.has_reached(position)


def right_while_loop(view, position, tick, max_polls=10):
    polls = 0
    while not view.position >= position:
        if polls == max_polls:
            return False
        tick()
        polls += 1
    return True


def waits_for_the_head(view, position, tick, max_polls=10):
    return right(view, view.store.head(), tick, max_polls)


def waits_for_the_moving_head(view, position, tick, max_polls=10):
    for _ in range(max_polls):
        if view.position >= view.store.head():
            return True
        tick()
    return False


def off_by_one(view, position, tick, max_polls=10):
    for _ in range(max_polls):
        if view.position > position:
            return True
        tick()
    return False


def ticks_first(view, position, tick, max_polls=10):
    for _ in range(max_polls):
        tick()
        if view.has_reached(position):
            return True
    return False


def never_gives_up(view, position, tick, max_polls=10):
    while not view.has_reached(position):
        tick()
    return True


def never_ticks(view, position, tick, max_polls=10):
    while not view.has_reached(position):
        pass
    return True


def never_ticks_reading_the_position(view, position, tick, max_polls=10):
    while view.position < position:
        pass
    return True


def ignores_max_polls(view, position, tick, max_polls=10):
    return right(view, position, tick)


def raises_when_late(view, position, tick, max_polls=10):
    if not right(view, position, tick, max_polls):
        raise TimeoutError("the view is late")
    return True


def returns_nothing(view, position, tick, max_polls=10):
    right(view, position, tick, max_polls)


def blocks_with_wait_for(view, position, tick, max_polls=10):
    view.wait_for(position, timeout=1)
    return True


def always_true(view, position, tick, max_polls=10):
    return True


@pytest.mark.parametrize("answer", [right, right_while_loop])
def test_right_answers_pass(answer):
    feedback = check_wait_by_polling(answer)
    assert feedback, feedback.message


@pytest.mark.parametrize("answer, hint", [
    (..., "define wait_by_polling"),
    (waits_for_the_head, "such as the log's head"),
    (waits_for_the_moving_head, "not for the log's head"),
    (off_by_one, "one tick too many"),
    (ticks_first, "Ask first"),
    (never_gives_up, "never stops polling"),
    (never_ticks, "without calling tick()"),
    (never_ticks_reading_the_position, "without calling tick()"),
    (ignores_max_polls, "Use the max_polls argument"),
    (raises_when_late, "do not raise"),
    (returns_nothing, "return True when the view has your write"),
    (blocks_with_wait_for, "Poll instead"),
    (always_true, "had not applied position 6 yet"),
    (lambda view, position: True, "signature"),
])
def test_typical_mistakes_get_a_specific_hint(answer, hint):
    feedback = check_wait_by_polling(answer)
    assert not feedback and hint in feedback.message, feedback.message


# -- Exercise 2: high_water_mark --------------------------------------------------------------------------


def hwm_right(checkpoint, visible):
    mark = checkpoint
    while mark + 1 in visible:
        mark += 1
    return mark


def hwm_sorted(checkpoint, visible):
    mark = checkpoint
    for position in sorted(p for p in visible if p > checkpoint):
        if position != mark + 1:
            break
        mark = position
    return mark


def hwm_naive(checkpoint, visible):
    return max(visible, default=checkpoint)


def hwm_naive_above_checkpoint(checkpoint, visible):
    return max([p for p in visible if p > checkpoint], default=checkpoint)


def hwm_returns_the_gap(checkpoint, visible):
    mark = checkpoint + 1
    while mark in visible:
        mark += 1
    return mark


def hwm_from_the_start(checkpoint, visible):
    mark = 0
    while mark + 1 in visible:
        mark += 1
    return mark


def hwm_crashes_on_nothing_new(checkpoint, visible):
    new = sorted(p for p in visible if p > checkpoint)
    mark = checkpoint
    if new[0] != checkpoint + 1:
        return checkpoint
    for position in new:
        if position != mark + 1:
            break
        mark = position
    return mark


def hwm_returns_a_list(checkpoint, visible):
    return [hwm_right(checkpoint, visible)]


def hwm_hard_coded(checkpoint, visible):
    return 3


@pytest.mark.parametrize("answer", [hwm_right, hwm_sorted])
def test_right_high_water_marks_pass(answer):
    feedback = check_high_water_mark(answer)
    assert feedback, feedback.message


@pytest.mark.parametrize("answer, hint", [
    (None, "define high_water_mark"),
    (hwm_naive, "that is the naive reader"),
    (hwm_naive_above_checkpoint, "that is the naive reader"),
    (hwm_returns_the_gap, "the gap itself"),
    (hwm_from_the_start, "never moves backwards"),
    (hwm_crashes_on_nothing_new, "return the checkpoint"),
    (hwm_returns_a_list, "return the position (an int)"),
    (hwm_hard_coded, "behind the checkpoint"),
    (lambda checkpoint: 0, "signature"),
])
def test_typical_high_water_mark_mistakes_get_a_specific_hint(answer, hint):
    feedback = check_high_water_mark(answer)
    assert not feedback and hint in feedback.message, feedback.message


# -- Notebook 12, exercise 2: catch_up_time ---------------------------------------------------------------


def catch_up_right(backlog, write_rate, projection_rate, batch_size, batch_overhead_s):
    ceiling = batch_size / (batch_overhead_s + batch_size / projection_rate)
    if ceiling <= write_rate:
        return None
    return backlog / (ceiling - write_rate)


def catch_up_ignores_the_commit(backlog, write_rate, projection_rate, batch_size, batch_overhead_s):
    headroom = projection_rate - write_rate
    return backlog / headroom if headroom > 0 else None


def catch_up_forgets_new_writes(backlog, write_rate, projection_rate, batch_size, batch_overhead_s):
    ceiling = batch_size / (batch_overhead_s + batch_size / projection_rate)
    return backlog / ceiling if ceiling > write_rate else None


def catch_up_divides_by_zero(backlog, write_rate, projection_rate, batch_size, batch_overhead_s):
    ceiling = batch_size / (batch_overhead_s + batch_size / projection_rate)
    return backlog / (ceiling - write_rate) if ceiling != write_rate else backlog / 0


def catch_up_negative(backlog, write_rate, projection_rate, batch_size, batch_overhead_s):
    ceiling = batch_size / (batch_overhead_s + batch_size / projection_rate)
    return backlog / (ceiling - write_rate) if ceiling != write_rate else float("inf")


def catch_up_always_none(*args):
    return None


def test_catch_up_time_right_answer_passes():
    assert check_catch_up_time(catch_up_right)


@pytest.mark.parametrize("answer, hint", [
    (..., "define catch_up_time"),
    (catch_up_ignores_the_commit, "ceiling"),
    (catch_up_forgets_new_writes, "headroom"),
    (catch_up_divides_by_zero, "divided by zero"),
    (catch_up_negative, "return None"),
    (catch_up_always_none, "has headroom"),
    (lambda backlog, *rest: 1.0, "expected"),
    (lambda backlog, write_rate, projection_rate, batch_size: 1.0, "signature"),
])
def test_catch_up_time_mistakes_get_a_specific_hint(answer, hint):
    feedback = check_catch_up_time(answer)
    assert not feedback
    assert hint in feedback.message, feedback.message


# -- Exercise 3: still_pending ------------------------------------------------------------------------------


def pending_right(pending, view_position):
    shown = []
    for order_id, position in pending:
        if position > view_position and order_id not in shown:
            shown.append(order_id)
    return shown


def pending_right_with_dict(pending, view_position):
    return list(dict.fromkeys(order_id for order_id, position in pending if position > view_position))


def pending_off_by_one(pending, view_position):
    return list(dict.fromkeys(order_id for order_id, position in pending if position >= view_position))


def pending_duplicates(pending, view_position):
    return [order_id for order_id, position in pending if position > view_position]


def pending_sorted(pending, view_position):
    return sorted(pending_right(pending, view_position), reverse=True)


def pending_first_command_only(pending, view_position):
    first = {}
    for order_id, position in pending:
        first.setdefault(order_id, position)
    return [order_id for order_id, position in first.items() if position > view_position]


@pytest.mark.parametrize("answer", [pending_right, pending_right_with_dict])
def test_still_pending_right_answers_pass(answer):
    assert check_still_pending(answer)


@pytest.mark.parametrize("answer, hint", [
    (..., "define still_pending"),
    (pending_off_by_one, "has applied it"),
    (pending_duplicates, "shows once"),
    (pending_sorted, "order in which"),
    (pending_first_command_only, "every command"),
    (lambda pending, view_position: set(), "return a list"),
    (lambda pending: [], "signature"),
])
def test_still_pending_mistakes_get_a_specific_hint(answer, hint):
    feedback = check_still_pending(answer)
    assert not feedback
    assert hint in feedback.message, feedback.message
