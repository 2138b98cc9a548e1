"""What a snapshot saves: loading a 10,000-event ``Account`` with and without one.

The seed's picture: snapshot at event 9,950, replay only 9,951..10,000.
Both loads run against the same store in the same run, so their ratio is
a fair comparison even on a busy machine. Run it with::

    python -m esdemo.benchmarks.snapshots
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from decimal import Decimal

from ..examples.bank import Account
from ..store.event_store import EventStore
from ..write.repository import Repository


def run(events: int = 10_000, tail: int = 50, repeat: int = 7,
        backends: Sequence[str] = ("duckdb", "sqlite")) -> dict[str, float]:
    """Median milliseconds per load, per backend, and the full/snapshot ratio.

    Keys, for each backend ``b``: ``b.store_read_ms`` (the store's read of
    all events, no domain code), ``b.decode_apply_ms`` (the domain side of a
    replay: decode and apply events already read), ``b.full_replay_ms`` (load with no
    snapshot), ``b.snapshot_ms`` (load = snapshot + ``tail`` events) and
    ``b.ratio`` (full / snapshot).
    """
    if events < 2 or not 0 <= tail < events:
        raise ValueError(f"need events >= 2 and 0 <= tail < events, got events={events}, tail={tail}")
    results: dict[str, float] = {"events": events, "tail": tail, "repeat": repeat}
    for backend in backends:
        with EventStore(backend=backend) as store:
            accounts = Repository(store, Account)
            account = Account.open("bench", owner="Ada")
            for _ in range(events - 1):
                account.deposit(Decimal("1.00"))
            accounts.save(account)
            stream_id = account.stream_id
            read = _median_ms(lambda: store.read(stream_id), repeat)
            recorded = store.read(stream_id)
            domain = _median_ms(lambda: _decode_and_apply(accounts, recorded), repeat)
            full = _median_ms(lambda: accounts.load("bench"), repeat)
            accounts.take_snapshot(accounts.load("bench", at_version=events - tail))
            snap = _median_ms(lambda: accounts.load("bench"), repeat)
            if accounts.load("bench").balance != account.balance:
                raise RuntimeError("snapshot + tail gave a different balance than the account itself")
        results |= {f"{backend}.store_read_ms": read, f"{backend}.decode_apply_ms": domain,
                    f"{backend}.full_replay_ms": full,
                    f"{backend}.snapshot_ms": snap, f"{backend}.ratio": full / snap}
    return results


def _decode_and_apply(accounts: Repository, recorded: list) -> Account:
    decode = accounts.registry.decode
    account = Account(recorded[0].data["account_id"])
    account.replay([decode(event) for event in recorded], recorded[-1].version)
    return account


def _median_ms(action: Callable[[], object], repeat: int) -> float:
    action()  # warm up: caches, lazy imports
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


if __name__ == "__main__":
    numbers = run()
    print(f"Loading an Account of {numbers['events']:,} events; snapshot at {numbers['events'] - numbers['tail']:,} "
          f"(median of {numbers['repeat']} runs, ms)")
    print(f"{'backend':<8} {'store read':>11} {'decode+apply':>13} {'full replay':>12} {'snapshot':>9} {'ratio':>7}")
    for backend in ("duckdb", "sqlite"):
        if f"{backend}.ratio" in numbers:
            print(f"{backend:<8} {numbers[f'{backend}.store_read_ms']:>11.1f} {numbers[f'{backend}.decode_apply_ms']:>13.1f} "
                  f"{numbers[f'{backend}.full_replay_ms']:>12.1f} "
                  f"{numbers[f'{backend}.snapshot_ms']:>9.2f} {numbers[f'{backend}.ratio']:>6.0f}x")
