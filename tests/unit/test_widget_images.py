"""Charts inside widgets: a figure becomes PNG bytes in an image widget, and changes when redrawn."""

from __future__ import annotations

import ipywidgets as W
from matplotlib.figure import Figure

from esdemo.widgets import chart_image, png_bytes, show_figure


def figure_of(values: list[int]) -> Figure:
    figure = Figure(figsize=(3, 2))
    figure.add_subplot().plot(values)
    return figure


def test_png_bytes_is_a_png_of_the_figure_the_same_each_time():
    figure = figure_of([1, 3, 2])
    first = png_bytes(figure)
    assert first.startswith(b"\x89PNG\r\n\x1a\n")
    assert png_bytes(figure) == first
    assert png_bytes(figure_of([3, 1, 2])) != first


def test_show_figure_replaces_what_the_chart_image_shows():
    image = chart_image()
    assert isinstance(image, W.Image) and image.format == "png" and image.layout.max_width == "750px"
    assert bytes(image.value) == b""
    one, two = figure_of([1, 2]), figure_of([2, 1])
    show_figure(image, one)
    assert bytes(image.value) == png_bytes(one)
    show_figure(image, two)
    assert bytes(image.value) == png_bytes(two)
