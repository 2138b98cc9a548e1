"""Notebooks 02 and the capstone · the time-travel debugger: one slider over the whole log.

The state comes from :class:`~esdemo.read.time_travel.TimeTravel`; this module
only draws it (:func:`time_travel_html`) and wires the controls
(:func:`build_time_travel`).
"""

from __future__ import annotations

import html
import time
from typing import Any

import ipywidgets as W

from ..read.time_travel import Moment, TimeTravel
from ..tables import format_value

CHANGED = "background:#fff3b0"
INSERTED = "background:#d9f2d9"
DELETED = "background:#f8d7da;text-decoration:line-through"


def key_text(key: Any) -> str:
    """A row key as the learner types it: ``12345``, or ``2024-02-18, EUR`` for a composite key."""
    return ", ".join(format_value(part) for part in key) if isinstance(key, tuple) else format_value(key)


def find_key(moment: Moment, view: str, text: str) -> Any:
    """The key of ``view`` written as ``text`` (see :func:`key_text`); ``None`` if no row has it at this moment."""
    text = text.strip()
    if not text:
        return None
    for change in moment.changes.in_view(view):
        if key_text(change.key) == text:
            return change.key
    return next((key for key in moment.view(view) if key_text(key) == text), None)


def time_travel_html(moment: Moment, *, follow: tuple[str, Any] | None = None,
                     aggregate_class: type | None = None) -> str:
    """What the debugger shows at one moment, as HTML: where, the event, its aggregate, the views' changed rows.

    Changed cells are highlighted yellow, inserted rows green, deleted rows red.
    ``follow=(view, key)`` also shows that row (highlighted if it changed).
    ``aggregate_class`` shows the state of the event's aggregate after the event.
    """
    parts = [f"<b>position {moment.position} of {moment.head}</b>"]
    event = moment.event
    if event is None:
        parts.append("before the first event: every view is empty, no aggregate exists")
    else:
        data = ", ".join(f"{html.escape(str(k))}={html.escape(format_value(v))}" for k, v in event.data.items())
        meta = ", ".join(f"{html.escape(str(k))}={html.escape(format_value(v))}" for k, v in event.metadata.items())
        parts.append(f"event: <b>{html.escape(event.type)}</b> V{event.schema_version} on "
                     f"<code>{html.escape(event.stream_id)}</code> (version {event.version}) at "
                     f"{html.escape(format_value(event.recorded_at))}<br>data: {data}"
                     + (f"<br>metadata: {meta}" if meta else "<br>metadata: none"))
        if aggregate_class is not None:
            parts.append(_aggregate_html(moment, aggregate_class))
    changed = moment.changes.rows
    if event is not None:
        parts.append("changed rows: " + (", ".join(f"{html.escape(c.view)}[{html.escape(key_text(c.key))}] {c.kind}"
                                                    for c in changed) or "<i>none: no view changed</i>"))
    for name in moment.view_names:
        rows = [(c.key, c.after if c.after is not None else c.before, c) for c in moment.changes.in_view(name)]
        if follow is not None and follow[0] == name and all(k != follow[1] for k, _, _ in rows):
            row = moment.row(name, follow[1])
            if row is not None:
                rows.append((follow[1], row, None))
        if rows:
            parts.append(f"<b>{html.escape(name)}</b>" + _rows_html(rows))
    lag = {name: behind for name, behind in moment.lag.items() if behind is not None}
    if lag:
        parts.append("live views at this position: " + ", ".join(
            f"{html.escape(name)} " + ("has applied it" if behind == 0 else f"is {behind} event(s) short of it")
            for name, behind in lag.items()))
    return "<br>".join(parts)


def _aggregate_html(moment: Moment, aggregate_class: type) -> str:
    state = moment.aggregate_of_event(aggregate_class)
    if state is None:
        return ""
    changed = {c.field for c in moment.changes.fields}
    cells = []
    for name, value in state.items():
        text = html.escape(f"{name} {format_value(value)}")
        cells.append(f"<span style='{CHANGED}'>{text}</span>" if name in changed else text)
    return f"{html.escape(moment.event.stream_id)} after it: " + " · ".join(cells)  # type: ignore[union-attr]


