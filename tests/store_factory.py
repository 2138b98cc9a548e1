"""Make a store of any backend the same way, so one test proves a guarantee on all three.

DuckDB and SQLite open ``":memory:"`` or a file path; PostgreSQL opens a URL.
``new_store(backend)`` gives a fresh, empty store of each: for PostgreSQL a
new schema on the session's server (a throwaway ``pgserver``, or
``ESDEMO_POSTGRES_URL``). ``store_location(backend, tmp_path)`` is the
equivalent of a file: a location that a second ``EventStore`` (or another
process) can open again.
"""

from __future__ import annotations

import os
from pathlib import Path

from esdemo import EventStore

REQUIRE_POSTGRES = "ESDEMO_REQUIRE_POSTGRES"
_postgres_problem: list[str] = []   # why PostgreSQL cannot run here, found once per session


def postgres_problem() -> str | None:
    """None when a PostgreSQL server is available, else why not (checked once)."""
    if not _postgres_problem:
        try:
            from esdemo.postgres_server import shared_server_url
            from esdemo.store.backends.postgres import connect

            with connect(shared_server_url()) as conn:
                conn.execute("SELECT 1")
            _postgres_problem.append("")
        except Exception as exc:  # reported by the backend fixture as a skip (or a failure in CI)
            _postgres_problem.append(f"no PostgreSQL server: {type(exc).__name__}: {exc}")
    return _postgres_problem[0] or None


def require_postgres() -> None:
    """Skip (or, under ESDEMO_REQUIRE_POSTGRES=1, fail) when no PostgreSQL server can be had."""
    import pytest

    problem = postgres_problem()
    if problem is not None:
        if os.environ.get(REQUIRE_POSTGRES) == "1":
            pytest.fail(f"{REQUIRE_POSTGRES}=1 but {problem}")
        pytest.skip(problem)


def store_location(backend: str, tmp_path: Path, name: str = "events") -> str | Path:
    """A file path for DuckDB/SQLite, a URL with a new schema for PostgreSQL."""
    if backend == "postgres":
        from esdemo.postgres_server import fresh_store_url

        return fresh_store_url(prefix="test")
    return tmp_path / f"{name}.{backend}"


def fresh_location(backend: str) -> str:
    """``":memory:"`` for DuckDB/SQLite, a URL with a new, empty schema for PostgreSQL."""
    if backend == "postgres":
        from esdemo.postgres_server import fresh_store_url

        return fresh_store_url(prefix="test")
    return ":memory:"


def new_store(backend: str, location: str | os.PathLike | None = None, **kwargs) -> EventStore:
    """A new store of ``backend``: in memory (DuckDB/SQLite) or in a new schema (PostgreSQL) unless ``location``."""
    return EventStore(location if location is not None else fresh_location(backend), backend=backend, **kwargs)
