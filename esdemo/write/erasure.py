"""Erasure in an immutable log: crypto-shredding.

Events are never rewritten, yet a customer may ask to be forgotten (GDPR's
"right to erasure"). The answer is to never store personal data in clear:

* a domain event marks its **personal fields** and the field naming their
  **subject** (``@personal_data("name", "email", subject="customer_id")``);
* when the registry encodes such an event, each personal field is encrypted
  (AES-256-GCM, from the well-kept ``cryptography`` package) with the
  subject's own key, created on first use. The log holds only ciphertext::

      {"customer_id": "c-7", "country": "FR",
       "email": {"ciphertext": "...", "encrypted": "AES-256-GCM", "nonce": "...", "subject": "c-7"}}

* the keys live in a :class:`KeyStore`, **apart from the log** (its own
  SQLite file, or memory in a notebook), one per subject;
* :func:`forget_subject` destroys the subject's key. The ciphertext stays in
  the log, immutable, but nobody can read it any more: from then on every read
  shows those fields as :data:`ERASED`. A rebuilt projection reads the same
  ciphertext, so it shows ``ERASED`` too: nothing comes back.

Why apart? Backups and copies of the log (exports, replicas, a laptop with
last month's dump) must not carry the keys, or "forgotten" data could be
decrypted from them; and restoring an old backup of the log must not bring a
destroyed key back. The key store is small and backed up on its own rules
(in production: a KMS or a vault, never next to the events).

The erased marker. :data:`ERASED` is the one instance of :class:`Erased`, a
``str`` subclass that prints as ``<erased>``. Being a string, it flows into
text columns, documents and DataFrames without special cases; being its own
type, code can tell it from a customer who typed "<erased>":
``is_erased(event.email)``. Keep personal fields in text columns of views.

What else holds the data, and what :func:`forget_subject` does about it:

* **snapshots** of a stream with that subject's events may hold the
  plaintext (an aggregate's state): they are deleted (before and after the
  key is destroyed); the next load replays and sees ``ERASED``. A snapshot
  taken after the forget stores the marker as the text ``<erased>``: an
  aggregate that cares turns it back in ``restore_state`` (as ``Customer`` does).
* **views built before the forget** still hold the plaintext: decryption
  happened when they were built. :func:`forget_subject` appends a
  :class:`SubjectForgotten` event, so a projection that stores personal data
  handles it and overwrites those columns (see
  :mod:`esdemo.examples.customers`); or rebuild the view. A view that does
  neither keeps the plaintext: that is the projection's duty, not the log's.
* **set-based rebuilds** (SQL over the ``events`` table) cannot decrypt: they
  see the ciphertext objects. Keep personal columns out of them.
* the subject id itself (``c-7``) stays in clear in the log: use an opaque id,
  never an e-mail address, as the subject.

Order of reading: the registry decrypts *before* upcasting, so upcasters see
plaintext (or ``ERASED``) under the stored field names.

Reproducible notebooks: ``KeyStore(random_bytes=seeded_random_bytes(1))`` and
``encrypting_registry(keys, random_bytes=seeded_random_bytes(2))`` make keys
and nonces predictable, so outputs do not change between runs. **For teaching
only**: a predictable key is no key, and a seeded nonce source reused with a
persistent key store repeats nonces, which breaks AES-GCM. The default is
``os.urandom``.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import random
import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..store.clock import utc_now
from ..store.errors import ConflictError, EventStoreError
from ..store.event_store import EventStore
from ..store.events import NO_STREAM
from ..store.serialization import dumps, loads
from .domain import DomainEvent, EventRegistry, default_registry, domain_event
from .snapshots import SnapshotStore

C = TypeVar("C", bound=type)

ALGORITHM = "AES-256-GCM"
"""The AEAD used for every personal field: 256-bit key, 96-bit nonce, 128-bit tag."""

FORGOTTEN_STREAM_PREFIX = "Forgotten-"
""":func:`forget_subject` appends :class:`SubjectForgotten` to ``Forgotten-<subject>``."""

_ENVELOPE_KEYS = frozenset({"ciphertext", "encrypted", "nonce", "subject"})


# -- errors -------------------------------------------------------------------------------
class ErasureError(EventStoreError):
    """Base class of what crypto-shredding raises on purpose."""


class UnknownSubjectError(ErasureError, LookupError):
    """The key store has no key for this subject, and never had one that was forgotten."""


class SubjectForgottenError(ErasureError):
    """The subject was forgotten: no new personal data may be written for it."""


class DecryptionError(ErasureError):
    """A stored ciphertext does not open with its subject's key (altered, or moved from another field)."""


