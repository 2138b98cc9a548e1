"""Tiered hints: help that arrives one step at a time, only when the learner asks.

An exercise's instructions say *what* to build; its hints say, in growing
detail, *how*: the first points at the idea, the next at the tool, the last
nearly at the code. A learner who is stuck reveals one and tries again, so
the solution is never dictated up front. The widget is
:func:`esdemo.widgets.build_hints`; this module holds the hints and the
pure logic, so tests can read them without a notebook.
"""

from __future__ import annotations

from collections.abc import Sequence

HINTS: dict[str, tuple[str, ...]] = {
    "event_names": (
        "Read each name aloud and ask: is it an order given (\"ship the order!\"), or a fact that already "
        "happened? And if it is a fact, does it say what happened in the business, or only that some data changed?",
        "Imperative verbs (Update..., Ship..., Submit...) and names for the work (...Process) are commands in "
        "disguise; Updated, Deleted, StatusSetTo... describe a row, so they are CRUD-shaped. The rest are events.",
        "For the better name, read the 'when it is written' column and name that fact: Noun + past participle, "
        "in PascalCase, e.g. 'written when the courier collected the parcel' -> OrderShipped. A good event keeps "
        "its name (write None).",
    ),
    "warehouse_message": (
        "Ask what the warehouse must know to pick and pack without calling the order service back, and what it "
        "must never learn.",
        "It needs which order and, per line, which sku and how many; the name, e-mail, address, card, prices and "
        "total stay home.",
        "Build a new dict: {'order_id': order['order_id'], 'lines': [{'sku': ..., 'quantity': ...} for line in "
        "order['lines']]}, keeping the lines in their order.",
    ),
    "events_to_replay": (
        "A load replays what comes after the snapshot it starts from, up to the version it wants. "
        "So the question is: which stored snapshot can this load start from?",
        "A snapshot is usable only if its schema_version is the loading class's, and it was taken at or "
        "before the target version (a snapshot of version 900 cannot help load version 800).",
        "Among the usable snapshots take the newest (max of their versions, 0 when there is none); "
        "the answer is range(that version + 1, target + 1), where target is at_version or the stream's version.",
    ),
    "compensation": (
        "Compensation undoes what *completed*, and only that: after ['stock'] nothing was charged, so there is "
        "nothing to refund. Which command undoes each step?",
        "A charge is undone by RefundPayment, a reservation by ReleaseStock; both are new events, nothing is "
        "deleted. Undo the newest step first, like unwinding a stack: reversed(completed).",
        "Map each step to its (step name, command) pair, e.g. {'payment': ('refund-payment', RefundPayment(order_id, "
        "reason)), ...}, return [undo[s] for s in reversed(completed)] and finish with ('cancel-order', "
        "CancelOrder(order_id, reason)).",
    ),
    "revenue_per_customer": (
        "An OrderPaid names its order, not its customer. Where in the log did you last see which customer "
        "an order belongs to?",
        "Walk the events once, in order: remember each order's customer when its OrderCreated goes by, and "
        "look it up when the order's OrderPaid arrives.",
        "Decode each event with default_registry.decode(recorded): the upcasters turn a V1 payment into the "
        "current version, with currency USD, so your code handles one shape only. Skip other event types "
        "before decoding.",
    ),
}


class Hints:
    """The hints of one exercise and how many have been shown: ``reveal()`` shows the next one."""

    def __init__(self, hints: Sequence[str]):
        hints = tuple(hints)
        if not hints or not all(isinstance(h, str) and h.strip() for h in hints):
            raise ValueError("give at least one hint, each a non-empty string")
        self.hints = hints
        self.shown = 0

    @classmethod
    def for_exercise(cls, name: str) -> Hints:
        """The hints registered for exercise ``name`` (e.g. ``"events_to_replay"``)."""
        if name not in HINTS:
            raise KeyError(f"no hints for {name!r}; exercises with hints: {', '.join(sorted(HINTS))}")
        return cls(HINTS[name])

    @property
    def remaining(self) -> int:
        """How many hints are still hidden."""
        return len(self.hints) - self.shown

    def reveal(self) -> str:
        """Show the next hint and return it; once all are shown, say so instead."""
        if not self.remaining:
            return "That was the last hint: compare your code with each of them, then run the check."
        self.shown += 1
        return self.hints[self.shown - 1]

    def revealed(self) -> tuple[str, ...]:
        """The hints shown so far, in order."""
        return self.hints[: self.shown]
