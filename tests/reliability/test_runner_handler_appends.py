"""Issue 11, case 8: a projection handler that appends to the store it projects is refused.

Its batch may be run again, so a derived event would be appended twice or
kept for a batch that was thrown away: the runner refuses the append with
AppendInHandlerError, and fails the batch even if the handler caught it.
"""

from __future__ import annotations

import threading

import pytest
from store_factory import new_store

from esdemo import EventStore, NewEvent
from esdemo.read.memory_views import Documents
from esdemo.read.projection import AppendInHandlerError, Projection, ProjectionError
from esdemo.read.projection_runner import ProjectionRunner
from esdemo.read.sql_views import SqlTable


class Deriving(Projection):
    """Counts orders, and (wrongly) appends a derived event for each one."""

    name = "deriving"

    def __init__(self, store, storage=None, *, swallow=False):
        super().__init__(storage)
        self.store, self.swallow, self.caught = store, swallow, []

    def default_storage(self):
        return SqlTable(key="stream_id", columns={"stream_id": "VARCHAR", "n": "INTEGER"})

    def handle(self, event, recorded, view):
        view.upsert({"stream_id": recorded.stream_id, "n": 1})
        if recorded.type != "OrderPlaced":
            return
        try:
            self.store.append("Shipping-" + recorded.stream_id, [NewEvent("ShipmentRequested", {})],
                              expected_version=0)
        except Exception as exc:
            if not self.swallow:
                raise
            self.caught.append(exc)


@pytest.mark.parametrize("storage", ["sql", "documents"])
@pytest.mark.parametrize("swallow", [False, True], ids=["raises", "handler-catches-it"])
def test_a_handler_that_appends_is_refused_and_nothing_is_kept(backend, storage, swallow):
    with new_store(backend) as store:
        store.append("o-1", [NewEvent("OrderPlaced", {})], expected_version=0)
        projection = Deriving(store, None if storage == "sql" else Documents(key="stream_id"), swallow=swallow)
        runner = ProjectionRunner(store, projection)
        with pytest.raises(AppendInHandlerError, match="process manager") as caught:
            runner.run_once()
        assert isinstance(caught.value, ProjectionError)
        assert "deriving" in str(caught.value)
        if swallow:
            assert len(projection.caught) == 1 and isinstance(projection.caught[0], AppendInHandlerError)
        assert store.head() == 1                      # no derived event
        assert runner.position == 0                   # the batch did not commit
        if storage == "sql":
            assert projection.storage.query() == []
        else:
            assert len(projection.storage) == 0


def test_other_threads_still_append_while_handlers_run(backend):
    # The refusal is for the handler's own thread only: writers elsewhere are not affected.
    with new_store(backend) as store:
        store.append("o-1", [NewEvent("Noted", {})], expected_version=0)
        results = []

        class AppendsElsewhere(Projection):
            name = "elsewhere"

            def default_storage(self):
                return SqlTable(key="stream_id", columns={"stream_id": "VARCHAR"})

            def handle(self, event, recorded, view):
                thread = threading.Thread(target=lambda: results.append(
                    store.append("other", [NewEvent("Noted", {})], expected_version=0)))
                thread.start()
                thread.join(30)
                view.upsert({"stream_id": recorded.stream_id})

        runner = ProjectionRunner(store, AppendsElsewhere())
        assert runner.run_once() == 1
        assert len(results) == 1 and store.head() == 2
        # ... and outside a handler, this thread appends as usual.
        store.append("o-2", [NewEvent("Noted", {})], expected_version=0)
        assert store.head() == 3
