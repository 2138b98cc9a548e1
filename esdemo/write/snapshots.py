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
* Each one records **how its events were decoded**: a fingerprint per event
  type of the schema version, the fields and the upcaster chain
  (:meth:`~esdemo.write.domain.EventRegistry.decoding`). Register an upcaster
  that changes how old events read (cents become dollars: a replay says 4.0
  where the snapshot says 400) and the snapshot no longer matches: it is
  ignored, the state is replayed from the events, and the repository
  replaces the stale snapshot with one taken under the new decoding.
  Snapshots from before fingerprints existed (no record) count as stale.
* State is stored with :mod:`esdemo.store.serialization`, so ``Decimal`` money
  comes back exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
    decoding       VARCHAR,            -- JSON {event type: fingerprint} the state was decoded with
    PRIMARY KEY (stream_id, version)
)
"""
_COLUMNS = "stream_id, version, schema_version, state, decoding"


@dataclass(frozen=True)
class Snapshot:
    """The state of one stream's aggregate as of ``version``."""

    stream_id: str
    version: int
    schema_version: int
    state: dict[str, Any]
    decoding: dict[str, str] | None = field(default=None, repr=False)  # {event type: fingerprint}

    def decoded_like(self, decoding: Mapping[str, str]) -> bool:
        """Was this state decoded as ``decoding`` decodes now? Every type it records must match.

        Types registered since do not matter (the events it covers could not
        have used them); a snapshot that recorded nothing (older than
        fingerprints) never matches.
        """
        return self.decoding is not None and all(decoding.get(t) == f for t, f in self.decoding.items())


class SnapshotStore:
    """Reads and writes the ``snapshots`` table next to the store's events.

    >>> snapshots = SnapshotStore(store)
    >>> snapshots.save("Account-123", 1000, 1, {"balance": Decimal("150")})
    >>> snapshots.latest("Account-123", schema_version=1).version
    1000
    """

    def __init__(self, store: EventStore, *, decoding: Callable[[], Mapping[str, str]] | None = None):
        """``decoding``: what tells the current decoding, e.g. ``registry.decoding`` (default: the
        ``default_registry``'s). A ``Repository`` passes its own registry's."""
        if decoding is None:
            from .domain import default_registry
            decoding = default_registry.decoding
        if not callable(decoding):
            raise TypeError("decoding must be a function returning {event type: fingerprint}, e.g. registry.decoding")
        self._store = store
        self._decoding = decoding
        with store.transaction() as cur:
            cur.execute(SCHEMA)
            columns = [d[0].lower() for d in cur.execute("SELECT * FROM snapshots LIMIT 0").description]
            if "decoding" not in columns:  # a table made before snapshots recorded their decoding
                cur.execute("ALTER TABLE snapshots ADD COLUMN decoding VARCHAR")

    def save(self, stream_id: str, version: int, schema_version: int, state: dict[str, Any]) -> Snapshot:
        """Store the state at ``version``, decoded as the registry decodes now (replacing a snapshot at that version)."""
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(f"a snapshot covers a stream version >= 1, got {version!r}")
        text = dumps(state, f"the snapshot state of {stream_id}")
        decoding = dict(self._decoding())
        with self._store.transaction() as cur:
            cur.execute(
                f"INSERT INTO snapshots ({_COLUMNS}) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (stream_id, version) DO UPDATE SET "
                "schema_version = excluded.schema_version, state = excluded.state, decoding = excluded.decoding",
                [stream_id, version, schema_version, text, json.dumps(decoding, sort_keys=True)],
            )
        return Snapshot(stream_id, version, schema_version, loads(text), decoding)

    def latest(self, stream_id: str, *, schema_version: int, at_most: int | None = None) -> Snapshot | None:
        """The newest usable snapshot of ``stream_id``: taken under ``schema_version``, at or before
        ``at_most``, and decoded as the registry decodes now.

        Any other snapshot is ignored: the caller then replays from the first
        event, which is always right.
        """
        return self.find(stream_id, schema_version=schema_version, at_most=at_most)[0]

    def find(self, stream_id: str, *, schema_version: int,
             at_most: int | None = None) -> tuple[Snapshot | None, Snapshot | None]:
        """``(usable, stale)``: the newest usable snapshot (as :meth:`latest`), and the newest
        snapshot of the same ``schema_version`` after it that was decoded differently (or ``None``).

        The repository replaces a stale one when it loads past it.
        """
        sql = f"SELECT {_COLUMNS} FROM snapshots WHERE stream_id = ? AND schema_version = ?"
        params: list[Any] = [stream_id, schema_version]
        if at_most is not None:
            sql += " AND version <= ?"
            params.append(at_most)
        decoding = self._decoding()
        stale = None
        with self._store.transaction() as cur:
            rows = cur.execute(sql + " ORDER BY version DESC", params).fetchall()
        for row in rows:  # newest first; usually the first one is usable
            snapshot = _snapshot(row)
            if snapshot.decoded_like(decoding):
                return snapshot, stale
            stale = stale or snapshot
        return None, stale

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
        """Every snapshot of ``stream_id``, oldest first, whatever its schema version and decoding."""
        with self._store.transaction() as cur:
            rows = cur.execute(
                f"SELECT {_COLUMNS} FROM snapshots WHERE stream_id = ? ORDER BY version",
                [stream_id],
            ).fetchall()
        return [_snapshot(r) for r in rows]


def _snapshot(row: Any) -> Snapshot:
    return Snapshot(row[0], row[1], row[2], loads(row[3]), None if row[4] is None else json.loads(row[4]))
