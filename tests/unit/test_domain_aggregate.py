"""The Aggregate base: commands record, apply is the only state change, replay uses the same apply."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from esdemo import Aggregate, DomainError, DomainEvent


@dataclass(frozen=True)
class Counted(DomainEvent):
    by: int


@dataclass(frozen=True)
class Ignored(DomainEvent):
    pass


class Counter(Aggregate):
    def __init__(self, id):
        super().__init__(id)
        self.total = 0
        self.applied = 0

    def add(self, by: int) -> None:
        if by <= 0:
            raise DomainError(f"can only count up, got {by}")
        self.record(Counted(by))

    def apply(self, event):
        match event:
            case Counted(by=by):
                self.total += by
                self.applied += 1
            case _:
                super().apply(event)


class Tally(Counter):
    stream_prefix = "Tallies"


def test_a_command_records_an_event_that_is_applied_at_once_and_pending_until_saved():
    counter = Counter("c1")
    counter.add(2)
    counter.add(3)
    assert counter.total == 5
    assert counter.pending_events == (Counted(2), Counted(3))
    assert counter.version == 0  # nothing stored yet
    counter.mark_saved(2)
    assert counter.pending_events == () and counter.version == 2


def test_a_rejected_command_records_nothing():
    counter = Counter("c1")
    with pytest.raises(DomainError, match="can only count up, got -1"):
        counter.add(-1)
    assert counter.pending_events == () and counter.total == 0


def test_replay_uses_the_same_apply_and_sets_the_version():
    live = Counter("c1")
    for by in (1, 2, 3):
        live.add(by)
    replayed = Counter("c1")
    replayed.replay(list(live.pending_events), version=3)
    assert (replayed.total, replayed.applied, replayed.version) == (live.total, live.applied, 3)
    assert replayed.pending_events == ()


def test_replay_refuses_an_aggregate_with_unsaved_events():
    counter = Counter("c1")
    counter.add(1)
    with pytest.raises(RuntimeError, match="unsaved events"):
        counter.replay([Counted(1)], version=1)


def test_an_event_without_a_case_is_a_clear_error():
    with pytest.raises(TypeError, match=r"Counter.apply has no case for Ignored"):
        Counter("c1").apply(Ignored())


def test_stream_ids_default_to_the_class_name_and_can_be_renamed():
    assert Counter.stream_id_for(123) == "Counter-123"
    assert Counter("abc").stream_id == "Counter-abc"
    assert Tally("7").stream_id == "Tallies-7"
    assert Counter(123).id == "123"


@pytest.mark.parametrize("bad", ["", "  ", None, 1.5, True])
def test_bad_ids_are_refused(bad):
    with pytest.raises(ValueError, match="aggregate id must be a non-empty string"):
        Counter(bad)
    with pytest.raises(ValueError, match="aggregate id must be a non-empty string"):
        Counter.stream_id_for(bad)


def test_default_snapshot_state_is_the_public_state_and_restores_it():
    counter = Counter("c1")
    counter.add(4)
    counter.mark_saved(1)
    state = counter.snapshot_state()
    assert state == {"total": 4, "applied": 1}
    blank = Counter("c1")
    blank.restore_state(state)
    assert (blank.total, blank.applied) == (4, 1)


def test_repr_shows_id_version_and_pending():
    counter = Counter("c1")
    counter.add(1)
    assert repr(counter) == "<Counter 'c1' v0, 1 pending>"
