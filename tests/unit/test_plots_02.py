"""Notebook 02's chart: the balance after each event, replayed up to a step."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from esdemo.plots import balance_chart

TIMES = [datetime(2024, 1, day, 9, tzinfo=timezone.utc) for day in (1, 2, 3, 10)]
BALANCES = [Decimal("0"), Decimal("200"), Decimal("150"), Decimal("1350.00")]


def lines_by_label(axes):
    return {line.get_label(): line for line in axes.get_lines()}


def test_full_replay_has_title_labels_and_every_balance():
    axes = balance_chart(TIMES, BALANCES).axes[0]
    assert axes.get_title() == "Account 123: the balance, replayed"
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("recorded at (UTC)", "balance (USD)")
    lines = lines_by_label(axes)
    assert list(lines) == ["replayed: steps 1-4", "step 4: balance 1350.00"]
    assert list(lines["replayed: steps 1-4"].get_ydata()) == [0.0, 200.0, 150.0, 1350.0]
    assert lines["replayed: steps 1-4"].get_drawstyle() == "steps-post"
    assert [t.get_text() for t in axes.get_legend().get_texts()] == list(lines)


def test_partial_replay_greys_the_rest_and_marks_the_step():
    axes = balance_chart(TIMES, BALANCES, upto=3).axes[0]
    lines = lines_by_label(axes)
    assert list(lines["rest of the stream"].get_ydata()) == [0.0, 200.0, 150.0, 1350.0]
    assert list(lines["replayed: steps 1-3"].get_ydata()) == [0.0, 200.0, 150.0]
    marker = lines["step 3: balance 150.00"]
    assert list(marker.get_ydata()) == [150.0] and list(marker.get_xdata()) == [TIMES[2]]


def test_as_of_draws_a_labelled_vertical_line():
    as_of = datetime(2024, 1, 5, tzinfo=timezone.utc)
    line = lines_by_label(balance_chart(TIMES, BALANCES, as_of=as_of).axes[0])["as of 2024-01-05 00:00"]
    assert list(line.get_xdata()) == [as_of, as_of]


@pytest.mark.parametrize("times, balances, upto", [([], [], None), (TIMES, BALANCES[:2], None), (TIMES, BALANCES, 0),
                                                   (TIMES, BALANCES, 5)])
def test_refuses_mismatched_data_and_steps_outside_it(times, balances, upto):
    with pytest.raises(ValueError):
        balance_chart(times, balances, upto=upto)
