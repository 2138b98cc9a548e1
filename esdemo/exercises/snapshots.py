"""Notebook 09 · Snapshots."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..examples.bank import Account
from ..store.event_store import EventStore
from ..write.repository import AggregateNotFoundError, Repository
from .feedback import Feedback, _fresh_store, _no, _not_done, _ok

# (stream version, snapshots as (version, schema_version), the class's schema_version, at_version, hint)
_REPLAY_CASES = [
    (130, [(120, 1)], 1, None, "load the snapshot, then replay only the events after it"),
    (130, [(40, 1), (80, 1), (120, 1)], 1, None, "use the newest usable snapshot, not the first one"),
    (130, [(60, 1), (120, 2)], 1, None,
     "a snapshot with another schema_version was written for another shape of the state: ignore it"),
    (130, [(60, 2), (120, 1)], 2, None, "the class's own schema_version decides which snapshots fit"),
    (130, [(60, 1), (120, 1)], 1, 90,
     "a load at_version=90 must not use a snapshot from its future (120), and stops at version 90"),
    (25, [], 1, None, "with no usable snapshot, replay everything from event 1"),
    (120, [(120, 1)], 1, None, "the snapshot already covers the last event: there is nothing to replay"),
]


def _shown(versions: list[int]) -> str:
    return "nothing" if not versions else f"{versions[0]}..{versions[-1]}" if len(versions) > 1 else str(versions[0])


def _true_replay(stream_version: int, snapshots: list[tuple[int, int]], schema_version: int,
                 at_version: int | None) -> range:
    """Build the case in a real store and ask the real Repository what a load replays."""
    with _fresh_store() as store:
        accounts = Repository(store, Account)
        account = Account.open("x", owner="Ada")
        for _ in range(stream_version - 1):
            account.deposit(Decimal("1"))
        accounts.save(account)
        for version, schema in snapshots:
            state = accounts.load("x", at_version=version).snapshot_state()
            accounts.snapshots.save("Account-x", version, schema, state)
        shaped = type("AccountShape", (Account,), {"stream_prefix": "Account", "snapshot_version": schema_version})
        plan = Repository(store, shaped).load_plan("x", at_version=at_version)
    return range(plan.version - plan.replayed + 1, plan.version + 1)


def check_events_to_replay(events_to_replay: Any) -> Feedback:
    """Exercise 07.1: ``events_to_replay(stream_version, snapshots, schema_version, at_version=None)``.

    It returns the versions a load replays. Each case is built in a real store
    and answered by the real ``Repository.load_plan``, so the check compares
    the learner's rules with what the code does.
    """
    if _not_done(events_to_replay) or not callable(events_to_replay):
        return _no("define events_to_replay(stream_version, snapshots, schema_version, at_version=None) first.")
    for stream_version, snapshots, schema_version, at_version, hint in _REPLAY_CASES:
        case = (f"a stream at version {stream_version}, snapshots {snapshots} (version, schema_version), "
                f"schema_version={schema_version}" + (f", at_version={at_version}" if at_version else ""))
        try:
            answer = events_to_replay(stream_version, list(snapshots), schema_version, at_version)
        except TypeError as exc:
            return _no(f"calling it failed ({exc}). Use events_to_replay(stream_version, snapshots, schema_version, "
                       "at_version=None).")
        except Exception as exc:  # noqa: BLE001
            return _no(f"for {case} it raised {type(exc).__name__}: {exc}.")
        if isinstance(answer, int) or not hasattr(answer, "__iter__"):
            return _no(f"for {case} it returned {answer!r}. Return the versions to replay, such as "
                       "range(first, last + 1), not how many.")
        versions, expected = list(answer), list(_true_replay(stream_version, snapshots, schema_version, at_version))
        if versions == expected:
            continue
        told = f"For {case} you replay {_shown(versions)}; a load replays {_shown(expected)}."
        if versions and expected and abs(versions[0] - expected[0]) <= 1 and abs(versions[-1] - expected[-1]) <= 1:
            return _no(f"{told} Off by one: the snapshot at version N already contains event N, so replay starts "
                       "at N + 1, and the last version is included: range(N + 1, last + 1).")
        return _no(f"{told} Hint: {hint}.")
    return _ok("your rules agree with Repository.load_plan: the newest snapshot of the class's schema version at or "
               "before the target, then the events after it, up to and including the target.")


def _account_history(store: EventStore) -> tuple[list[Decimal], Decimal]:
    """Account x, written by the OLD code (Account, snapshot_version 1) with a snapshot every 4 events."""
    accounts = Repository(store, Account, snapshot_every=4)
    account = Account.open("x", owner="Ada")
    accounts.save(account)
    deposits = [Decimal(a) for a in ("120.00", "75.50", "910.25", "40.00", "66.10", "12.00", "310.00",
                                     "55.55", "20.00", "81.00", "19.99")]
    for number, amount in enumerate(deposits):
        account.deposit(amount)
        if number == 5:
            account.withdraw(Decimal("500.00"))
        accounts.save(account)
    return deposits, account.balance


def check_account_v2(AccountV2: Any) -> Feedback:  # noqa: N803 - the learner's class
    """Exercise 07.2: a new version of Account with ``largest_deposit``, loading streams with old snapshots.

    The check writes an account with the old ``Account`` (snapshots every 4
    events, schema version 1; the largest deposit long before the newest
    snapshot), then loads it with the learner's class.
    """
    if _not_done(AccountV2) or not isinstance(AccountV2, type):
        return _no("define the class first: class AccountV2(Account): ...")
    if not issubclass(AccountV2, Account):
        return _no("AccountV2 must extend Account (class AccountV2(Account): ...), to keep its commands and apply.")
    if AccountV2.stream_id_for("x") != "Account-x":
        return _no(f"AccountV2 reads the stream {AccountV2.stream_id_for('x')!r}, but the accounts live in 'Account-x'. "
                   "Set stream_prefix = 'Account' so the new class reads the same streams.")
    with _fresh_store() as store:
        deposits, balance = _account_history(store)
        accounts = Repository(store, AccountV2)
        try:
            fresh = AccountV2.open("y", owner="Bo")
            loaded = accounts.load("x")
        except AggregateNotFoundError as exc:
            return _no(f"loading failed: {exc}")
        except Exception as exc:  # noqa: BLE001
            return _no(f"loading the account with AccountV2 raised {type(exc).__name__}: {exc}")
        if getattr(fresh, "largest_deposit", None) != Decimal("0"):
            return _no(f"a new account's largest_deposit is {getattr(fresh, 'largest_deposit', None)!r}; set it to "
                       "Decimal('0') in __init__, after super().__init__(id).")
        if loaded.balance != balance:
            return _no(f"the loaded balance is {loaded.balance}, not {balance}: your apply does not pass every event "
                       "to Account's apply. Call super().apply(event) for all of them.")
        largest, got = max(deposits), loaded.largest_deposit
        plan = accounts.load_plan("x")
        if AccountV2.snapshot_version == Account.snapshot_version or plan.snapshot is not None:
            return _no(f"largest_deposit came out as {got}, but it is {largest}. AccountV2 still has snapshot_version "
                       f"{AccountV2.snapshot_version}, so the load restored the old code's snapshot at version "
                       f"{plan.snapshot}, which has no largest_deposit, and only saw the deposits after it. The "
                       "state's shape changed: bump snapshot_version (to 2).")
        if got == deposits[-1]:
            return _no(f"largest_deposit is {got}, the latest deposit; keep the largest one seen so far: "
                       "max(self.largest_deposit, event.amount).")
        if got != largest:
            return _no(f"largest_deposit is {got}, but the largest deposit was {largest}. In apply, for a "
                       "MoneyDeposited, keep max(self.largest_deposit, event.amount).")
        accounts.take_snapshot(loaded)  # the new code's first snapshot (schema version 2)
        loaded.deposit(Decimal("5.00"))
        accounts.save(loaded)
        again = accounts.load("x")
        if again.largest_deposit != largest or accounts.load_plan("x").snapshot is None:
            return _no(f"after a snapshot by AccountV2 and one more deposit of 5.00, largest_deposit is "
                       f"{again.largest_deposit}, not {largest}. Keep largest_deposit a plain public attribute, so "
                       "the snapshot saves and restores it.")
        old = Repository(store, Account).load("x")
        if old.balance != again.balance:
            return _no("the old Account class no longer loads the stream correctly.")
    return _ok(f"the old snapshots were ignored (full replay), largest_deposit is {largest}, AccountV2's own snapshots "
               "work, and the old Account class still loads the same stream with its own snapshots: old and new code "
               "can run side by side during a deploy.")
