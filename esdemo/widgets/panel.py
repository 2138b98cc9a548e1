"""The shape every widget shares: controls, a result, an output area."""

from __future__ import annotations

import ipywidgets as W


def panel(controls: dict[str, W.Widget], result: W.Widget, output: W.Output | None = None) -> W.VBox:
    """Lay out controls, a result area and an optional output area, and expose them as attributes."""
    box = W.VBox([W.HBox(list(controls.values())), result, *([output] if output is not None else [])])
    box.controls, box.result, box.output = controls, result, output
    return box
