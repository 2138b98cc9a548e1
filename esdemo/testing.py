"""``from esdemo import given``: one entry point for aggregate, decider and projection specs.

``given(events, aggregate=Order).when(command).then(...)`` comes from
:mod:`esdemo.write.testing`; ``given(events).then_view(OrderSummary, rows=[...])``
from :mod:`esdemo.read.testing`; ``given(events).then_commands(CheckoutProcess, ...)``
from :mod:`esdemo.process.testing`. The write side never imports the read side,
so the one ``given`` that offers all three lives here, above them.
"""

from __future__ import annotations

from typing import Any

from .process import testing as process_testing
from .read import testing as read_testing
from .write import testing as write_testing


class Given(write_testing.Given):
    """A history of events: ``.when(command)`` for the write side, ``.then_view(...)`` for a projection."""

    def then_view(self, projection: Any, rows: Any = None, **options: Any) -> Any:
        """See :meth:`esdemo.read.testing.ViewGiven.then_view`."""
        __tracebackhide__ = True
        return read_testing.ViewGiven(self.events).then_view(projection, rows, **options)

    def then_commands(self, process: Any, *expected: Any, after: Any = None) -> list[Any]:
        """See :func:`esdemo.process.testing.then_commands`."""
        __tracebackhide__ = True
        return process_testing.then_commands(self.events, process, *expected, after=after)


def given(*events: Any, **options: Any) -> Given:
    """Start a spec; see :func:`esdemo.write.testing.given` for the options."""
    if len(events) == 1 and isinstance(events[0], (list, tuple)) and not read_testing._is_pair(events[0]):
        events = tuple(events[0])
    return Given(list(events), **options)


given.__doc__ = write_testing.given.__doc__
