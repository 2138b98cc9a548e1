"""Snapshots: a saved copy of an aggregate's state, so loading need not replay everything.

The seed's picture: an account with 10,000 events gets a snapshot at event
1000; loading it reads the snapshot and replays only events 1001..1050.

Three rules keep snapshots honest:

* They live **beside** the events, in a ``snapshots`` table of the same
  database, and never replace them: delete every snapshot and a full replay
  still gives the same state. A snapshot is a cache.
* Each one records the stream ``version`` it covers and the aggregate
  class's ``snapshot_version``. When the shape of the state changes, the
  class bumps its ``snapshot_version`` and older snapshots are simply
  ignored (full replay), never loaded into the wrong shape.
* State is stored with :mod:`esdemo.store.serialization`, so ``Decimal`` money
  comes back exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..store.serialization import dumps, loads

if TYPE_CHECKING:
    from ..store.event_store import EventStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (
    stream_id      VARCHAR NOT NULL,
    version        BIGINT  NOT NULL,   -- the stream version the state covers
    schema_version INTEGER NOT NULL,   -- the aggregate class's snapshot_version
    state          VARCHAR NOT NULL,   -- tagged JSON, see esdemo.store.serialization
    PRIMARY KEY (stream_id, version)
)
"""


@dataclass(frozen=True)
class Snapshot:
    """The state of one stream's aggregate as of ``version``."""

    stream_id: str
    version: int
    schema_version: int
    state: dict[str, Any]


class SnapshotStore:
    """Reads and writes the ``snapshots`` table next to the store's events.

    >>> snapshots = SnapshotStore(store)
    >>> snapshots.save("Account-123", 1000, 1, {"balance": Decimal("150")})
    >>> snapshots.latest("Account-123", schema_version=1).version
    1000
    """

    def __init__(self, store: EventStore):
        self._store = store
        with store.transaction() as cur:
            cur.execute(SCHEMA)

    def save(self, stream_id: str, version: int, schema_version: int, state: dict[str, Any]) -> Snapshot:
        """Store the state at ``version`` (replacing a snapshot at the same version)."""
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(f"a snapshot covers a stream version >= 1, got {version!r}")
        text = dumps(state, f"the snapshot state of {stream_id}")
        with self._store.transaction() as cur:
            cur.execute(
                "INSERT INTO snapshots (stream_id, version, schema_version, state) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (stream_id, version) DO UPDATE SET "
                "schema_version = excluded.schema_version, state = excluded.state",
                [stream_id, version, schema_version, text],
            )
        return Snapshot(stream_id, version, schema_version, loads(text))

    def latest(self, stream_id: str, *, schema_version: int, at_most: int | None = None) -> Snapshot | None:
        """The newest snapshot of ``stream_id`` taken under ``schema_version``, at or before ``at_most``.

        Snapshots under any other schema version are ignored: the caller then
        replays from the first event, which is always right.
        """
        sql = "SELECT stream_id, version, schema_version, state FROM snapshots WHERE stream_id = ? AND schema_version = ?"
        params: list[Any] = [stream_id, schema_version]
        if at_most is not None:
            sql += " AND version <= ?"
            params.append(at_most)
        with self._store.transaction() as cur:
            row = cur.execute(sql + " ORDER BY version DESC LIMIT 1", params).fetchone()
        return None if row is None else Snapshot(row[0], row[1], row[2], loads(row[3]))

    def delete(self, stream_id: str | None = None) -> int:
        """Delete the snapshots of ``stream_id`` (or of every stream); return how many went.

        Always safe: snapshots are a cache beside the events, so the next load
        replays from event 1 and gives the same state. Use it to drop snapshots
        that no code reads any more, or to rebuild them from scratch.
        """
        where, params = ("", []) if stream_id is None else (" WHERE stream_id = ?", [stream_id])
        with self._store.transaction() as cur:
            (count,) = cur.execute("SELECT count(*) FROM snapshots" + where, params).fetchone()
            cur.execute("DELETE FROM snapshots" + where, params)
        return int(count)

    def all(self, stream_id: str) -> list[Snapshot]:
        """Every snapshot of ``stream_id``, oldest first, whatever its schema version."""
        with self._store.transaction() as cur:
            rows = cur.execute(
                "SELECT stream_id, version, schema_version, state FROM snapshots WHERE stream_id = ? ORDER BY version",
                [stream_id],
            ).fetchall()
        return [Snapshot(r[0], r[1], r[2], loads(r[3])) for r in rows]
