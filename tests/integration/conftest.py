"""Fixtures several integration test modules share (the store fixtures are in tests/conftest.py)."""

from __future__ import annotations

import pytest
from projection_kit import STORAGES


@pytest.fixture(params=STORAGES)
def kind(request) -> str:
    """Where the view lives: a SQL table, a dict of documents, or a DataFrame (see projection_kit.make_storage)."""
    return request.param


class StoreReads(list):
    """``(from_version, events returned)`` for every ``store.read``, in order."""

    @property
    def from_versions(self) -> list[int]:
        return [from_version for from_version, _ in self]


@pytest.fixture
def reads(store, monkeypatch) -> StoreReads:
    """Spy on ``store.read`` for the rest of the test, to see what a load replays."""
    calls = StoreReads()
    original = store.read

    def spy(stream_id, from_version=1, **kwargs):
        events = original(stream_id, from_version, **kwargs)
        calls.append((from_version, len(events)))
        return events

    monkeypatch.setattr(store, "read", spy)
    return calls
