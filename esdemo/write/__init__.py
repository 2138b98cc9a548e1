"""The write side: aggregates decide, events record, the repository loads and saves.

Built on :mod:`esdemo.store` only; it never imports the read side.

* :mod:`.domain`: domain events (frozen dataclasses) and the registry that
  turns them into stored events and back;
* :mod:`.upcasting`: upcaster chains that read old event versions as new ones;
* :mod:`.aggregate`: :class:`Aggregate`: commands validate, then record; ``apply``
  is the only state change;
* :mod:`.repository`: load (also as of a version or a time) and save with the
  loaded version as the expected version;
* :mod:`.snapshots`: versioned snapshots kept beside the events, a cache only;
* :mod:`.context`: correlation and causation ids, stamped on every save;
* :mod:`.erasure`: crypto-shredding: personal fields encrypted with a per-subject
  key kept apart from the log; forgetting a subject destroys its key.
* :mod:`.decider`: the same model as three functions (decide, evolve, initial state);
* :mod:`.testing`: given / when / then specs for aggregates and deciders.
"""

from .aggregate import Aggregate, DomainError
from .context import MessageContext, current_context, event_id_for, handling_command, in_context, reacting_to, step_id
from .decider import Decider, DeciderRepository
from .domain import DomainEvent, EventDecodeError, EventRegistry, UnknownEventTypeError, default_registry, domain_event
from .erasure import (
    ERASED,
    DecryptionError,
    Erased,
    ErasureError,
    ForgetReport,
    KeyStore,
    PersonalDataCipher,
    SubjectForgotten,
    SubjectForgottenError,
    UnknownSubjectError,
    encrypting_registry,
    forget_subject,
    is_erased,
    personal_data,
    seeded_random_bytes,
)
from .repository import AggregateNotFoundError, LoadPlan, Repository
from .snapshots import Snapshot, SnapshotStore
from .upcasting import UpcastError, Upcasters, copy_and_transform

__all__ = [
    "ERASED",
    "DecryptionError",
    "Erased",
    "ErasureError",
    "ForgetReport",
    "KeyStore",
    "PersonalDataCipher",
    "SubjectForgotten",
    "SubjectForgottenError",
    "UnknownSubjectError",
    "encrypting_registry",
    "forget_subject",
    "is_erased",
    "personal_data",
    "seeded_random_bytes",
    "Aggregate",
    "AggregateNotFoundError",
    "Decider",
    "DeciderRepository",
    "DomainError",
    "DomainEvent",
    "EventDecodeError",
    "EventRegistry",
    "LoadPlan",
    "MessageContext",
    "Repository",
    "Snapshot",
    "SnapshotStore",
    "UnknownEventTypeError",
    "UpcastError",
    "Upcasters",
    "copy_and_transform",
    "current_context",
    "default_registry",
    "domain_event",
    "event_id_for",
    "handling_command",
    "in_context",
    "reacting_to",
    "step_id",
]