# -- the erased marker ----------------------------------------------------------------------
class Erased(str):
    """What a personal field reads as once its subject is forgotten; see the module docstring."""

    _instance: Erased | None = None

    def __new__(cls) -> Erased:
        if cls._instance is None:
            cls._instance = super().__new__(cls, "<erased>")
        return cls._instance

    def __repr__(self) -> str:
        return "<erased>"

    def __reduce__(self) -> tuple:
        return (Erased, ())


ERASED = Erased()
"""The erased marker: ``str(ERASED) == "<erased>"`` and ``is_erased(ERASED)``."""


def is_erased(value: object) -> bool:
    """Is ``value`` the erased marker (not merely a string that says ``<erased>``)?"""
    return isinstance(value, Erased)


# -- marking personal fields -----------------------------------------------------------------
@dataclass(frozen=True)
class PersonalFields:
    """Which fields of an event class are personal, and which field names their subject."""

    subject: str
    fields: tuple[str, ...]


def personal_data(*fields: str, subject: str) -> Callable[[C], C]:
    """Class decorator: ``fields`` of this domain event are personal data of the subject in ``subject``.

    ::

        @personal_data("name", "email", subject="customer_id")
        @domain_event("CustomerRegistered")
        @dataclass(frozen=True, slots=True)
        class CustomerRegistered(DomainEvent):
            customer_id: str
            name: str
            email: str

    The subject field itself stays in clear (it finds the key): make it an opaque id.
    """

    def decorate(cls: C) -> C:
        if not isinstance(cls, type) or not dataclasses.is_dataclass(cls):
            raise TypeError(f"@personal_data goes on a domain event dataclass, got {cls!r}")
        names = [f.name for f in dataclasses.fields(cls)]
        if not fields:
            raise ValueError(f"@personal_data on {cls.__name__} needs at least one field name, e.g. 'email'")
        for name in (*fields, subject):
            if not isinstance(name, str) or name not in names:
                raise ValueError(f"{cls.__name__} has no field {name!r}; its fields are {names}")
        if subject in fields:
            raise ValueError(f"{cls.__name__}.{subject} names the subject, so it cannot be encrypted too: "
                             "the key is found by it. Use an opaque id as the subject.")
        if len(set(fields)) != len(fields):
            raise ValueError(f"@personal_data on {cls.__name__} lists a field twice: {fields}")
        cls.__personal_data__ = PersonalFields(subject, tuple(fields))  # type: ignore[attr-defined]
        return cls

    return decorate


def personal_fields_of(cls: type) -> PersonalFields | None:
    """The :class:`PersonalFields` declared on ``cls`` with :func:`personal_data`, or ``None``."""
    return getattr(cls, "__personal_data__", None)


# -- randomness -----------------------------------------------------------------------------
def seeded_random_bytes(seed: int) -> Callable[[int], bytes]:
    """A predictable ``random_bytes(n)`` for reproducible notebooks and tests. **Teaching only.**"""
    return random.Random(seed).randbytes


# -- the key store ---------------------------------------------------------------------------
_KEYS_SCHEMA = """
CREATE TABLE IF NOT EXISTS subject_keys (
    subject      TEXT PRIMARY KEY,
    key          BLOB,            -- 32 bytes; NULL once the subject is forgotten
    created_at   TEXT NOT NULL,
    forgotten_at TEXT             -- NULL while the subject is known
)
"""


@dataclass(frozen=True)
class Forgotten:
    """A forgotten subject: its key is gone since ``at``."""

    subject: str
    at: datetime


