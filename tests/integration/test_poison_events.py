"""A poison event against failure policies: the data behind notebook 08's chart, and its exercise check."""

from __future__ import annotations

import pytest

from esdemo import FailurePolicy
from esdemo.exercises.failure_policies import check_policy_choice
from esdemo.plots import poison_race_chart
from esdemo.poison_events import poison_race


@pytest.fixture(scope="module")
def rounds():
    return poison_race({"stop": FailurePolicy.stop(), "retry": FailurePolicy.retry(2, backoff=30),
                        "park": FailurePolicy.parking(retries=1, backoff=30)}, rounds=6, per_round=5, poison_round=2)


def by(rounds, policy):
    return [r for r in rounds if r.policy == policy]


def test_a_view_that_stops_stays_at_the_event_before_the_poison_for_ever(rounds):
    stop = by(rounds, "stop")
    assert [r.position for r in stop] == [5] * 6 and [r.lag for r in stop] == [0, 5, 10, 15, 20, 25]
    assert [r.status for r in stop][1:] == ["stopped"] * 5


def test_retrying_waits_on_the_clock_then_stops_when_the_retries_run_out(rounds):
    retry = by(rounds, "retry")
    assert [r.status for r in retry][:3] == ["ok", "retrying", "retrying"] and retry[-1].status == "stopped"
    assert all(r.position == 5 for r in retry)


def test_parking_sets_the_poison_aside_and_keeps_up(rounds):
    park = by(rounds, "park")
    assert park[-1].lag == 0 and park[-1].parked == 1 and park[-1].status == "ok"


@pytest.mark.parametrize("backend", ["duckdb", "sqlite"])
def test_the_race_is_the_same_on_both_backends(backend):
    policies = {"park": FailurePolicy.parking(retries=0)}
    assert poison_race(policies, rounds=3, backend=backend) == poison_race(policies, rounds=3, backend="duckdb")


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError):
        poison_race({"x": "stop"})
    with pytest.raises(ValueError):
        poison_race({"x": FailurePolicy.stop()}, rounds=2, poison_round=3)


def test_the_chart_draws_one_line_per_policy(rounds):
    figure = poison_race_chart(rounds)
    assert len(figure.axes[0].lines) == 3


def test_the_policy_check_accepts_the_instructed_choice_and_reports_the_outcome():
    feedback = check_policy_choice(FailurePolicy.retry(3, backoff=2), FailurePolicy.parking(retries=1, backoff=5, max_parked=20))
    assert feedback and "the ledger stopped" in feedback.message and "1 parked" in feedback.message


@pytest.mark.parametrize("ledger, search, hint", [
    (..., FailurePolicy.parking(retries=1, backoff=5, max_parked=20), "define ledger_policy"),
    ("retry", FailurePolicy.parking(retries=1, backoff=5, max_parked=20), "must be a FailurePolicy"),
    (FailurePolicy.parking(retries=3, backoff=2), FailurePolicy.parking(retries=1, backoff=5, max_parked=20), "never park"),
    (FailurePolicy.retry(2, backoff=2), FailurePolicy.parking(retries=1, backoff=5, max_parked=20), "ask for 3"),
    (FailurePolicy.retry(3, backoff=1), FailurePolicy.parking(retries=1, backoff=5, max_parked=20), "2 s"),
    (FailurePolicy.retry(3, backoff=2), FailurePolicy.retry(1, backoff=5), "should park"),
    (FailurePolicy.retry(3, backoff=2), FailurePolicy.parking(retries=3, backoff=5, max_parked=20), "one retry after 5 s"),
    (FailurePolicy.retry(3, backoff=2), FailurePolicy.parking(retries=1, backoff=5), "ceiling of 20"),
    (FailurePolicy.retry(3, backoff=2), FailurePolicy.parking(retries=1, backoff=5, max_parked=5), "the ceiling is 5"),
])
def test_the_policy_check_says_what_is_wrong(ledger, search, hint):
    feedback = check_policy_choice(ledger, search)
    assert not feedback and hint in feedback.message