def _rows_html(rows: list[tuple[Any, dict[str, Any], Any]]) -> str:
    columns = list(dict.fromkeys(name for _, row, _ in rows for name in row))
    head = "".join(f"<th>{html.escape(name)}</th>" for name in columns)
    body = []
    for _key, row, change in rows:
        kind = None if change is None else change.kind
        style = INSERTED if kind == "inserted" else DELETED if kind == "deleted" else ""
        hot = set(change.columns) if kind == "updated" else set()
        cells = "".join(f"<td style='{CHANGED if name in hot else ''}'>{html.escape(format_value(row.get(name)))}</td>"
                        for name in columns)
        body.append(f"<tr style='{style}'>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _jump_next_in_stream(debugger: TimeTravel, moment: Moment) -> tuple[int | None, str]:
    """Where 'next in stream' goes from ``moment`` (``None``: nowhere) and what the status line says."""
    event = moment.event
    if event is None:
        return None, "position 0 has no event, so no stream to follow"
    found = debugger.next_in_stream(moment.position)
    return found, (f"no later event of {event.stream_id}" if found is None else
                   f"next event of {event.stream_id}: position {found}")


def _jump_to_cause(debugger: TimeTravel, moment: Moment) -> tuple[int | None, str]:
    """Where 'jump to cause' goes from ``moment`` (``None``: nowhere, and why) and what the status line says."""
    event = moment.event
    if event is None:
        return None, "position 0 has no event, so no cause"
    cause_id = (event.metadata or {}).get("causation_id")
    if cause_id is None:
        return None, f"the event at {event.position} has no causation_id in its metadata: nothing to jump to"
    if str(cause_id) == str(event.event_id):
        return None, (f"the event at {event.position} started its conversation: a command from outside "
                      "the log caused it, nothing to jump to")
    found = debugger.cause_of(event.position)
    return found, (f"the cause of {event.position} is not in this log" if found is None else
                   f"jumped to the cause of {event.position}: position {found}")


def _jump_to_row_change(debugger: TimeTravel, moment: Moment, name: str, text: str) -> tuple[int | None, str]:
    """Where 'last change of row' goes for row ``text`` of view ``name`` (``None``: nowhere) and what it says."""
    text = text.strip()
    if not text:
        return None, "type a row key in 'row' first (e.g. an order id)"
    key = find_key(moment, name, text)
    if key is None:
        return None, f"{name} has no row {text!r} at position {moment.position}"
    found = debugger.last_change(name, key, moment.position)
    return found, (f"{name}[{text}] never changed up to here" if found is None else
                   f"{name}[{text}] last changed at position {found}")


def build_time_travel(debugger: TimeTravel, *, start: int | None = None, aggregate_class: type | None = None,
                      view: str | None = None, row: str = "") -> W.VBox:
    """The debugger as a widget: a slider over positions 0..head and buttons that jump.

    ``panel.controls``: ``position`` (``IntSlider``), ``back`` and ``forward``
    (one step), ``next_in_stream`` (the next event of the current event's
    stream), ``cause`` (the event named by ``causation_id``), ``view``
    (``Dropdown`` of view names) and ``row`` (``Text``: a row key to follow),
    ``row_change`` (the last event at or before here that changed that row).
    ``panel.result`` is :func:`time_travel_html`; ``panel.status`` says what
    the last jump did and how long the step took; ``panel.moment`` is the
    current :class:`~esdemo.read.time_travel.Moment`, ``panel.step_ms`` the
    time of every step so far.
    """
    head = debugger.head()
    start = head if start is None else start
    if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start <= head:
        raise ValueError(f"start must be a position from 0 to {head}, got {start!r}")
    views = [p.name for p in debugger.projections]
    if view is not None and view not in views:
        raise ValueError(f"view must be one of {views}, got {view!r}")
    controls = {
        "position": W.IntSlider(value=start, min=0, max=head, description="position", continuous_update=False,
                                layout=W.Layout(width="480px")),
        "back": W.Button(description="◀ step", layout=W.Layout(width="70px")),
        "forward": W.Button(description="step ▶", layout=W.Layout(width="70px")),
        "next_in_stream": W.Button(description="next in stream", layout=W.Layout(width="120px")),
        "cause": W.Button(description="jump to cause", layout=W.Layout(width="110px")),
        "view": W.Dropdown(options=views, value=view or (views[0] if views else None), description="view",
                           layout=W.Layout(width="240px")),
        "row": W.Text(value=row, description="row", placeholder="a key, e.g. 12345", layout=W.Layout(width="200px")),
        "row_change": W.Button(description="last change of row", layout=W.Layout(width="140px")),
    }
    result, status = W.HTML(), W.HTML()
    result.add_class("esdemo-time-travel-result")      # for the browser test (and user CSS) to find it
    status.add_class("esdemo-time-travel-status")
    c = controls
    box = W.VBox([W.HBox([c["position"], c["back"], c["forward"]]),
                  W.HBox([c["next_in_stream"], c["cause"], c["view"], c["row"], c["row_change"]]), status, result])
    box.controls, box.result, box.output = controls, result, None
    box.status, box.step_ms = status, []

    def follow() -> tuple[str, Any] | None:
        name = controls["view"].value
        if name is None:
            return None
        key = find_key(box.moment, name, controls["row"].value)
        return None if key is None else (name, key)

    def show(_change: Any = None, note: str = "") -> None:
        started = time.perf_counter()
        box.moment = debugger.at(controls["position"].value)
        box.step_ms.append((time.perf_counter() - started) * 1000)
        result.value = time_travel_html(box.moment, follow=follow(), aggregate_class=aggregate_class)
        status.value = html.escape(note) + (" · " if note else "") + f"step took {box.step_ms[-1]:.1f} ms"

    def go(position: int | None, note: str) -> None:
        if position is None:
            status.value = html.escape(note)
            return
        if position == controls["position"].value:
            show(note=note)
        else:
            box._note = note
            controls["position"].value = position

    def on_slider(change: Any) -> None:
        note, box._note = getattr(box, "_note", ""), ""
        show(note=note)

    def step(delta: int) -> None:
        target = min(max(controls["position"].value + delta, 0), controls["position"].max)
        go(target, f"stepped to {target}")

    def next_in_stream(_button: Any) -> None:
        go(*_jump_next_in_stream(debugger, box.moment))

    def cause(_button: Any) -> None:
        go(*_jump_to_cause(debugger, box.moment))

    def row_change(_button: Any) -> None:
        go(*_jump_to_row_change(debugger, box.moment, controls["view"].value, controls["row"].value))

    controls["position"].observe(on_slider, names="value")
    controls["back"].on_click(lambda _b: step(-1))
    controls["forward"].on_click(lambda _b: step(+1))
    controls["next_in_stream"].on_click(next_in_stream)
    controls["cause"].on_click(cause)
    controls["row_change"].on_click(row_change)
    controls["view"].observe(lambda _c: show(), names="value")
    controls["row"].observe(lambda _c: show(), names="value")
    show()
    return box
