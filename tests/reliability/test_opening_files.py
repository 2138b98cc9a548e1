"""Issue 11, cases 10 and 11: opening the wrong thing gives the package's error, the same on both
backends, names the path and says what to do; and the store never reaches the network."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest

from esdemo import EventStore, NewEvent, StoreFileError
from esdemo.store.errors import EventStoreError

OTHER = {"duckdb": "sqlite", "sqlite": "duckdb"}


@pytest.fixture
def backend(backend):
    if backend == "postgres":
        pytest.skip("about store files (StoreFileError, a file of another backend): a PostgreSQL store is a URL, not a file")
    return backend


def _refused(path: Path, backend: str, *words: str) -> str:
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(StoreFileError) as refused:
        EventStore(path, backend=backend)
    message = str(refused.value)
    assert str(path) in message
    for word in words:
        assert word.lower() in message.lower(), message
    if before is not None:
        assert path.read_bytes() == before   # nothing was changed
    return message


def test_a_file_of_random_bytes(backend, tmp_path):
    path = tmp_path / "noise.db"
    path.write_bytes(bytes(range(256)) * 64)
    _refused(path, backend, "not an event store", "choose a new file")


def test_a_text_file(backend, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("shopping list: milk, eggs\n")
    _refused(path, backend, "not an event store")


def test_a_directory(backend, tmp_path):
    _refused(tmp_path, backend, "is a directory", "file path inside it")


def test_a_path_in_a_missing_directory(backend, tmp_path):
    path = tmp_path / "no" / "such" / "folder" / "events.db"
    _refused(path, backend, "does not exist", "mkdir")
    assert not path.parent.exists()


def test_a_file_made_by_the_other_backend(backend, tmp_path):
    path = tmp_path / "store.db"
    with EventStore(path, backend=OTHER[backend]) as other:
        other.append("a", [NewEvent("E", {})], expected_version=0)
    _refused(path, backend, f"backend={OTHER[backend]!r}")
    with EventStore(path, backend=OTHER[backend]) as again:   # untouched: still opens with its own backend
        assert again.head() == 1


@pytest.mark.parametrize("made_by", ["sqlite", "duckdb"])
def test_another_applications_events_table(backend, made_by, tmp_path):
    if made_by != backend:
        pytest.skip("a file of the other backend is refused before its tables are looked at (test above)")
    path = tmp_path / "app.db"
    if made_by == "sqlite":
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, payload TEXT)")
        con.execute("INSERT INTO events VALUES (1, 'click', '{}')")
        con.commit()
        con.close()
    else:
        con = duckdb.connect(str(path))
        con.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, kind VARCHAR, payload VARCHAR)")
        con.execute("INSERT INTO events VALUES (1, 'click', '{}')")
        con.close()
    _refused(path, backend, "not an event store's", "file of its own")
    if made_by == "sqlite":   # no table, no trigger was added to the other application's database
        con = sqlite3.connect(path)
        names = sorted(name for (name,) in con.execute("SELECT name FROM sqlite_master"))
        con.close()
        assert names == ["events"]


def test_a_zero_byte_file_is_an_empty_store_on_both_backends(backend, tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    with EventStore(path, backend=backend) as store:
        assert store.head() == 0
        store.append("a", [NewEvent("E", {})], expected_version=0)
    with EventStore(path, backend=backend) as store:
        assert [e.stream_id for e in store.read_all()] == ["a"]


def test_a_damaged_store_file_names_the_path(backend, tmp_path):
    path = tmp_path / "damaged.db"
    with EventStore(path, backend=backend) as store:
        store.append("a", [NewEvent("E", {"n": n}) for n in range(200)], expected_version=0)
    for leftover in tmp_path.glob("damaged.db-*"):   # SQLite's WAL files
        leftover.unlink()
    raw = bytearray(path.read_bytes())
    header = 16 if backend == "sqlite" else 12          # keep the magic bytes, damage what follows
    raw[header:header + 4096] = b"\xff" * min(4096, len(raw) - header)
    path.write_bytes(bytes(raw))
    with pytest.raises(EventStoreError) as refused:
        with EventStore(path, backend=backend) as store:
            store.read_all()
    assert str(path) in str(refused.value)


# -- case 11: never the network ------------------------------------------------------------

def test_duckdb_never_installs_or_loads_extensions_by_itself(backend, tmp_path):
    with EventStore(tmp_path / "s.db", backend=backend) as store:
        if backend == "sqlite":
            pytest.skip("SQLite has no extension downloads")
        settings = "SELECT current_setting('autoinstall_known_extensions'), current_setting('autoload_known_extensions')"
        assert store.query(settings) == [(False, False)]
        assert store.connection.execute(settings).fetchall() == [(False, False)]
        with store.transaction() as cur:
            assert cur.execute(settings).fetchall() == [(False, False)]
        with pytest.raises(EventStoreError, match="never reaches the network"):
            store.connection.execute("SET autoinstall_known_extensions = true")
        assert store.query(settings) == [(False, False)]


def test_opening_a_sqlite_file_with_duckdb_fails_clearly_without_a_download(backend, tmp_path):
    """DuckDB used to see a SQLite file and try to download its sqlite extension from the internet."""
    path = tmp_path / "shop.sqlite"
    with EventStore(path, backend="sqlite") as store:
        store.append("a", [NewEvent("E", {})], expected_version=0)
    extensions = Path.home() / ".duckdb" / "extensions"
    before = sorted(extensions.rglob("*")) if extensions.exists() else []
    message = _refused(path, "duckdb", "SQLite", "backend='sqlite'")
    assert "install" not in message.lower() and "extension" not in message.lower()
    after = sorted(extensions.rglob("*")) if extensions.exists() else []
    assert after == before   # nothing downloaded
    # and DuckDB itself, opened as the store opens it, refuses to fetch anything
    with EventStore(backend="duckdb") as store:
        with pytest.raises(Exception) as raw:
            store.query(f"SELECT * FROM sqlite_scan('{path}', 'events')")
        assert "autoload" in str(raw.value).lower() or "install" in str(raw.value).lower()
    assert (sorted(extensions.rglob("*")) if extensions.exists() else []) == before
