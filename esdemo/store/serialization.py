"""Turning event data into JSON and back, without losing anything.

JSON has no decimal, date, datetime or UUID, and money stored as a float is a
bug waiting to happen. So those four types are written as one-key objects,
in the style of MongoDB's Extended JSON, and turned back into Python objects
on read::

    {"amount": Decimal("200.00")}  <->  {"amount": {"$decimal": "200.00"}}

Rules, each enforced before anything is written:

* ``Decimal`` round-trips exactly (``Decimal("200.00")`` stays ``200.00``).
* ``datetime`` must be timezone-aware; it comes back as the same instant.
* ``date`` and ``UUID`` round-trip; tuples come back as lists.
* Keys are strings and may not start with ``$`` (reserved for the tags).
* Anything else (a set, bytes, a float NaN, your own class) is refused with a
  :class:`SerializationError` that names the field and the type.
* Nesting deeper than ``MAX_DEPTH`` (100) levels of lists and dicts is refused
  too (a cycle included): a document that deep is a bug, and Python's own
  recursion limit would otherwise fail somewhere less clear.

In SQL the tagged values are reachable with a JSON pointer, for example
``CAST(data->>'/amount/$decimal' AS DECIMAL(18, 2))``.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .errors import SerializationError

_DECODERS = {
    "$decimal": Decimal,
    "$datetime": datetime.fromisoformat,
    "$date": date.fromisoformat,
    "$uuid": uuid.UUID,
}


def dumps(value: dict[str, Any], what: str = "data") -> str:
    """Serialize a dict to compact, canonical JSON (sorted keys).

    ``what`` names the value in error messages, e.g. ``"data"`` or
    ``"metadata"``.
    """
    if not isinstance(value, dict):
        raise SerializationError(f"{what} must be a dict, got {type(value).__name__}")
    if not value:
        return "{}"  # most metadata: skip the encoder
    return json.dumps(_encode(value, what), separators=(",", ":"), sort_keys=True, allow_nan=False)


def loads(text: str) -> dict[str, Any]:
    """Parse JSON written by :func:`dumps`, restoring the tagged types."""
    if text == "{}":
        return {}
    # Only text with a tag needs the (slower) per-object hook.
    return (_TAGGED if '"$' in text else _PLAIN).decode(text)


def loads_many(texts: list[str]) -> list[dict[str, Any]]:
    """Parse many documents written by :func:`dumps` in one go (one parser call, not one per event)."""
    if not texts:
        return []
    joined = ",".join(texts)
    if joined.count("{}") == len(texts) and len(joined) == 3 * len(texts) - 1:
        return [{} for _ in texts]  # every document is empty, e.g. metadata nobody set
    return (_TAGGED if '"$' in joined else _PLAIN).decode("[" + joined + "]")


def _decode_object(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((key, raw),) = obj.items()
        decoder = _DECODERS.get(key)
        if decoder is not None:
            return decoder(raw)
    return obj


MAX_DEPTH = 100

_TAGGED = json.JSONDecoder(object_hook=_decode_object)
_PLAIN = json.JSONDecoder()


def _encode(value: Any, path: str, depth: int = 0) -> Any:
    # Order matters: bool is an int, and datetime is a date.
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SerializationError(f"{path} is {value!r}; JSON has no NaN or infinity. Store None or a Decimal instead.")
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise SerializationError(
                f"{path} is a naive datetime ({value.isoformat()}); an event must say which instant it means. "
                "Use an aware datetime, e.g. datetime(2024, 1, 15, tzinfo=timezone.utc)."
            )
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, (dict, list, tuple)) and depth >= MAX_DEPTH:
        raise SerializationError(
            f"{path[:40]}... is nested more than {MAX_DEPTH} levels deep (or contains itself). "
            "Events hold flat facts: store a flatter document, or the deep part as a string.")
    if isinstance(value, dict):
        encoded = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise SerializationError(f"{path} has a key {key!r} of type {type(key).__name__}; keys must be strings.")
            if key.startswith("$"):
                raise SerializationError(f"{path} has the key {key!r}; keys starting with '$' are reserved for typed values.")
            encoded[key] = _encode(item, f"{path}.{key}", depth + 1)
        return encoded
    if isinstance(value, (list, tuple)):
        return [_encode(item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value)]
    raise SerializationError(
        f"{path} is of type {type(value).__name__}, which cannot be stored in an event. "
        "Use str, int, float, bool, None, Decimal, date, aware datetime, UUID, or lists and dicts of them."
    )