class KeyStore:
    """One encryption key per subject, kept apart from the event log.

    >>> keys = KeyStore()                       # in memory (a notebook)
    >>> keys = KeyStore("keys.sqlite")          # its own file: never the events' file

    A key is created the first time personal data of a subject is encrypted,
    and destroyed by :meth:`forget`. A forgotten subject keeps a tombstone
    (no key, the time it was forgotten), so a read can tell "forgotten" (show
    ``ERASED``) from "unknown" (the wrong key store: an error), and no new
    key is ever made for it.

    Why apart from the log: see the module docstring (backups of the log
    must not carry keys; restoring one must not resurrect them). The file is
    SQLite with ``secure_delete`` on, so a destroyed key's bytes are
    overwritten in the file; journals, copies and disks are beyond this
    teaching store: production uses a KMS.
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:", *,
                 random_bytes: Callable[[int], bytes] | None = None,
                 clock: Callable[[], datetime] | None = None):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path or ':memory:', got {type(path).__name__}")
        if random_bytes is not None and not callable(random_bytes):
            raise TypeError("random_bytes must be a callable like os.urandom (n -> n bytes)")
        self.path = str(path)
        self._random_bytes = random_bytes or os.urandom
        self._clock = clock or utc_now
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "events" in tables:
                raise ValueError(f"{self.path} is an event store's file: keys must live apart from the log "
                                 "(a backup of the log must not carry them). Give the key store its own file.")
            self._db.execute("PRAGMA secure_delete = ON")
            self._db.execute(_KEYS_SCHEMA)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise ValueError(f"{self.path} is not a key store (a SQLite file): {exc}. If it is the event store's "
                             "DuckDB file, give the key store its own file, apart from the log.") from None
        except BaseException:
            self._db.close()
            raise

    def key_for(self, subject: str, *, create: bool = False) -> bytes:
        """The subject's key; with ``create=True`` a new one on first use.

        Raises :class:`SubjectForgottenError` for a forgotten subject and
        :class:`UnknownSubjectError` for one without a key (when not creating).
        """
        subject = _check_subject(subject)
        with self._lock:
            row = self._row(subject)
            if row is None and create:
                key = self._random_bytes(32)
                if not isinstance(key, bytes) or len(key) != 32:
                    raise ValueError(f"random_bytes(32) must return 32 bytes, got {key!r:.40}")
                self._db.execute("INSERT OR IGNORE INTO subject_keys (subject, key, created_at) VALUES (?, ?, ?)",
                                 [subject, key, self._now()])
                row = self._row(subject)
        if row is None:
            raise UnknownSubjectError(
                f"No key for subject {subject!r} in {self!r}, and it was never forgotten here. Either its data "
                "was never encrypted, or this is not the key store the log was written with: open the right one.")
        key, forgotten_at = row
        if key is None:
            raise SubjectForgottenError(
                f"Subject {subject!r} was forgotten at {forgotten_at}: its key is destroyed, so its personal data "
                "reads as <erased> and no new personal data may be written for it. Nothing was written.")
        return bytes(key)

    def forget(self, subject: str) -> Forgotten:
        """Destroy the subject's key, keeping a tombstone. Idempotent: forgetting again returns the first record.

        Raises :class:`UnknownSubjectError` if the subject never had a key here
        (a typo would otherwise "forget" nobody without a word).
        """
        subject = _check_subject(subject)
        with self._lock:
            row = self._row(subject)
            if row is None:
                raise UnknownSubjectError(
                    f"Cannot forget subject {subject!r}: {self!r} has never held a key for it, so nothing was "
                    "changed. Check the id (keys.subjects() lists the subjects this store knows).")
            if row[0] is not None:
                self._db.execute("UPDATE subject_keys SET key = NULL, forgotten_at = ? WHERE subject = ?",
                                 [self._now(), subject])
            (at,) = self._db.execute("SELECT forgotten_at FROM subject_keys WHERE subject = ?", [subject]).fetchone()
        return Forgotten(subject, datetime.fromisoformat(at))

    def status(self, subject: str) -> str:
        """``"active"``, ``"forgotten"`` or ``"unknown"``."""
        with self._lock:
            row = self._row(_check_subject(subject))
        return "unknown" if row is None else "forgotten" if row[0] is None else "active"

    def subjects(self) -> dict[str, str]:
        """Every subject this store knows, with its status, sorted by subject."""
        with self._lock:
            rows = self._db.execute("SELECT subject, key IS NULL FROM subject_keys ORDER BY subject").fetchall()
        return {subject: "forgotten" if gone else "active" for subject, gone in rows}

    def close(self) -> None:
        """Close the key store's database. Safe to call twice."""
        self._db.close()

    def __enter__(self) -> KeyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KeyStore({self.path!r})"

    def _row(self, subject: str) -> tuple[bytes | None, str | None] | None:
        return self._db.execute("SELECT key, forgotten_at FROM subject_keys WHERE subject = ?", [subject]).fetchone()

    def _now(self) -> str:
        now = self._clock()
        if not isinstance(now, datetime) or now.tzinfo is None:
            raise ValueError(f"the key store's clock must return a timezone-aware datetime, it returned {now!r}")
        return now.isoformat()


