"""Fixtures shared by every test: one store per backend, so each guarantee is
proved on DuckDB, SQLite *and* PostgreSQL by the same test code.

PostgreSQL runs on one throwaway server per test session (``pgserver``), or on
``ESDEMO_POSTGRES_URL``, with a fresh schema per store. Where no server can be
started its cases skip, saying why; with ``ESDEMO_REQUIRE_POSTGRES=1`` (set
by ``.ci/run``) they fail instead, so CI cannot pass without them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from store_factory import new_store, require_postgres, store_location

from esdemo import FakeClock

BACKENDS = ["duckdb", "sqlite", "postgres"]
T0 = datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    if request.param == "postgres":
        require_postgres()
    return request.param



@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0, step=timedelta(minutes=1))


@pytest.fixture
def store(backend, clock):
    with new_store(backend, clock=clock) as s:
        yield s


@pytest.fixture
def store_file(backend, tmp_path):
    """A location a second store (or process) can open again: a file path, or a PostgreSQL URL."""
    return store_location(backend, tmp_path)
