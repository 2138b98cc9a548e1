"""Storage backends for :class:`esdemo.EventStore`: DuckDB (default), SQLite and PostgreSQL.

The embedded backends open a file path (or ``":memory:"``); PostgreSQL opens a
URL (``postgresql://user@host/db``) and is imported only when first used, so
``import esdemo`` never needs psycopg.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import BackendNotInstalledError
from .duckdb_backend import DuckDBBackend
from .sqlite_backend import SQLiteBackend
from .urls import SERVER_URL_SCHEMES, is_server_url, redact


def _postgres(url: Any) -> Any:
    try:
        from .postgres import PostgresBackend
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("psycopg"):
            raise
        raise BackendNotInstalledError(
            "The PostgreSQL backend needs psycopg 3, which is not installed: pip install 'psycopg[binary]' "
            "(make lab and make test install it with the rest)."
        ) from exc
    return PostgresBackend(url)


BACKENDS = {"duckdb": DuckDBBackend, "sqlite": SQLiteBackend, "postgres": _postgres}
SERVER_BACKENDS = frozenset({"postgres"})


def open_backend(name: str, path: Any) -> Any:
    """The backend ``name`` on ``path`` (a file path, ``":memory:"``, or a server URL)."""
    if name in SERVER_BACKENDS:
        if not is_server_url(path):
            raise ValueError(
                f"the {name} backend needs a server URL such as 'postgresql://user@localhost/shop', got {path!r}. "
                "For a throwaway server: from esdemo.postgres_server import start_throwaway_server."
            )
        return BACKENDS[name](path)
    if is_server_url(path):
        raise ValueError(f"{path.split('://')[0]}:// is a server URL; pass backend='postgres' (or leave backend out), "
                         f"not backend={name!r}")
    return BACKENDS[name](Path(path) if path != ":memory:" else path)


__all__ = ["BACKENDS", "DuckDBBackend", "SERVER_BACKENDS", "SERVER_URL_SCHEMES", "SQLiteBackend", "is_server_url",
           "open_backend", "redact"]
