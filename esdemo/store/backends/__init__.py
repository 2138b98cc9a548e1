"""Storage backends for :class:`esdemo.EventStore`: DuckDB (default) and SQLite."""

from .duckdb_backend import DuckDBBackend
from .sqlite_backend import SQLiteBackend

BACKENDS = {"duckdb": DuckDBBackend, "sqlite": SQLiteBackend}

__all__ = ["BACKENDS", "DuckDBBackend", "SQLiteBackend"]
