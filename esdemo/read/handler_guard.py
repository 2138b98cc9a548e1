"""Projection handlers may not append to the store they project.

A handler builds its view, nothing else. Its batch can be thrown away and
run again (a conflict, a crash, a retry after a failure), so an event it
appended would be appended twice, or kept for a batch that was never
committed. The runner therefore refuses such an append with
:class:`~esdemo.read.projection.AppendInHandlerError`, and fails the whole
batch even if the handler caught that error (otherwise the batch would
commit without the event the handler meant to derive).

How: while a runner's handlers run, this thread is marked as "inside a
handler of this store", and the store object's ``append`` and ``restore``
refuse to write from a marked thread. Other threads append as usual.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .projection import AppendInHandlerError

if TYPE_CHECKING:
    from ..store.event_store import EventStore

_local = threading.local()
_INSTALLED = "_esdemo_handler_guard"
_GUARDED = ("append", "restore")


class _Handling:
    def __init__(self, store: EventStore, view: str):
        self.store, self.view, self.refused = store, view, 0


@contextmanager
def refusing_appends(store: EventStore, view: str) -> Iterator[_Handling]:
    """Run a block of handlers of ``view``: appends to ``store`` from this thread are refused.

    After the block, if any append was refused (even one the handler caught),
    :class:`AppendInHandlerError` is raised: the batch must not commit.
    """
    _install(store)
    outer = getattr(_local, "handling", None)
    handling = _local.handling = _Handling(store, view)
    try:
        yield handling
    finally:
        _local.handling = outer
    if handling.refused:
        raise AppendInHandlerError(_message(view, "caught the refusal and went on; the batch was failed anyway, so "
                                                  "that the view does not commit without the event it meant to derive"))


def _message(view: str, what: str) -> str:
    return (f"a handler of the projection {view!r} appended to the event store it projects ({what}). "
            "A projection handler only updates its view: its batch may be run again, so the event would be "
            "appended twice or without the view. Derive new events in a process manager (or a subscription "
            "that appends with deterministic event ids), not in a projection handler")


def _install(store: Any) -> None:
    if getattr(store, _INSTALLED, False):
        return
    for name in _GUARDED:
        original = getattr(store, name)

        @functools.wraps(original)
        def guarded(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            handling = getattr(_local, "handling", None)
            if handling is not None and handling.store is store:
                handling.refused += 1
                raise AppendInHandlerError(_message(handling.view, "refused"))
            return __original(*args, **kwargs)

        setattr(store, name, guarded)
    setattr(store, _INSTALLED, True)
