"""Reproducible event ids for notebooks and tests.

Real code lets ``NewEvent`` pick a random UUID. A notebook whose output must
be identical on every run passes ids from a seeded generator instead.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable


def seeded_ids(seed: int) -> Callable[[], uuid.UUID]:
    """Return a function that yields the same sequence of version-4 UUIDs for the same seed.

    >>> next_id = seeded_ids(42)
    >>> next_id() == seeded_ids(42)()
    True
    """
    rng = random.Random(seed)

    def next_id() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    return next_id
