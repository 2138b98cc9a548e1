"""Notebook 02 · Event sourcing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from ..examples.bank import Account
from ..store.clock import FakeClock
from ..store.event_store import EventStore
from ..write.repository import AggregateNotFoundError, Repository
from .feedback import Feedback, _no, _not_done, _ok

_UTC = timezone.utc


def _account_log(account_id: str, opening: Decimal, moves: list[tuple[datetime, str, Decimal]],
                 opened_at: datetime) -> tuple[EventStore, list, Repository]:
    """A fresh store holding one account: opened at ``opened_at``, then ``(time, "deposit"|"withdraw", amount)``."""
    clock = FakeClock(opened_at)
    store = EventStore(clock=clock)
    accounts = Repository(store, Account)
    account = Account.open(account_id, owner="Grace Hopper", opening_balance=opening)
    accounts.save(account)
    for when, command, amount in moves:
        clock.set(when)
        getattr(account, command)(amount)
        accounts.save(account)
    return store, store.read(f"Account-{account_id}"), accounts


def check_balance_fold(balance_after: Callable[[Any, Any], Any]) -> Feedback:
    """Exercise 02.1: ``balance_after(balance, event)`` is one step of the replay, for recorded events.

    The check folds a fresh account's events (an opening balance that is not
    zero, deposits and withdrawals with cents) from ``Decimal("0")`` and
    compares with the ``Account`` aggregate at every step.
    """
    if _not_done(balance_after) or not callable(balance_after):
        return _no("define balance_after(balance, event) first: it returns the balance after one event.")
    day = datetime(2024, 2, 1, 9, tzinfo=_UTC)
    moves = [(day + timedelta(days=1), "deposit", Decimal("310.40")), (day + timedelta(days=2), "withdraw", Decimal("72.15")),
             (day + timedelta(days=4), "deposit", Decimal("18.00")), (day + timedelta(days=7), "withdraw", Decimal("200.00"))]
    store, events, accounts = _account_log("77", Decimal("25.00"), moves, day)
    balance: Any = Decimal("0")
    for event in events:
        before = balance
        try:
            balance = balance_after(balance, event)
        except Exception as exc:  # noqa: BLE001
            return _no(f"at version {event.version} ({event.type}) your function raised {exc!r}. The amount is "
                       "event.data['amount'] (event.data['opening_balance'] for AccountOpened).")
        expected = accounts.load("77", at_version=event.version).balance
        if balance is None:
            return _no(f"your function returned None after {event.type}: return the new balance.")
        if isinstance(balance, float):
            return _no(f"after {event.type} you returned the float {balance!r}. Keep money in Decimal, as the events "
                       "hold it.")
        if balance == expected:
            continue
        if event.type == "AccountOpened":
            return _no(f"after AccountOpened(opening_balance={event.data['opening_balance']}) the balance is "
                       f"{expected}, you have {balance}: an account opens with its opening balance.")
        amount = event.data.get("amount")
        if event.type == "MoneyWithdrawn" and amount is not None and balance == before + amount:
            return _no(f"a withdrawal of {amount} took the balance from {before} to {balance}: it must go down.")
        if event.type == "MoneyDeposited" and amount is not None and balance == before - amount:
            return _no(f"a deposit of {amount} took the balance from {before} to {balance}: it must go up.")
        return _no(f"after version {event.version} ({event.type} {event.data}) the balance should be {expected}, "
                   f"your fold says {balance}.")
    return _ok(f"your fold agrees with the Account aggregate at every one of {len(events)} steps of an account "
               "you had never seen: that is all a replay is.")


def check_balance_as_of(balance_as_of: Callable[..., Any]) -> Feedback:
    """Exercise 02.2: ``balance_as_of(store, account_id, when)``: the balance from the events recorded at or before ``when``.

    The check asks about a fresh account at four instants, one of them the
    exact time of an event (which had happened by then).
    """
    if _not_done(balance_as_of) or not callable(balance_as_of):
        return _no("define balance_as_of(store, account_id, when) first.")
    feb = lambda day, hour=9, minute=0: datetime(2024, 2, day, hour, minute, tzinfo=_UTC)  # noqa: E731
    moves = [(feb(3, 12), "deposit", Decimal("500.00")), (feb(10, 8, 30), "withdraw", Decimal("120.50")),
             (feb(10, 17), "deposit", Decimal("40.00")), (feb(20, 11), "withdraw", Decimal("300.00"))]
    store, events, accounts = _account_log("55", Decimal("0"), moves, feb(1))
    now = accounts.load("55").balance
    questions = [(feb(5, 0), Decimal("500.00")), (feb(10, 8, 30), Decimal("379.50")), (feb(10, 12), Decimal("379.50")),
                 (datetime(2024, 3, 1, tzinfo=_UTC), now)]
    for when, expected in questions:
        try:
            answer = balance_as_of(store, "55", when)
        except AggregateNotFoundError as exc:
            return _no(f"your function raised {exc!r}. Load from the store you are given: "
                       "Repository(store, Account).load(account_id, as_of=when).")
        except Exception as exc:  # noqa: BLE001
            return _no(f"balance_as_of(store, '55', {when.isoformat()}) raised {exc!r}.")
        if isinstance(answer, Account):
            return _no("you returned the Account itself; return its balance (account.balance).")
        if answer == expected:
            continue
        if answer == now and when < feb(20, 11):
            return _no(f"as of {when:%d %b %H:%M} you answered {answer}, today's balance. Stop the replay at `when`: "
                       "Repository(store, Account).load(account_id, as_of=when).")
        if when == feb(10, 8, 30) and answer == Decimal("500.00"):
            return _no("at exactly 10 Feb 08:30 a withdrawal of 120.50 was recorded, and by that instant it had "
                       "happened: keep events recorded at or before `when` (<=, not <).")
        return _no(f"as of {when:%Y-%m-%d %H:%M} the balance was {expected}; your function says {answer}.")
    return _ok("right at all four instants, including one exactly at an event's timestamp.")


def _fold_rounding_withdrawals(balance: Decimal, event: Any) -> Decimal:
    """The check's planted bug: a balance fold that rounds withdrawals to whole dollars."""
    if event.type == "AccountOpened":
        return event.data["opening_balance"]
    if event.type == "MoneyDeposited":
        return balance + event.data["amount"]
    return balance - event.data["amount"].to_integral_value()


