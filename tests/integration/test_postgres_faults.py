"""Faults on a server store: the package's own errors, no hang, nothing half-written."""

from __future__ import annotations

import socket
import threading
import uuid

import psycopg
import pytest
from store_factory import new_store, require_postgres

from esdemo import EventStore, NewEvent
from esdemo.postgres_server import ENV_URL, fresh_store_url, shared_server_url
from esdemo.store.errors import EventStoreError, StoreAuthenticationError, StoreUnavailableError


def _run_with_guard(action, seconds: float = 60):
    """Run ``action`` in a thread; fail (instead of hanging the suite) if it has not returned in ``seconds``."""
    outcome: list = []

    def run():
        try:
            outcome.append(action())
        except BaseException as exc:  # asserted on by the caller
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still waiting after {seconds} s: the connect timeout did not apply"
    return outcome[0]


def test_a_server_that_is_down_gets_a_clear_error_naming_the_url_without_its_password():
    with socket.socket() as probe:             # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://alice:s3cret@127.0.0.1:{port}/shop"
    with pytest.raises(StoreUnavailableError) as info:
        EventStore(url)
    message = str(info.value)
    assert f"postgresql://alice:***@127.0.0.1:{port}/shop" in message
    assert "s3cret" not in message
    assert "Is the server running" in message and ENV_URL in message


def test_a_server_that_never_answers_gives_up_after_the_connect_timeout():
    silent = socket.socket()                   # accepts the TCP connection, never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    try:
        error = _run_with_guard(lambda: EventStore(f"postgresql://bob@127.0.0.1:{port}/shop?connect_timeout=1"))
    finally:
        silent.close()
    assert isinstance(error, StoreUnavailableError), error
    assert "connect timeout" in str(error)


def test_an_unknown_role_is_an_authentication_error():
    require_postgres()
    base = shared_server_url()
    url = base.replace("postgresql://postgres", "postgresql://nobody_here", 1)
    if url == base:
        pytest.skip(f"{ENV_URL} does not use the postgres role; cannot derive a wrong one")
    with pytest.raises(StoreAuthenticationError, match="refused the credentials"):
        EventStore(url)


def test_a_wrong_password_is_an_authentication_error_and_the_right_one_works():
    require_postgres()
    from esdemo import postgres_server

    server = postgres_server._shared
    if server is None:
        pytest.skip(f"{ENV_URL} points at a server whose authentication this test cannot configure")
    hba = server.folder / "pg_hba.conf"
    original = hba.read_text()
    role = "esdemo_pw_" + uuid.uuid4().hex[:6]
    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'right-one'")
        admin.execute(f"GRANT CREATE ON SCHEMA public TO {role}")
        hba.write_text(f"local all {role} scram-sha-256\n" + original)   # this role must give its password
        admin.execute("SELECT pg_reload_conf()")
        try:
            wrong = server.url.replace("postgresql://postgres:", f"postgresql://{role}:wrong-one", 1)
            with pytest.raises(StoreAuthenticationError) as info:
                EventStore(wrong)
            assert "wrong-one" not in str(info.value) and "password" in str(info.value)
            schema_url = fresh_store_url(server.url)
            admin.execute(f"GRANT ALL ON SCHEMA {schema_url.split('%3D')[-1]} TO {role}")
            right = schema_url.replace("postgresql://postgres:", f"postgresql://{role}:right-one", 1)
            with EventStore(right) as store:
                assert store.append("a", [NewEvent("E", {})], expected_version=0).position == 1
        finally:
            hba.write_text(original)
            admin.execute("SELECT pg_reload_conf()")


def test_a_connection_dropped_in_the_middle_of_an_append_keeps_nothing_and_a_retry_is_safe(monkeypatch):
    require_postgres()
    store = new_store("postgres")
    store.append("before", [NewEvent("E", {})], expected_version=0)
    backend = store._backend
    real_insert = backend.insert_events
    inserted, release = threading.Event(), threading.Event()
    pids: list[int] = []

    def insert_then_wait(cur, rows):
        real_insert(cur, rows)                  # the rows are written, not committed
        pids.append(cur.connection.info.backend_pid)
        inserted.set()
        release.wait(30)

    monkeypatch.setattr(backend, "insert_events", insert_then_wait)
    batch = [NewEvent("Ordered", {"i": i}) for i in range(3)]
    outcome: list = []
    writer = threading.Thread(target=lambda: outcome.append(_capture(
        lambda: store.append("order-1", batch, expected_version=0))))
    writer.start()
    assert inserted.wait(30)
    with psycopg.connect(backend.url, autocommit=True) as admin:   # the network drops (as an admin would kill it)
        admin.execute("SELECT pg_terminate_backend(%s)", [pids[0]])
    release.set()
    writer.join(30)
    (error,) = outcome
    assert isinstance(error, StoreUnavailableError), error
    assert "all or nothing" in str(error) and "same event ids" in str(error)
    monkeypatch.setattr(backend, "insert_events", real_insert)
    assert store.read("order-1") == [] and store.head() == 1          # nothing of the batch was kept
    first = store.append("order-1", batch, expected_version=0)        # the retry, same ids: written once
    again = store.append("order-1", batch, expected_version=0)        # and a retry of the retry: same answer
    assert first == again and first.version == 3 and first.position == 4
    assert [e.event_id for e in store.read("order-1")] == [e.event_id for e in batch]
    store.close()


def test_the_postgres_backend_needs_a_url():
    with pytest.raises(ValueError, match="needs a server URL"):
        EventStore(backend="postgres")
    with pytest.raises(ValueError, match="backend='postgres'"):
        EventStore("postgresql://me@localhost/shop", backend="sqlite")


def test_a_missing_driver_is_a_clear_error(monkeypatch):
    import sys

    from esdemo.store.errors import BackendNotInstalledError

    monkeypatch.setitem(sys.modules, "psycopg", None)          # as if psycopg were not installed
    monkeypatch.delitem(sys.modules, "esdemo.store.backends.postgres", raising=False)
    with pytest.raises(BackendNotInstalledError, match="pip install 'psycopg"):
        EventStore("postgresql://me@localhost/shop")
    assert issubclass(BackendNotInstalledError, EventStoreError)


def _capture(action):
    try:
        return action()
    except BaseException as exc:  # returned for the test to assert on
        return exc
