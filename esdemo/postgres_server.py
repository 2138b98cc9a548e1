"""A throwaway PostgreSQL server for learners, tests and benchmarks (a dev helper, not the core).

``pgserver`` (on PyPI) ships PostgreSQL's binaries inside a wheel: this module
starts one in a temporary folder in about a second, listening only on a unix
socket there, and deletes it all when stopped (or when Python exits)::

    with start_throwaway_server() as server:
        store = EventStore(fresh_store_url(server.url))

Run as root (containers, CI), pgserver runs the server as a system user
``pgserver``, which it creates with ``useradd`` the first time, and opens up
the folders above the data folder for it to traverse: PostgreSQL refuses to
run as root.

Set ``ESDEMO_POSTGRES_URL`` (e.g. ``postgresql://me:secret@db.example/esdemo``)
to use an existing server instead: :func:`shared_server_url` then returns it and
starts nothing. Either way :func:`fresh_store_url` gives each store a schema of
its own (``?options=-csearch_path=...``), so tests, notebooks and benchmarks
never see each other's events, and creating one takes milliseconds (a new
database would take a copy of a template).
"""

from __future__ import annotations

import atexit
import itertools
import os
import secrets
import shutil
import tempfile
import threading
import warnings
from pathlib import Path
from urllib.parse import quote

from .store.backends.urls import is_server_url, redact

ENV_URL = "ESDEMO_POSTGRES_URL"


def connect(url: str):
    """An autocommit psycopg connection (psycopg is imported only when a server is used)."""
    from .store.backends.postgres import connect as _connect

    return _connect(url)


# A throwaway server keeps nothing worth a disk flush: trade durability for speed.
_FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class ThrowawayServer:
    """A PostgreSQL server in a temporary folder; :meth:`stop` ends it and deletes the folder."""

    def __init__(self, folder: str | os.PathLike[str] | None = None, *, fast: bool = True):
        with warnings.catch_warnings():   # platformdirs warns that XDG_RUNTIME_DIR is unset (it falls back to /tmp)
            warnings.simplefilter("ignore")
            try:
                import pgserver
            except ModuleNotFoundError as exc:
                from .store.errors import BackendNotInstalledError

                raise BackendNotInstalledError(
                    "A throwaway PostgreSQL server needs the pgserver package: pip install pgserver "
                    f"(make lab installs it), or set {ENV_URL} to a server of your own."
                ) from exc
        self._made_folder = folder is None
        self.folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="esdemo-pg-"))
        self._server = pgserver.get_server(self.folder, cleanup_mode="delete")
        self.url: str = self._server.get_uri()
        if fast:
            with connect(self.url) as conn:
                for name, value in _FAST_SETTINGS.items():
                    conn.execute(f"ALTER SYSTEM SET {name} = {value}")
                conn.execute("SELECT pg_reload_conf()")
        self._stopped = False

    def stop(self) -> None:
        """Stop the server and delete its folder. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self._server.cleanup()
        if self._made_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> ThrowawayServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<ThrowawayServer {self.url} {'stopped' if self._stopped else 'running'}>"


def start_throwaway_server(folder: str | os.PathLike[str] | None = None) -> ThrowawayServer:
    """Start a PostgreSQL server in ``folder`` (a new temporary one by default); see the module docstring."""
    return ThrowawayServer(folder)


_shared: ThrowawayServer | None = None
_shared_lock = threading.Lock()


def shared_server_url() -> str:
    """``ESDEMO_POSTGRES_URL`` if set, else the URL of one throwaway server per process, started on first use."""
    global _shared
    url = os.environ.get(ENV_URL)
    if url:
        if not is_server_url(url):
            raise ValueError(f"{ENV_URL} must be a URL such as postgresql://user:password@host/db, got {redact(url)!r}")
        return url
    with _shared_lock:
        if _shared is None:
            _shared = start_throwaway_server()
            atexit.register(_shared.stop)
        return _shared.url


def stop_shared_server() -> None:
    """Stop the per-process throwaway server, if one was started."""
    global _shared
    with _shared_lock:
        if _shared is not None:
            _shared.stop()
            _shared = None


_counter = itertools.count(1)


def fresh_store_url(base_url: str | None = None, prefix: str = "esdemo") -> str:
    """A URL on ``base_url`` (default :func:`shared_server_url`) whose store lives in a new, empty schema."""
    base_url = base_url or shared_server_url()
    if "options=" in base_url:
        raise ValueError(f"{redact(base_url)} already sets options=; pass a URL without them")
    schema = f"{prefix}_{os.getpid()}_{next(_counter)}_{secrets.token_hex(3)}"
    with connect(base_url) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options={quote('-csearch_path=' + schema)}"


def scratch_location(backend: str) -> str:
    """Where a demo opens a new, empty store of ``backend``: ``":memory:"``, or a fresh schema on PostgreSQL."""
    return fresh_store_url() if backend == "postgres" else ":memory:"


def drop_store(url: str) -> None:
    """Drop the schema a :func:`fresh_store_url` URL points at (its events, views, everything)."""
    with connect(url) as conn:
        schema = conn.execute("SELECT current_schema()").fetchone()[0]
        if schema is not None and schema != "public":
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
