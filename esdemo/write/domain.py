"""Domain events: small immutable classes, and the registry that stores and reads them.

The store speaks in :class:`~esdemo.store.events.NewEvent` and
:class:`~esdemo.store.events.RecordedEvent` (a type name and a data dict). The
domain speaks in classes. A domain event is a frozen dataclass, registered
under its type name and schema version::

    @domain_event("MoneyDeposited")
    @dataclass(frozen=True, slots=True)
    class MoneyDeposited(DomainEvent):
        account_id: str
        amount: Decimal

    new = default_registry.encode(MoneyDeposited("123", Decimal("200")))  # -> NewEvent
    event = default_registry.decode(recorded)                              # -> MoneyDeposited

``decode`` runs the upcaster chain first (see :mod:`esdemo.write.upcasting`), so
aggregates and projections only ever see current-version events. A type the
registry does not know raises :class:`UnknownEventTypeError`, naming the
type and the position, instead of being silently skipped.

``default_registry`` is where the example domains register; make a fresh
``EventRegistry()`` for a test, or to show what goes wrong without an upcaster.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from ..store.events import NewEvent, RecordedEvent
from .upcasting import Upcaster, Upcasters

E = TypeVar("E", bound=type)


class DomainEvent:
    """Base class of every domain event: a fact, named in the past tense.

    Subclasses are frozen dataclasses; :func:`domain_event` sets the two class
    attributes below when it registers them.
    """

    __slots__ = ()
    event_type: ClassVar[str]
    schema_version: ClassVar[int]


class EventDecodeError(ValueError):
    """A stored event cannot be turned into its domain event class."""


class UnknownEventTypeError(EventDecodeError, LookupError):
    """The log holds an event type that no registered class claims.

    ``event_type`` and ``position`` say which event; the fix is to import the
    module that registers it, or to register the class.
    """

    def __init__(self, event_type: str, position: int, stream_id: str, known: list[str]):
        self.event_type, self.position, self.stream_id = event_type, position, stream_id
        super().__init__(
            f"Unknown event type {event_type!r} at position {position} (stream {stream_id!r}). "
            f"This registry knows {known or 'no types at all'}. Import the module that defines it "
            f"(e.g. esdemo.examples.orders) or register its class with @domain_event."
        )


class _Entry:
    """What the registry knows about one event type: fixed when it is registered."""

    __slots__ = ("cls", "name", "version", "fields")

    def __init__(self, cls: type, name: str, version: int):
        self.cls, self.name, self.version = cls, name, version
        self.fields = tuple(f.name for f in dataclasses.fields(cls))


class EventRegistry:
    """Event classes by type name and schema version, plus their upcasters.

    >>> registry = EventRegistry()
    >>> registry.register(MoneyDeposited)        # uses the name and version it was declared with
    >>> registry.decode(recorded)                # RecordedEvent -> MoneyDeposited
    """

    def __init__(self, upcasters: Upcasters | None = None, *, cipher: Any = None):
        self.upcasters = upcasters if upcasters is not None else Upcasters()
        # Optional hook for personal data (see esdemo.write.erasure): cipher.seal(cls, data) on encode,
        # cipher.open(data, where=...) on decode, before upcasting.
        self.cipher = cipher
        self._by_name: dict[str, _Entry] = {}
        self._by_class: dict[type, _Entry] = {}
        self._decoding: tuple[tuple[int, int], dict[str, str]] | None = None  # (versions, fingerprints) cache

    # -- registering ----------------------------------------------------------------
    def register(self, cls: E, name: str | None = None, version: int | None = None) -> E:
        """Register a frozen dataclass as event type ``name`` (default: the class name) at ``version``.

        A class already registered elsewhere keeps its declared name and version, so
        ``EventRegistry().register(OrderPaid)`` makes a second registry that knows it too.
        """
        if not isinstance(cls, type) or not dataclasses.is_dataclass(cls):
            raise TypeError(f"a domain event must be a dataclass; decorate {cls!r} with @dataclass(frozen=True)")
        if not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
            raise TypeError(f"{cls.__name__} must be frozen (events are facts): use @dataclass(frozen=True)")
        declared = cls.__dict__.get("event_type"), cls.__dict__.get("schema_version")
        name = name if name is not None else declared[0] or cls.__name__
        version = version if version is not None else declared[1] or 1
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"an event type name must be a non-empty string, got {name!r}")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(f"schema version of {name} must be an int >= 1, got {version!r}")
        if declared[0] is not None and declared != (name, version):
            raise ValueError(f"{cls.__name__} is already declared as {declared[0]} V{declared[1]}, not {name} V{version}")
        old = self._by_name.get(name)
        if old is not None and _identity(old.cls) != _identity(cls):
            raise ValueError(f"event type {name!r} is already registered to {_identity(old.cls)}; pick another name")
        if old is not None:  # the same class defined again (a notebook cell run twice): the new one wins
            self._by_class.pop(old.cls, None)
        cls.event_type, cls.schema_version = name, version  # type: ignore[attr-defined]
        entry = _Entry(cls, name, version)
        self._decoding = None
        self._by_name[name] = entry
        self._by_class[cls] = entry
        return cls

    def event(self, name: str | type | None = None, *, version: int | None = None) -> Any:
        """Decorator: ``@registry.event``, ``@registry.event("OrderPaid", version=2)``."""
        if isinstance(name, type):  # used bare: @registry.event
            return self.register(name, version=version)

        def decorate(cls: E) -> E:
            return self.register(cls, name, version)

        return decorate

    def upcaster(self, event_type: str, *, from_version: int,
                 fingerprint: str | None = None) -> Callable[[Upcaster], Upcaster]:
        """Decorator registering an upcaster in this registry's chain (see :mod:`esdemo.write.upcasting`)."""
        return self.upcasters.upcaster(event_type, from_version=from_version, fingerprint=fingerprint)

    def decoding(self) -> dict[str, str]:
        """How each registered type is decoded now, as ``{event type: fingerprint}``.

        A fingerprint covers the type's schema version, its fields and its
        upcaster chain (:meth:`Upcasters.fingerprint`). A snapshot records this
        map; when the fingerprint of a type it records changes, the snapshot
        was decoded differently and is ignored (see :mod:`esdemo.write.snapshots`).
        Registering a new type changes no existing fingerprint. The map is
        cached until a class or an upcaster is registered.
        """
        versions = (id(self.upcasters), self.upcasters.changes)
        if self._decoding is not None and self._decoding[0] == versions:
            return dict(self._decoding[1])
        out = {}
        for name, entry in self._by_name.items():
            text = repr((name, entry.version, entry.fields, self.upcasters.fingerprint(name)))
            out[name] = hashlib.sha256(text.encode()).hexdigest()[:16]
        self._decoding = (versions, dict(sorted(out.items())))
        return dict(self._decoding[1])

    # -- converting -----------------------------------------------------------------
    def encode(self, event: DomainEvent, *, event_id: uuid.UUID | None = None,
               metadata: dict[str, Any] | None = None) -> NewEvent:
        """Domain event -> ``NewEvent`` with its type name, current schema version and fields as data."""
        entry = self._by_class.get(type(event))
        if entry is None:
            raise TypeError(
                f"{type(event).__name__} is not a registered domain event in this registry; decorate its class "
                f"with @domain_event (known: {self.types or 'none'})"
            )
        data = {name: getattr(event, name) for name in entry.fields}
        if self.cipher is not None:
            data = self.cipher.seal(entry.cls, data)
        elif getattr(entry.cls, "__personal_data__", None) is not None:
            raise TypeError(
                f"{entry.name} has personal fields {entry.cls.__personal_data__.fields} and this registry has no "
                "cipher, so they would be stored in clear: encode it with esdemo.encrypting_registry(keys)."
            )
        return NewEvent(entry.name, data, metadata, event_id, entry.version)

    def decode(self, recorded: RecordedEvent) -> Any:
        """``RecordedEvent`` -> domain event, upcasting old versions first.

        Raises :class:`UnknownEventTypeError` for an unregistered type and
        :class:`EventDecodeError` when the data cannot become the current class.
        """
        entry = self._by_name.get(recorded.type)
        if entry is None:
            raise UnknownEventTypeError(recorded.type, recorded.position, recorded.stream_id, self.types)
        data = recorded.data
        if self.cipher is not None:
            data = self.cipher.open(data, where=_where(recorded))
        elif getattr(entry.cls, "__personal_data__", None) is not None:
            raise EventDecodeError(
                f"{recorded.type} {_where(recorded)} has personal fields, stored encrypted, and this registry has "
                "no cipher to open them: decode it with esdemo.encrypting_registry(keys)."
            )
        if recorded.schema_version != entry.version:
            _, data = self.upcast(recorded.type, recorded.schema_version, data, where=_where(recorded))
        try:
            return entry.cls(**data)
        except TypeError as exc:
            raise EventDecodeError(
                f"{recorded.type} V{entry.version} {_where(recorded)} does not fit {entry.cls.__name__}"
                f"{entry.fields}: {exc}. Its stored data is {recorded.data!r}."
            ) from exc

    def upcast(self, event_type: str, schema_version: int, data: dict[str, Any], *,
               where: str = "") -> tuple[int, dict[str, Any]]:
        """Upcast raw data to the registered class's current version, or say why it cannot be done."""
        entry = self._by_name.get(event_type)
        where = f" {where}" if where else ""
        if entry is None:
            raise EventDecodeError(f"Unknown event type {event_type!r}{where}; register its class first.")
        version, data = self.upcasters.upcast(event_type, schema_version, data, where=where.strip())
        if version > entry.version:
            raise EventDecodeError(
                f"{event_type}{where} is schema version {version}, newer than this code's V{entry.version}. "
                "It was written by newer code: upgrade this code before reading the stream."
            )
        if version < entry.version:
            raise EventDecodeError(
                f"{event_type}{where} is schema version {version} but {entry.cls.__name__} is V{entry.version}, "
                f"and no upcaster from V{version} is registered. Stored events are never rewritten: add a step with "
                f"@registry.upcaster({event_type!r}, from_version={version}) that turns V{version} data into "
                f"V{version + 1}."
            )
        return version, data

    # -- looking around -------------------------------------------------------------
    @property
    def types(self) -> list[str]:
        """The registered type names, sorted."""
        return sorted(self._by_name)

    def class_for(self, event_type: str) -> type:
        """The class registered for ``event_type`` (KeyError if none)."""
        return self._by_name[event_type].cls

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._by_name

    def __repr__(self) -> str:
        return f"EventRegistry({', '.join(f'{e.name} V{e.version}' for e in self._by_name.values())})"


default_registry = EventRegistry()
"""The registry the example domains use, and the default of every ``Repository``."""


def domain_event(name: str | type | None = None, *, version: int | None = None) -> Any:
    """Register a domain event class in :data:`default_registry`.

    ``@domain_event`` uses the class name; ``@domain_event("OrderPaid", version=2)``
    names the type and its current schema version. Put it above ``@dataclass``.
    """
    return default_registry.event(name, version=version)


def _where(recorded: RecordedEvent) -> str:
    return f"at position {recorded.position} (stream {recorded.stream_id!r}, version {recorded.version})"


def _identity(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
