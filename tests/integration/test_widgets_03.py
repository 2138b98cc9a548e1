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


def test_describe_only_claims_safety_when_there_was_exactly_one_winner():
    from esdemo.widgets import RaceOutcome

    good = RaceOutcome(writers=4, backend="duckdb", winners=1, conflicts=3, stream_version=2)
    assert good.one_winner and "no change was lost or doubled" in good.describe()
    doubled = RaceOutcome(writers=4, backend="duckdb", winners=2, conflicts=2, stream_version=3)
    assert not doubled.one_winner
    assert "no change was lost" not in doubled.describe() and "NOT the one winner" in doubled.describe()
    crashed = RaceOutcome(writers=4, backend="sqlite", winners=1, conflicts=2, stream_version=2)
    assert not crashed.one_winner and "1 failed otherwise" in crashed.describe()
