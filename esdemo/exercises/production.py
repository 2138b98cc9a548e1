"""Production notebook · PostgreSQL: the safe reader's condition, and a lock key every process agrees on."""

from __future__ import annotations

import builtins
import random
import zlib
from typing import Any

from .feedback import Feedback, _no, _not_done, _ok

# (row, checkpoint, xmin, expected, why) where row and checkpoint are (transaction id, position)
_SAFE_CASES = [
    ((105, 7), (100, 5), 110, True, "a finished transaction's row after the checkpoint must be delivered"),
    ((112, 8), (100, 5), 110, False,
     "row (112, 8) belongs to transaction 112, and the oldest transaction still running is 110: 112 may still be "
     "running, and so may 110, which could yet commit a row. Deliver only rows whose transaction id < xmin"),
    ((110, 9), (100, 5), 110, False, "a row of transaction 110 when xmin is 110 is not safe yet (tx < xmin, not <=)"),
    ((100, 5), (100, 5), 110, False, "the checkpoint's own row was delivered already (compare strictly: >)"),
    ((100, 3), (100, 5), 110, False, "row (100, 3) sorts before the checkpoint (100, 5): it was delivered already"),
    ((104, 2), (101, 6), 110, True,
     "row (104, 2) has a LOWER position than the checkpoint (101, 6) but a younger transaction that committed "
     "later: comparing positions alone skips it for ever. Compare the pair (tx, position) in that order"),
    ((99, 9), (101, 6), 110, False, "row (99, 9) sorts before the checkpoint (101, 6): transaction first, then position"),
]


def check_safe_to_deliver(safe_to_deliver: Any) -> Feedback:
    """Exercise: ``safe_to_deliver(row, checkpoint, xmin) -> bool`` with ``row`` and ``checkpoint`` pairs
    ``(transaction id, position)`` and ``xmin`` the oldest transaction still running."""
    if _not_done(safe_to_deliver) or not callable(safe_to_deliver):
        return _no("define safe_to_deliver(row, checkpoint, xmin) first; it returns True or False.")
    rng = random.Random(14)
    cases = list(_SAFE_CASES)
    rng.shuffle(cases)
    for row, checkpoint, xmin, expected, why in cases:
        try:
            answer = safe_to_deliver(row, checkpoint, xmin)
        except Exception as exc:   # the learner's code: say what it raised
            return _no(f"safe_to_deliver({row}, {checkpoint}, {xmin}) raised {type(exc).__name__}: {exc}")
        if not isinstance(answer, bool):
            return _no(f"safe_to_deliver({row}, {checkpoint}, {xmin}) returned {answer!r}; return True or False.")
        if answer != expected:
            return _no(f"safe_to_deliver({row}, {checkpoint}, {xmin}) returned {answer}, expected {expected}: {why}.")
    return _ok("a row is delivered when its transaction has ended (tx < xmin) and the pair (tx, position) sorts "
               "after the checkpoint; that is the WHERE clause of SafeReader.poll.")


_NAMES = ["order_summary", "revenue", "status_board", "customer_directory", "newsletter", "position_log",
          "sku_demand", "open_carts", "revenue_per_customer", "inventory", "shipping", "audit"]


def _salted_hash(value: Any) -> int:
    """What ``hash()`` could return in another process (Python salts str hashes per process)."""
    return zlib.crc32(repr(("another process", value)).encode()) * 7919


def check_lock_key(lock_key: Any) -> Feedback:
    """Exercise: ``lock_key(projection_name) -> int``, the advisory-lock key every worker process agrees on."""
    if _not_done(lock_key) or not callable(lock_key):
        return _no("define lock_key(name) first; it returns an int.")
    keys: dict[str, int] = {}
    for name in _NAMES:
        try:
            key = lock_key(name)
        except Exception as exc:
            return _no(f"lock_key({name!r}) raised {type(exc).__name__}: {exc}")
        if not isinstance(key, int) or isinstance(key, bool):
            return _no(f"lock_key({name!r}) returned {key!r}; an advisory lock takes an int.")
        if not -(2 ** 63) <= key < 2 ** 63:
            return _no(f"lock_key({name!r}) = {key} does not fit in PostgreSQL's bigint (a signed 64-bit int); "
                       "mask it, e.g. & 0x7FFFFFFF.")
        if lock_key(name) != key:
            return _no(f"lock_key({name!r}) gave two different keys in one process; it must be a pure function.")
        keys[name] = key
    real_hash = builtins.hash
    builtins.hash = _salted_hash
    try:
        changed = [name for name in _NAMES if lock_key(name) != keys[name]]
    finally:
        builtins.hash = real_hash
    if changed:
        return _no(f"lock_key({changed[0]!r}) changes when hash() changes. Python salts hash() of a str per process "
                   "(PYTHONHASHSEED), so two worker processes would compute different keys, both 'own' the "
                   "projection, and the lock protects nothing. Use a stable hash: zlib.crc32(name.encode()).")
    by_key: dict[int, str] = {}
    for name, key in keys.items():
        if key in by_key:
            return _no(f"lock_key({by_key[key]!r}) and lock_key({name!r}) are both {key}: two projections would share "
                       "one lock, so one would wait for the other for ever. Derive the key from the name.")
        by_key[key] = name
    return _ok("the key depends only on the projection's name (stable in every process), fits a bigint, and two "
               "projections get two locks. ProjectionWorker uses zlib.crc32 of 'esdemo-projection:<name>' & 0x7FFFFFFF.")
