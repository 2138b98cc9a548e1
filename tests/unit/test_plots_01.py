"""Notebook 01's chart: where the new price is visible, step by step."""

from __future__ import annotations

import pytest

from esdemo.plots import SYNC_MEANING, price_sync_chart

STEPS = ["start", "command", "relay"]
PLACES = ["write model", "search view"]
CODES = [[2, 2, 2], [2, 1, 1]]
LABELS = [["40.00", "35.00", "35.00"], ["40.00", "40.00", "40.00"]]


def test_grid_shows_codes_labels_and_axes():
    axes = price_sync_chart(STEPS, PLACES, CODES, LABELS).axes[0]
    assert axes.get_title() == "Where is the new price? One column per step"
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("step (what just ran)", "where the price is kept")
    assert axes.images[0].get_array().tolist() == CODES
    assert [t.get_text() for t in axes.get_xticklabels()] == STEPS
    assert [t.get_text() for t in axes.get_yticklabels()] == PLACES
    assert [t.get_text() for t in axes.texts] == [label for row in LABELS for label in row]
    assert [t.get_text() for t in axes.get_legend().get_texts()] == list(SYNC_MEANING)


@pytest.mark.parametrize("codes, labels", [([[2, 2]], LABELS), (CODES, [["x"] * 3]), ([[2, 2, 3], [2, 1, 1]], LABELS)])
def test_grid_refuses_data_of_the_wrong_shape_or_codes(codes, labels):
    with pytest.raises(ValueError):
        price_sync_chart(STEPS, PLACES, codes, labels)
