"""Tiered hints: revealed one at a time, never all at once, and the widget's button drives them."""

from __future__ import annotations

import pytest

from esdemo.exercises.hints import HINTS, Hints
from esdemo.widgets.hints import build_hints


def test_hints_are_revealed_in_order_one_per_request():
    hints = Hints(["idea", "tool", "almost code"])
    assert hints.revealed() == () and hints.remaining == 3
    assert hints.reveal() == "idea" and hints.revealed() == ("idea",)
    assert hints.reveal() == "tool" and hints.remaining == 1
    assert hints.reveal() == "almost code" and hints.remaining == 0
    assert "last hint" in hints.reveal() and hints.revealed() == ("idea", "tool", "almost code")


@pytest.mark.parametrize("name", sorted(HINTS))
def test_every_registered_exercise_has_at_least_two_tiers(name):
    assert len(Hints.for_exercise(name).hints) >= 2


def test_an_unknown_exercise_names_the_ones_that_have_hints():
    with pytest.raises(KeyError, match="events_to_replay"):
        Hints.for_exercise("no_such_exercise")


@pytest.mark.parametrize("bad", [[], [""], ["ok", "  "], [3]])
def test_empty_hints_are_refused(bad):
    with pytest.raises(ValueError):
        Hints(bad)


def test_the_widget_shows_nothing_until_asked_then_one_more_per_click_and_stops():
    panel = build_hints("events_to_replay")
    tiers = HINTS["events_to_replay"]
    button = panel.controls["next"]
    assert tiers[0] not in panel.result.value and button.description == f"Show hint 1 of {len(tiers)}"
    button.click()
    assert tiers[0] in panel.result.value.replace("&#x27;", "'") and tiers[1][:20] not in panel.result.value
    for _ in tiers[1:]:
        button.click()
    assert button.disabled and button.description == "No more hints"
    assert panel.hints.revealed() == tiers
