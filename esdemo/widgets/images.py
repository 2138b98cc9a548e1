"""Charts inside widgets: a matplotlib figure shown as a PNG in an ``ipywidgets.Image``.

A widget that redraws a chart when a control moves keeps one image widget
and swaps its bytes, rather than printing a new figure under the last one.
"""

from __future__ import annotations

import io

import ipywidgets as W
from matplotlib.figure import Figure

CHART_MAX_WIDTH = "750px"
"""How wide a widget's chart may grow (it shrinks with the notebook)."""


def png_bytes(figure: Figure) -> bytes:
    """A figure as PNG bytes, for an ``ipywidgets.Image`` that a widget redraws."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def chart_image() -> W.Image:
    """An empty PNG image widget, the size every widget's chart has; fill it with ``show_figure``."""
    return W.Image(format="png", layout=W.Layout(max_width=CHART_MAX_WIDTH))


def show_figure(image: W.Image, figure: Figure) -> None:
    """Show ``figure`` in ``image`` (replacing what it showed)."""
    image.value = png_bytes(figure)
