"""The checks of notebook 02's exercises accept right answers and explain each typical wrong one."""

from __future__ import annotations

from decimal import Decimal

from esdemo import Repository
from esdemo.examples.bank import Account
from esdemo.exercises import check_balance_as_of, check_balance_fold, check_find_culprit
from esdemo.widgets import replay_steps

# -- Exercise 1: one step of the replay -------------------------------------------------------------


def fold_right(balance, event):
    if event.type == "AccountOpened":
        return event.data["opening_balance"]
    if event.type == "MoneyDeposited":
        return balance + event.data["amount"]
    if event.type == "MoneyWithdrawn":
        return balance - event.data["amount"]
    return balance


def fold_ignores_opening_balance(balance, event):
    return fold_right(balance, event) if event.type != "AccountOpened" else balance


def fold_adds_withdrawals(balance, event):
    return balance + event.data["amount"] if event.type == "MoneyWithdrawn" else fold_right(balance, event)


def fold_subtracts_deposits(balance, event):
    return balance - event.data["amount"] if event.type == "MoneyDeposited" else fold_right(balance, event)


def fold_forgets_return(balance, event):
    fold_right(balance, event)


def fold_in_floats(balance, event):
    return float(fold_right(Decimal(str(balance)), event))


def fold_wrong_key(balance, event):
    return balance + event.data["value"]


def test_balance_fold_accepts_a_correct_fold():
    feedback = check_balance_fold(fold_right)
    assert feedback, feedback.message


def test_balance_fold_explains_each_typical_mistake():
    assert "define balance_after" in check_balance_fold(...).message
    assert "opening balance" in check_balance_fold(fold_ignores_opening_balance).message
    assert "must go down" in check_balance_fold(fold_adds_withdrawals).message
    assert "must go up" in check_balance_fold(fold_subtracts_deposits).message
    assert "returned None" in check_balance_fold(fold_forgets_return).message
    assert "float" in check_balance_fold(fold_in_floats).message
    assert "raised KeyError" in check_balance_fold(fold_wrong_key).message
    assert not check_balance_fold(lambda balance, event: Decimal("150"))        # the seed's answer, hard-coded


# -- Exercise 2: a temporal query -------------------------------------------------------------------


def as_of_right(store, account_id, when):
    return Repository(store, Account).load(account_id, as_of=when).balance


def as_of_by_hand(store, account_id, when):
    return replay_steps([e for e in store.read(f"Account-{account_id}") if e.recorded_at <= when])[-1].state["balance"]


def as_of_ignores_when(store, account_id, when):
    return Repository(store, Account).load(account_id).balance


def as_of_strictly_before(store, account_id, when):
    return replay_steps([e for e in store.read(f"Account-{account_id}") if e.recorded_at < when])[-1].state["balance"]


def as_of_returns_account(store, account_id, when):
    return Repository(store, Account).load(account_id, as_of=when)


def as_of_other_store(store, account_id, when):
    from esdemo.data import open_store
    return Repository(open_store("account_123"), Account).load(account_id, as_of=when).balance


def test_balance_as_of_accepts_the_repository_and_a_replay_by_hand():
    assert check_balance_as_of(as_of_right)
    assert check_balance_as_of(as_of_by_hand)


def test_balance_as_of_explains_each_typical_mistake():
    assert "define balance_as_of" in check_balance_as_of(...).message
    assert "today's balance" in check_balance_as_of(as_of_ignores_when).message
    assert "at or before" in check_balance_as_of(as_of_strictly_before).message
    assert "account.balance" in check_balance_as_of(as_of_returns_account).message
    assert "the store you are given" in check_balance_as_of(as_of_other_store).message
    assert not check_balance_as_of(lambda store, account_id, when: Decimal("950.00"))


# -- Exercise 3: find the event that caused the bug -------------------------------------------------


def culprit_right(events, buggy_after):
    balance = Decimal("0")
    for step in replay_steps(events):
        balance = buggy_after(balance, step.event)
        if balance != step.state["balance"]:
            return step.event
    return None


def culprit_last(events, buggy_after):
    balance, found = Decimal("0"), None
    for step in replay_steps(events):
        balance = buggy_after(balance, step.event)
        if balance != step.state["balance"]:
            found = step.event
    return found


def culprit_index(events, buggy_after):
    found = culprit_right(events, buggy_after)
    return None if found is None else found.version


def culprit_one_before(events, buggy_after):
    found = culprit_right(events, buggy_after)
    return None if found is None else events[found.version - 2]


def culprit_always(events, buggy_after):
    return culprit_right(events, buggy_after) or events[0]


def culprit_step(events, buggy_after):
    balance = Decimal("0")
    for step in replay_steps(events):
        balance = buggy_after(balance, step.event)
        if balance != step.state["balance"]:
            return step                      # the ReplayStep, not its event
    return None


def test_find_culprit_accepts_a_step_by_step_comparison():
    feedback = check_find_culprit(culprit_right)
    assert feedback, feedback.message


def test_find_culprit_explains_each_typical_mistake():
    assert "define find_culprit" in check_find_culprit(...).message
    assert "FIRST event" in check_find_culprit(culprit_last).message
    assert "a number" in check_find_culprit(culprit_index).message
    assert "just before" in check_find_culprit(culprit_one_before).message
    assert "return None when" in check_find_culprit(culprit_always).message
    step = check_find_culprit(culprit_step)
    assert not step and "step.event" in step.message
    assert "returned None" in check_find_culprit(lambda events, buggy_after: None).message
