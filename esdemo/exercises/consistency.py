"""Notebook 11 · Eventual consistency."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from ..read.memory_views import Documents
from ..read.projection import Projection
from ..read.projection_runner import ProjectionRunner
from ..store.events import ANY, NewEvent
from .feedback import Feedback, _fresh_store, _no, _not_done, _ok, _RunawayLoop


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
        self.questions += 1         # a loop on view.position alone must not spin for ever either
        if self.questions > 200:
            raise _RunawayLoop()
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
    for n in range(4):   # one append each: a batch never splits an append, so batches of 2 stay 2
        store.append("Order-others", [NewEvent("ItemAdded", {"n": n})], expected_version=n)
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
            return None, ("your function asks the view (view.has_reached(...) or view.position) again and again "
                          "without calling tick() in between. Nothing changes between two questions unless time "
                          "passes: tick() after each no.")
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


def _right_catch_up_time(backlog: float, write_rate: float, projection_rate: float, batch_size: int,
                         batch_overhead_s: float) -> float | None:
    ceiling = batch_size / (batch_overhead_s + batch_size / projection_rate)
    headroom = ceiling - write_rate
    return backlog / headroom if headroom > 0 else None


_CATCH_UP_CASES = [  # backlog, write rate, projection rate, batch size, commit cost
    (10_000, 100, 1000, 200, 0.05),       # section 5's backlog, batches of 200: ceiling 800/s, headroom 700/s
    (1_600, 100, 250, 100, 0.0),          # section 4's burst: no commit cost, headroom 150/s
    (3_000, 250, 250, 100, 0.0),          # ceiling 250/s, writes 250/s: no headroom, never
    (5_000, 150, 1000, 5, 0.02),          # tiny batches: ceiling 200/s, headroom 50/s
    (0, 50, 400, 50, 0.01),               # nothing waiting
    (10_000, 100, 1000, 10, 0.05),        # section 5, batches of 10: ceiling 167/s
    (500, 300, 250, 1000, 0.0),           # slower than the writes: never
]


def check_catch_up_time(catch_up_time: Callable[..., Any]) -> Feedback:
    """Exercise 94.2: ``catch_up_time(backlog, write_rate, projection_rate, batch_size, batch_overhead_s)``.

    Seconds until a view with ``backlog`` events waiting has caught up while
    commands keep writing, or ``None`` if it never will: the backlog divided by
    the headroom, where the projection's rate is capped by the batch ceiling.
    """
    if _not_done(catch_up_time) or not callable(catch_up_time):
        return _no("define catch_up_time(backlog, write_rate, projection_rate, batch_size, batch_overhead_s) first.")
    for backlog, write_rate, projection_rate, batch_size, overhead in _CATCH_UP_CASES:
        shown = f"catch_up_time({backlog}, {write_rate}, {projection_rate}, {batch_size}, {overhead})"
        expected = _right_catch_up_time(backlog, write_rate, projection_rate, batch_size, overhead)
        try:
            answer = catch_up_time(backlog, write_rate, projection_rate, batch_size, overhead)
        except ZeroDivisionError:
            return _no(f"{shown} divided by zero. When the headroom is zero or negative the view never catches up: "
                       "test for that first and return None.")
        except TypeError as exc:
            return _no(f"call signature mismatch ({exc}). Use catch_up_time(backlog, write_rate, projection_rate, "
                       "batch_size, batch_overhead_s).")
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            return _no(f"{shown} raised {type(exc).__name__}: {exc}")
        if expected is None:
            if answer is None:
                continue
            if isinstance(answer, (int, float)) and not isinstance(answer, bool) and (answer < 0 or answer == float("inf")):
                return _no(f"{shown} returned {answer!r}. The view never catches up here (the projection's ceiling, "
                           f"{batch_size / (overhead + batch_size / projection_rate):.0f} events/s, is not above the "
                           f"{write_rate} events/s written): return None, so that nobody mistakes it for a time.")
            return _no(f"{shown} returned {answer!r}, but with a ceiling of "
                       f"{batch_size / (overhead + batch_size / projection_rate):.0f} events/s against {write_rate} "
                       "written the backlog never shrinks. Return None when the headroom is zero or less.")
        if answer is None:
            return _no(f"{shown} returned None, but this projection has headroom: it catches up after {expected:.1f} s.")
        if not isinstance(answer, (int, float)) or isinstance(answer, bool):
            return _no(f"{shown} returned {answer!r}; return a number of seconds (a float), or None.")
        if abs(answer - expected) <= 1e-6 * max(1.0, expected):
            continue
        if backlog and abs(answer - backlog / (projection_rate - write_rate)) <= 1e-6 * answer and overhead:
            return _no(f"{shown} returned {answer:.2f}: you used the projection rate as it is. Every batch also pays "
                       f"the {overhead} s commit, so the projection applies at most batch_size / (batch_overhead_s + "
                       "batch_size / projection_rate) events a second (its ceiling). Use that rate.")
        ceiling = batch_size / (overhead + batch_size / projection_rate)
        if backlog and abs(answer - backlog / ceiling) <= 1e-6 * answer:
            return _no(f"{shown} returned {answer:.2f}: the time to apply the backlog alone. Meanwhile commands keep "
                       f"writing {write_rate} events a second, so the backlog shrinks only by the headroom, the "
                       "ceiling minus the write rate. Divide by that.")
        return _no(f"{shown} returned {answer!r}; expected {expected:.2f} s (ceiling {ceiling:.1f} events/s, headroom "
                   f"{ceiling - write_rate:.1f} events/s).")
    return _ok("the ceiling caps the projection's rate, the backlog shrinks by the headroom (ceiling minus writes), "
               "and a projection without headroom never catches up (None).")


_PENDING_CASES = [  # the client's remembered commands (order id, position written), the view's checkpoint
    ([("A", 5), ("B", 7), ("A", 9)], 7),
    ([("A", 5), ("B", 7), ("A", 9)], 4),
    ([("A", 5), ("B", 7), ("A", 9)], 9),
    ([], 3),
    ([("C", 3), ("D", 2)], 2),
    ([("E", 4), ("F", 6), ("E", 5)], 3),
]


def _right_still_pending(pending: list[tuple[str, int]], view_position: int) -> list[str]:
    shown: list[str] = []
    for order_id, position in pending:
        if position > view_position and order_id not in shown:
            shown.append(order_id)
    return shown


def check_still_pending(still_pending: Callable[..., Any]) -> Feedback:
    """Exercise 09.2: ``still_pending(pending, view_position) -> [order_id, ...]``, the optimistic UI's list.

    The orders a page must still show as "placing..." because the view has not
    applied one of their commands yet: each order once, in the order the client
    sent them.
    """
    if _not_done(still_pending) or not callable(still_pending):
        return _no("define still_pending(pending, view_position) first.")
    for pending, view_position in _PENDING_CASES:
        shown = f"still_pending({pending}, {view_position})"
        expected = _right_still_pending(pending, view_position)
        try:
            answer = still_pending(list(pending), view_position)
        except TypeError as exc:
            return _no(f"call signature mismatch ({exc}). Use still_pending(pending, view_position), where pending is a "
                       "list of (order_id, position) pairs.")
        except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
            return _no(f"{shown} raised {type(exc).__name__}: {exc}")
        if not isinstance(answer, list):
            return _no(f"{shown} returned a {type(answer).__name__}; return a list of order ids, in the order sent.")
        if answer == expected:
            continue
        at_the_position = [order_id for order_id, position in pending if position == view_position]
        if at_the_position and at_the_position[0] in answer and at_the_position[0] not in expected:
            return _no(f"{shown} returned {answer}: order {at_the_position[0]!r} was written at position "
                       f"{view_position}, and a view whose checkpoint is {view_position} has applied it. Pending means "
                       "position > view_position (has_reached uses >=).")
        if len(answer) != len(set(answer)):
            return _no(f"{shown} returned {answer}: an order shows once, however many of its commands are pending.")
        if sorted(answer) == sorted(expected):
            return _no(f"{shown} returned {answer}; keep the order in which the client sent them: {expected}.")
        if any(order_id not in answer for order_id in expected):
            missing = next(order_id for order_id in expected if order_id not in answer)
            return _no(f"{shown} returned {answer}, without {missing!r}: one of its commands (a later one, perhaps) "
                       "is above the view's checkpoint, so the view does not show it yet. Look at every command, not "
                       "only the first of each order.")
        return _no(f"{shown} returned {answer}; expected {expected}.")
    return _ok("a command is pending while its position is above the view's checkpoint; each order shows once, in the "
               "order sent, and a view exactly at the position has applied it.")
