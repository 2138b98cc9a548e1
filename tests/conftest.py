"""Fixtures shared by every test: one store per backend, so each guarantee is
proved on DuckDB *and* SQLite by the same test code."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from esdemo import EventStore, FakeClock

BACKENDS = ["duckdb", "sqlite"]
T0 = datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0, step=timedelta(minutes=1))


@pytest.fixture
def store(backend, clock):
    with EventStore(backend=backend, clock=clock) as s:
        yield s


@pytest.fixture
def store_file(backend, tmp_path):
    """A path for a file-backed store of the current backend."""
    return tmp_path / f"events.{backend}"