def _fold_correctly(balance: Decimal, event: Any) -> Decimal:
    """A balance fold without a bug: it agrees with the Account replay at every step."""
    if event.type == "AccountOpened":
        return event.data["opening_balance"]
    sign = 1 if event.type == "MoneyDeposited" else -1
    return balance + sign * event.data["amount"]


def check_find_culprit(find_culprit: Callable[..., Any]) -> Feedback:
    """Exercise 02.3: ``find_culprit(events, buggy_after)`` returns the first event after which a buggy fold
    disagrees with the ``Account`` replay, or ``None`` when they always agree.

    The check plants a bug of its own (withdrawals rounded to whole dollars)
    in a fresh account whose first withdrawal with cents is in the middle of
    the stream, so every later step disagrees too.
    """
    if _not_done(find_culprit) or not callable(find_culprit):
        return _no("define find_culprit(events, buggy_after) first.")
    day = datetime(2024, 3, 1, 9, tzinfo=_UTC)
    moves = [(day + timedelta(days=1), "deposit", Decimal("300.00")), (day + timedelta(days=2), "withdraw", Decimal("40.00")),
             (day + timedelta(days=3), "deposit", Decimal("120.50")), (day + timedelta(days=5), "withdraw", Decimal("60.75")),
             (day + timedelta(days=6), "deposit", Decimal("10.00")), (day + timedelta(days=8), "withdraw", Decimal("20.00"))]
    _, events, _ = _account_log("31", Decimal("0"), moves, day)
    culprit = events[4]                                   # MoneyWithdrawn(60.75), version 5

    try:
        found = find_culprit(events, _fold_rounding_withdrawals)
    except Exception as exc:  # noqa: BLE001
        return _no(f"find_culprit(events, buggy_after) raised {exc!r}.")
    if isinstance(found, int) and not isinstance(found, bool):
        return _no(f"you returned {found}, a number; return the event itself (the RecordedEvent), so its type, "
                   "data and time can be inspected.")
    if found is None:
        return _no("you returned None, but the buggy fold does disagree with the account from some step on.")
    if hasattr(found, "event") and hasattr(found, "state"):   # a ReplayStep from replay_steps
        return _no(f"you returned the whole replay step {getattr(found, 'step', '?')}; return the event itself, step.event "
                   "(a RecordedEvent), so its type, data and time can be inspected.")
    if found == events[-1] or (getattr(found, "version", 0) > culprit.version):
        return _no(f"you returned the event at version {getattr(found, 'version', '?')}. Once a fold goes wrong, "
                   "every later step is wrong too: return the FIRST event after which the two disagree.")
    if getattr(found, "version", None) == culprit.version - 1:
        return _no("you returned the event just before the culprit. Compare the states AFTER each event: the first "
                   "event whose result differs is the one the bug mishandles.")
    if found != culprit:
        return _no(f"the culprit is the event at version {culprit.version} ({culprit.type} {culprit.data['amount']}); "
                   f"you returned {found!r}.")
    try:
        clean = find_culprit(events, _fold_correctly)
    except Exception as exc:  # noqa: BLE001
        return _no(f"with a fold that has no bug, your function raised {exc!r}; it should return None.")
    if clean is not None:
        return _no("with a fold that agrees with the account at every step, your function still returned an event; "
                   "return None when there is no disagreement.")
    return _ok(f"found {culprit.type}({culprit.data['amount']}) at version {culprit.version}, the first event the "
               "buggy fold gets wrong, and None for a fold without a bug.")
