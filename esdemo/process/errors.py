"""Errors of the process layer (process managers, command bus, outbox and inbox)."""

from __future__ import annotations

from ..store.errors import EventStoreError


class ProcessError(EventStoreError):
    """Something in the process layer was used wrongly; the message says what to do."""


class UnknownCommandError(ProcessError, LookupError):
    """No handler is registered for this command type."""


class CommandProducedNothingError(ProcessError):
    """A command handler saved no event, so a redelivery could not be recognised as a duplicate."""
