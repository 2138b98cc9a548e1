"""The checks of notebook 09's exercises accept right answers and explain each typical mistake."""

from __future__ import annotations

from decimal import Decimal

import pytest

from esdemo.examples.bank import Account, MoneyDeposited
from esdemo.exercises import check_account_v2, check_events_to_replay

# -- Exercise 1: events_to_replay -----------------------------------------------------------------

def replay_right(stream_version, snapshots, schema_version, at_version=None):
    target = stream_version if at_version is None else at_version
    usable = [v for v, s in snapshots if s == schema_version and v <= target]
    return range(max(usable, default=0) + 1, target + 1)


def replay_as_a_list(stream_version, snapshots, schema_version, at_version=None):
    return list(replay_right(stream_version, snapshots, schema_version, at_version))


def replay_from_the_snapshot_itself(stream_version, snapshots, schema_version, at_version=None):
    r = replay_right(stream_version, snapshots, schema_version, at_version)
    return range(r.start - 1, r.stop) if r.start > 1 else r


def replay_without_the_last_event(stream_version, snapshots, schema_version, at_version=None):
    r = replay_right(stream_version, snapshots, schema_version, at_version)
    return range(r.start, r.stop - 1)


def replay_from_the_oldest_snapshot(stream_version, snapshots, schema_version, at_version=None):
    target = stream_version if at_version is None else at_version
    usable = [v for v, s in snapshots if s == schema_version and v <= target]
    return range(min(usable, default=0) + 1, target + 1)


def replay_ignoring_the_schema(stream_version, snapshots, schema_version, at_version=None):
    target = stream_version if at_version is None else at_version
    return range(max([v for v, _ in snapshots if v <= target], default=0) + 1, target + 1)


def replay_ignoring_at_version(stream_version, snapshots, schema_version, at_version=None):
    return replay_right(stream_version, snapshots, schema_version)


def replay_with_a_future_snapshot(stream_version, snapshots, schema_version, at_version=None):
    target = stream_version if at_version is None else at_version
    usable = [v for v, s in snapshots if s == schema_version]
    return range(max(usable, default=0) + 1, target + 1)


def replay_count(stream_version, snapshots, schema_version, at_version=None):
    return len(replay_right(stream_version, snapshots, schema_version, at_version))


def replay_the_seeds_answer(stream_version, snapshots, schema_version, at_version=None):
    return range(1001, 1051)


def replay_with_two_arguments(stream_version, snapshots):
    return range(1, stream_version + 1)


def replay_that_crashes_without_snapshots(stream_version, snapshots, schema_version, at_version=None):
    target = stream_version if at_version is None else at_version
    newest = max(v for v, s in snapshots if s == schema_version and v <= target)  # max() of nothing raises
    return range(newest + 1, target + 1)


def test_events_to_replay_accepts_correct_solutions():
    for answer in (replay_right, replay_as_a_list):
        feedback = check_events_to_replay(answer)
        assert feedback, feedback.message


@pytest.mark.parametrize("answer, hint", [
    (..., "define events_to_replay"),
    (replay_from_the_snapshot_itself, "Off by one"),
    (replay_without_the_last_event, "Off by one"),
    (replay_from_the_oldest_snapshot, "use the newest usable snapshot"),
    (replay_ignoring_the_schema, "another schema_version"),
    (replay_ignoring_at_version, "must not use a snapshot from its future"),
    (replay_with_a_future_snapshot, "must not use a snapshot from its future"),
    (replay_count, "not how many"),
    (replay_the_seeds_answer, "a load replays 121..130"),
    (replay_with_two_arguments, "calling it failed"),
    (replay_that_crashes_without_snapshots, "it raised ValueError"),
])
def test_events_to_replay_explains_each_typical_mistake(answer, hint):
    feedback = check_events_to_replay(answer)
    assert not feedback
    assert hint in feedback.message, feedback.message


# -- Exercise 2: AccountV2 ------------------------------------------------------------------------

class RightV2(Account):
    stream_prefix = "Account"
    snapshot_version = 2

    def __init__(self, id):
        super().__init__(id)
        self.largest_deposit = Decimal("0")

    def apply(self, event):
        super().apply(event)
        if isinstance(event, MoneyDeposited):
            self.largest_deposit = max(self.largest_deposit, event.amount)


class ForgotToBump(RightV2):
    snapshot_version = 1


class WrongStream(RightV2):
    stream_prefix = None


class KeepsTheLatest(RightV2):
    def apply(self, event):
        super(RightV2, self).apply(event)
        if isinstance(event, MoneyDeposited):
            self.largest_deposit = event.amount


class SkipsAccountsApplyForDeposits(RightV2):
    def apply(self, event):
        if isinstance(event, MoneyDeposited):
            self.largest_deposit = max(self.largest_deposit, event.amount)
        else:
            super(RightV2, self).apply(event)


class NoDefault(RightV2):
    def __init__(self, id):
        Account.__init__(self, id)
        self.largest_deposit = None

    def apply(self, event):
        super(RightV2, self).apply(event)
        if isinstance(event, MoneyDeposited):
            self.largest_deposit = max(self.largest_deposit or Decimal("0"), event.amount)


class KeepsItPrivate(RightV2):
    """Stores the value where snapshots do not look (a leading underscore), so a V2 snapshot loses it."""

    def __init__(self, id):
        Account.__init__(self, id)
        self._largest = Decimal("0")

    @property
    def largest_deposit(self):
        return self._largest

    def apply(self, event):
        super(RightV2, self).apply(event)
        if isinstance(event, MoneyDeposited):
            self._largest = max(self._largest, event.amount)


def test_account_v2_accepts_a_correct_solution():
    feedback = check_account_v2(RightV2)
    assert feedback, feedback.message


@pytest.mark.parametrize("answer, hint", [
    (..., "define the class first"),
    (dict, "must extend Account"),
    (WrongStream, "Set stream_prefix = 'Account'"),
    (ForgotToBump, "bump snapshot_version"),
    (KeepsTheLatest, "the latest deposit"),
    (SkipsAccountsApplyForDeposits, "Call super().apply(event) for all of them"),
    (NoDefault, "set it to Decimal('0') in __init__"),
    (KeepsItPrivate, "Keep largest_deposit a plain public attribute"),
])
def test_account_v2_explains_each_typical_mistake(answer, hint):
    feedback = check_account_v2(answer)
    assert not feedback
    assert hint in feedback.message, feedback.message