# -- the cipher the registry calls ---------------------------------------------------------------
class PersonalDataCipher:
    """Encrypts an event's personal fields on encode and decrypts them on decode.

    :class:`~esdemo.write.domain.EventRegistry` calls :meth:`seal` and
    :meth:`open` when it is made with ``cipher=``; :func:`encrypting_registry`
    builds one. Each field gets a fresh 96-bit nonce, and its subject and
    field name are bound in as associated data, so a ciphertext copied into
    another field or subject does not open (:class:`DecryptionError`).
    """

    def __init__(self, keys: KeyStore, *, random_bytes: Callable[[int], bytes] | None = None):
        if not isinstance(keys, KeyStore):
            raise TypeError(f"keys must be a KeyStore, got {type(keys).__name__}")
        if random_bytes is not None and not callable(random_bytes):
            raise TypeError("random_bytes must be a callable like os.urandom (n -> n bytes)")
        self.keys = keys
        self._random_bytes = random_bytes or os.urandom

    def seal(self, cls: type, data: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``data`` with the personal fields of ``cls`` encrypted (``data`` as it is if none)."""
        personal = personal_fields_of(cls)
        if personal is None:
            return data
        subject = _check_subject(data[personal.subject], f"{cls.__name__}.{personal.subject}")
        key = self.keys.key_for(subject, create=True)  # SubjectForgottenError: nothing is written
        sealed = dict(data)
        for name in personal.fields:
            plain = dumps({"v": data[name]}, f"{cls.__name__}.{name}").encode()
            nonce = self._random_bytes(12)
            ciphertext = AESGCM(key).encrypt(nonce, plain, _associated(subject, name))
            sealed[name] = {"encrypted": ALGORITHM, "subject": subject,
                            "nonce": _b64(nonce), "ciphertext": _b64(ciphertext)}
        return sealed

    def open(self, data: dict[str, Any], *, where: str = "") -> dict[str, Any]:
        """A copy of ``data`` with every encrypted field decrypted, or :data:`ERASED` if its subject was forgotten."""
        if not any(is_encrypted(value) for value in data.values()):
            return data
        opened = dict(data)
        keys: dict[str, bytes | None] = {}  # one key-store lookup per subject and event
        for name, value in data.items():
            if is_encrypted(value):
                opened[name] = self._open_field(name, value, where, keys)
        return opened

    def _open_field(self, name: str, envelope: dict[str, Any], where: str, keys: dict[str, bytes | None]) -> Any:
        subject = envelope["subject"]
        if subject not in keys:
            try:
                keys[subject] = self.keys.key_for(subject)
            except SubjectForgottenError:
                keys[subject] = None
            except UnknownSubjectError as exc:
                raise UnknownSubjectError(f"Cannot decrypt field {name!r} {where}: {exc}") from None
        key = keys[subject]
        if key is None:
            return ERASED
        try:
            plain = AESGCM(key).decrypt(_unb64(envelope["nonce"]), _unb64(envelope["ciphertext"]),
                                        _associated(subject, name))
        except (InvalidTag, ValueError) as exc:
            raise DecryptionError(
                f"Field {name!r} {where} does not decrypt with the key of subject {subject!r}: the stored ciphertext "
                f"was altered, or copied from another field or subject ({type(exc).__name__}).") from None
        return loads(plain.decode())["v"]

    def __repr__(self) -> str:
        return f"PersonalDataCipher({self.keys!r})"


def is_encrypted(value: object) -> bool:
    """Is ``value`` an encrypted field as :class:`PersonalDataCipher` stores it?"""
    return isinstance(value, dict) and value.keys() == _ENVELOPE_KEYS and value.get("encrypted") == ALGORITHM


def encrypting_registry(keys: KeyStore, base: EventRegistry | None = None, *,
                        random_bytes: Callable[[int], bytes] | None = None) -> EventRegistry:
    """A registry that knows every type of ``base`` (default: ``default_registry``) and encrypts personal fields.

    It shares ``base``'s upcasters. Types registered in ``base`` later are not
    copied: register them here too, or call this after importing them.
    """
    base = base if base is not None else default_registry
    registry = EventRegistry(base.upcasters, cipher=PersonalDataCipher(keys, random_bytes=random_bytes))
    for name in base.types:
        registry.register(base.class_for(name))
    return registry


# -- forgetting ---------------------------------------------------------------------------------
@domain_event("SubjectForgotten")
@dataclass(frozen=True, slots=True)
class SubjectForgotten(DomainEvent):
    """A subject's key was destroyed: projections holding its personal data must erase it now."""

    subject: str


@dataclass(frozen=True)
class ForgetReport:
    """What :func:`forget_subject` did."""

    subject: str
    forgotten_at: datetime
    streams: tuple[str, ...]
    snapshots_deleted: int
    position: int

    def __str__(self) -> str:
        streams = ", ".join(self.streams) or "none"
        return (f"forgot {self.subject!r} at {self.forgotten_at.isoformat()}: key destroyed; streams with its data: "
                f"{streams}; {self.snapshots_deleted} snapshot(s) deleted; SubjectForgotten at position {self.position}")


def forget_subject(store: EventStore, keys: KeyStore, subject: str, *,
                   event_id: uuid.UUID | None = None) -> ForgetReport:
    """Forget ``subject``: destroy its key, delete the snapshots that may hold its data, tell the projections.

    Steps, each safe to repeat, so calling again after a crash finishes the job:

    1. find the streams holding the subject's encrypted fields;
    2. delete their snapshots (a cache: the next load replays, and sees ``ERASED``);
    3. destroy the key (:meth:`KeyStore.forget`);
    4. delete their snapshots again (one taken meanwhile by a concurrent save);
    5. append :class:`SubjectForgotten` to ``Forgotten-<subject>`` (once).

    An unknown subject raises :class:`UnknownSubjectError` before anything changes.
    """
    if not isinstance(store, EventStore):
        raise TypeError(f"store must be an EventStore, got {type(store).__name__}")
    if not isinstance(keys, KeyStore):
        raise TypeError(f"keys must be a KeyStore, got {type(keys).__name__}")
    subject = _check_subject(subject)
    if keys.path != ":memory:" and store.path != ":memory:" and _same_file(keys.path, store.path):
        raise ValueError(f"{keys!r} is the event store's own file: keys must live apart from the log.")
    if keys.status(subject) == "unknown":
        keys.forget(subject)  # raises UnknownSubjectError with the full message
    streams = streams_of_subject(store, subject)
    snapshots = SnapshotStore(store)
    deleted = sum(snapshots.delete(stream) for stream in streams)
    forgotten = keys.forget(subject)
    deleted += sum(snapshots.delete(stream) for stream in streams)
    stream_id = FORGOTTEN_STREAM_PREFIX + subject
    if store.stream_version(stream_id) == 0:
        event = default_registry.encode(SubjectForgotten(subject), event_id=event_id)
        try:
            store.append(stream_id, [event], expected_version=NO_STREAM)
        except ConflictError:
            pass  # another forget of the same subject got there first: one event is enough
    position = store.read(stream_id)[0].position
    return ForgetReport(subject, forgotten.at, streams, deleted, position)


def streams_of_subject(store: EventStore, subject: str) -> tuple[str, ...]:
    """The streams whose events hold encrypted fields of ``subject``, sorted.

    A SQL ``LIKE`` on the stored JSON text narrows the search (events with an
    encrypted field, and the subject's id as a JSON string, whatever the
    database's JSON spacing); each candidate is then checked exactly in Python.
    """
    subject = _check_subject(subject)
    sql = "SELECT stream_id, CAST(data AS VARCHAR) FROM events WHERE CAST(data AS VARCHAR) LIKE ? ESCAPE '\\'"
    params = ["%" + _like_escape(json.dumps(ALGORITHM)) + "%"]
    if subject.isascii():  # a non-ASCII id may be stored escaped (\u00e9) or not, depending on the database
        sql += " AND CAST(data AS VARCHAR) LIKE ? ESCAPE '\\'"
        params.append("%" + _like_escape(json.dumps(subject)) + "%")
    rows = store.query(sql, params)
    found = set()
    for stream_id, text in rows:
        if any(is_encrypted(v) and v["subject"] == subject for v in loads(text).values()):
            found.add(stream_id)
    return tuple(sorted(found))


# -- small helpers ----------------------------------------------------------------------------
def _check_subject(subject: object, what: str = "subject") -> str:
    if isinstance(subject, bool) or not isinstance(subject, (str, int, uuid.UUID)) or not str(subject).strip():
        raise ValueError(f"{what} must be a non-empty id (str, int or UUID) naming whose data this is, got {subject!r}")
    return str(subject)


def _associated(subject: str, field: str) -> bytes:
    return json.dumps([subject, field]).encode()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text, validate=True)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _same_file(a: str, b: str) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


__all__ = [
    "ALGORITHM",
    "ERASED",
    "DecryptionError",
    "Erased",
    "ErasureError",
    "ForgetReport",
    "Forgotten",
    "KeyStore",
    "PersonalDataCipher",
    "PersonalFields",
    "SubjectForgotten",
    "SubjectForgottenError",
    "UnknownSubjectError",
    "encrypting_registry",
    "forget_subject",
    "is_encrypted",
    "is_erased",
    "personal_data",
    "personal_fields_of",
    "seeded_random_bytes",
    "streams_of_subject",
]
