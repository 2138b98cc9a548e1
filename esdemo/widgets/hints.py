"""A button that reveals an exercise's hints one at a time (see :mod:`esdemo.exercises.hints`)."""

from __future__ import annotations

import html

import ipywidgets as W

from ..exercises.hints import Hints
from .panel import panel


def _label(hints: Hints) -> str:
    if not hints.remaining:
        return "No more hints"
    return f"Show hint {hints.shown + 1} of {len(hints.hints)}"


def build_hints(exercise: str) -> W.VBox:
    """``build_hints("events_to_replay")``: press the button for the next hint; the shown ones stay listed.

    ``panel.controls["next"]`` is the button, ``panel.result`` the list of
    hints shown so far, ``panel.hints`` the :class:`~esdemo.exercises.hints.Hints`.
    """
    hints = Hints.for_exercise(exercise)
    button = W.Button(description=_label(hints), icon="lightbulb-o")
    shown = W.HTML("<i>Stuck? Reveal one hint, try again, and take the next only if you need it.</i>")

    def on_click(_button: W.Button) -> None:
        hints.reveal()
        items = "".join(f"<li>{html.escape(h)}</li>" for h in hints.revealed())
        shown.value = f"<ol>{items}</ol>"
        button.description = _label(hints)
        button.disabled = not hints.remaining

    button.on_click(on_click)
    box = panel({"next": button}, shown)
    box.hints = hints
    return box
