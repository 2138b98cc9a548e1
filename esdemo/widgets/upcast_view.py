"""Notebook 10 · Schema evolution."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as W

from ..store.events import RecordedEvent
from ..tables import format_value
from ..write.domain import EventDecodeError, EventRegistry
from ..write.upcasting import UpcastError
from .panel import panel


@dataclass(frozen=True)
class StoredVsSeen:
    """One stored event next to what a registry turns it into.

    ``stored_version`` and ``stored_data`` are what the log holds, and they
    never change. ``seen_type`` (the event type, not the Python class), ``seen_version`` and ``seen_data`` are the
    domain event an aggregate or projection receives after the upcasters ran;
    they are ``None`` when the registry cannot decode the event, and
    ``error`` then says why (the registry's own message).
    """

    position: int
    stream_id: str
    type: str
    stored_version: int
    stored_data: dict[str, Any]
    seen_type: str | None
    seen_version: int | None
    seen_data: dict[str, Any] | None
    error: str | None

    @property
    def upcast(self) -> bool:
        """Did the event change version on its way in?"""
        return self.seen_version is not None and self.seen_version != self.stored_version

    def describe(self) -> str:
        """Two lines: what is stored, and what the domain sees."""
        stored = f"stored:  {self.type} V{self.stored_version} {_fields(self.stored_data)}"
        if self.error is not None:
            return f"position {self.position} ({self.stream_id})\n{stored}\nseen:    nothing, the read fails: {self.error}"
        how = f"upcast V{self.stored_version} -> V{self.seen_version}" if self.upcast else "as stored"
        return (f"position {self.position} ({self.stream_id})\n{stored}\n"
                f"seen:    {self.seen_type} V{self.seen_version} {_fields(self.seen_data or {})}  ({how})")


def _fields(data: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{key}: {format_value(value)}" for key, value in data.items()) + "}"


def stored_vs_seen(recorded: RecordedEvent, registry: EventRegistry) -> StoredVsSeen:
    """Decode ``recorded`` with ``registry`` and report the stored event next to the domain event.

    A failed decode is part of the answer, not an exception: the widget shows
    the registry's message (e.g. "no upcaster from V1 is registered").

    >>> stored_vs_seen(store.read("Order-9001")[-1], default_registry).seen_data["currency"]
    'USD'
    """
    if not isinstance(recorded, RecordedEvent):
        raise TypeError(f"pass a RecordedEvent (from store.read(...)), got {type(recorded).__name__}")
    if not isinstance(registry, EventRegistry):
        raise TypeError(f"registry must be an EventRegistry, got {type(registry).__name__}")
    stored = (recorded.position, recorded.stream_id, recorded.type, recorded.schema_version, dict(recorded.data))
    try:
        event = registry.decode(recorded)
    except (EventDecodeError, UpcastError) as exc:
        return StoredVsSeen(*stored, None, None, None, str(exc))
    seen = {field.name: getattr(event, field.name) for field in dataclasses.fields(event)}
    return StoredVsSeen(*stored, type(event).event_type, type(event).schema_version, seen, None)


def _stored_vs_seen_html(view: StoredVsSeen, registry_name: str) -> str:
    def rows(data: Mapping[str, Any]) -> str:
        return "".join(f"<tr><td><code>{html.escape(k)}</code></td><td>{html.escape(format_value(v))}</td></tr>"
                       for k, v in data.items())

    stored = (f"<b>stored in the log: {html.escape(view.type)} V{view.stored_version}</b>"
              f"<table>{rows(view.stored_data)}</table><i>never changes</i>")
    if view.error is not None:
        seen = (f"<b>seen by the domain ({html.escape(registry_name)})</b>"
                f"<p style='color:#b00020'>the read fails: {html.escape(view.error)}</p>")
    else:
        how = f"upcast V{view.stored_version} → V{view.seen_version}" if view.upcast else "as stored, no upcast"
        seen = (f"<b>seen by the domain ({html.escape(registry_name)}): {html.escape(view.seen_type or '')} "
                f"V{view.seen_version}</b><table>{rows(view.seen_data or {})}</table><i>{how}</i>")
    cell = "<td style='vertical-align:top; padding-right:2em; max-width:30em'>"
    return (f"<p>position {view.position} · {html.escape(view.stream_id)}</p>"
            f"<table><tr>{cell}{stored}</td>{cell}{seen}</td></tr></table>")


def build_upcast_widget(events: Sequence[RecordedEvent], registries: Mapping[str, EventRegistry], *,
                        start: int = 1) -> W.VBox:
    """A slider over ``events`` and a choice of registry: the stored event next to what the domain sees.

    ``registries`` names the choices, e.g. ``{"with upcaster": default_registry,
    "no upcaster": bare}``; ``start`` is the event (1-based) shown first.
    """
    events = list(events)
    if not events:
        raise ValueError("pass at least one recorded event, e.g. store.read_all()")
    if not registries or not all(isinstance(r, EventRegistry) for r in registries.values()):
        raise ValueError("registries must map a label to an EventRegistry, e.g. {'with upcaster': default_registry}")
    if not 1 <= start <= len(events):
        raise ValueError(f"start must be between 1 and {len(events)} (the number of events), got {start}")
    controls = {
        "event": W.IntSlider(value=start, min=1, max=len(events), description="event"),
        "registry": W.ToggleButtons(options=list(registries), description="read with"),
    }
    result = W.HTML()

    def show(_change: object = None) -> None:
        name = controls["registry"].value
        result.value = _stored_vs_seen_html(stored_vs_seen(events[controls["event"].value - 1], registries[name]), name)

    controls["event"].observe(show, names="value")
    controls["registry"].observe(show, names="value")
    show()
    return panel(controls, result)
