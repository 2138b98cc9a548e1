"""Testing and failure handling · choosing a failure policy per view."""

from __future__ import annotations

from ..poison_events import poison_race
from ..read.failure_policy import FailurePolicy
from .feedback import Feedback, _no, _not_done, _ok


def check_policy_choice(ledger_policy: object, search_policy: object) -> Feedback:
    """Exercise: the ledger retries 3 times from 2 s then stops; the search index retries once after 5 s, then parks (at most 20).

    Then both run against a log with one poison event, to show what each choice does.
    """
    for name, policy in (("ledger_policy", ledger_policy), ("search_policy", search_policy)):
        if _not_done(policy):
            return _no(f"define {name} first: a FailurePolicy, e.g. FailurePolicy.retry(...) or FailurePolicy.parking(...).")
        if not isinstance(policy, FailurePolicy):
            return _no(f"{name} must be a FailurePolicy (from esdemo import FailurePolicy), got {type(policy).__name__}.")
    ledger, search = ledger_policy, search_policy
    if ledger.park:
        return _no("the ledger must never park: an event applied late would make a balance wrong in between, and "
                   "overdraft rules would have run on it. Use FailurePolicy.retry(...): retry, then stop.")
    if ledger.retries != 3:
        return _no(f"the ledger retries {ledger.retries} time(s); the instructions ask for 3 (transient failures such "
                   "as a locked file usually pass within a few tries).")
    if ledger.backoff != 2:
        return _no(f"the ledger's first wait is {ledger.backoff:g} s; make it 2 s (backoff=2): the waits are then 2, 4, 8 s.")
    if not search.park:
        return _no("the search index should park: one bad product event must not stop every other product's "
                   "update, and a late update of one product is harmless. Use FailurePolicy.parking(...).")
    if search.retries != 1 or search.backoff != 5:
        return _no(f"the search index retries {search.retries} time(s) after {search.backoff:g} s; the instructions "
                   "ask for one retry after 5 s (retries=1, backoff=5).")
    if search.max_parked != 20:
        return _no("the search index needs a ceiling of 20 parked events (max_parked=20): a view that parks "
                   "everything has a bug to fix, and should stop and say so."
                   if search.max_parked is None else f"the ceiling is {search.max_parked}; the instructions say 20.")
    rounds = poison_race({"ledger": ledger, "search": search}, rounds=5, per_round=4)
    last = {r.policy: r for r in rounds if r.round == 5}
    return _ok(f"on a log with one poison event the ledger {last['ledger'].status} at position "
               f"{last['ledger'].position} (lag {last['ledger'].lag}: someone must fix it, and no balance was shown "
               f"wrong meanwhile); the search index kept up (lag {last['search'].lag}, {last['search'].parked} parked "
               "event to replay after the fix).")
