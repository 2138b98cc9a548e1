"""Notebook 03's race widget: the pure function and the built widget."""

from __future__ import annotations

import pytest

from esdemo.widgets import build_race_widget, race


@pytest.mark.parametrize("writers", [2, 9])
def test_race_has_exactly_one_winner(backend, writers):
    outcome = race(writers, backend)
    assert (outcome.winners, outcome.conflicts, outcome.stream_version) == (1, writers - 1, 2)
    assert f"{writers - 1} got ConflictError" in outcome.describe()


def test_race_refuses_silly_sizes():
    with pytest.raises(ValueError, match="between 1 and 64"):
        race(0)


def test_race_widget_runs_on_click_with_the_chosen_settings():
    panel = build_race_widget()
    assert "Press Race!" in panel.result.value
    panel.controls["writers"].value = 5
    panel.controls["backend"].value = "sqlite"
    panel.controls["run"].click()
    assert "5 writers" in panel.result.value and "on sqlite" in panel.result.value
    assert "4 got ConflictError" in panel.result.value
