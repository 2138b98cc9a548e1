"""Production notebook · Erasure (crypto-shredding): a view that forgets."""

from __future__ import annotations

import random
from typing import Any

from ..examples.customers import Customer
from ..read.projection import Projection
from ..read.projection_runner import ProjectionRunner
from ..read.rebuild import rebuild
from ..store.ids import seeded_ids
from ..tables import live_rows
from ..write.erasure import (
    KeyStore,
    encrypting_registry,
    forget_subject,
    is_erased,
    seeded_random_bytes,
)
from ..write.repository import Repository
from .feedback import Feedback, _fresh_store, _no, _not_done, _ok

_NAMES = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Tony"]


def _readable(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """customer_id -> email as the view shows it (the erased marker as the text '<erased>')."""
    return {str(row.get("customer_id")): (None if row.get("email") is None else str(row.get("email"))) for row in rows}


def check_newsletter_view(newsletter: Any, seed: int = 14) -> Feedback:
    """Exercise: ``Newsletter(registry)``, a projection keeping ``customer_id`` -> ``email``, that forgets.

    The check registers customers (some change their e-mail), runs the
    learner's projection, forgets one customer, catches up, and rebuilds:
    after the forget no row may show the forgotten customer's e-mail (the row
    erased with ``ERASED`` or deleted), every other row must be right, and a
    rebuild must agree with the caught-up view.
    """
    if _not_done(newsletter) or not (isinstance(newsletter, type) and issubclass(newsletter, Projection)):
        return _no("define class Newsletter(Projection) first, with __init__(self, registry) and a handle method.")
    rng = random.Random(seed)
    names = rng.sample(_NAMES, 4)
    with _fresh_store() as store, KeyStore(random_bytes=seeded_random_bytes(seed)) as keys:
        registry = encrypting_registry(keys, random_bytes=seeded_random_bytes(seed + 1))
        customers = Repository(store, Customer, registry=registry, id_factory=seeded_ids(seed))
        expected: dict[str, str] = {}
        for n, name in enumerate(names):
            customer_id = f"c-{rng.randrange(100, 999)}{n}"
            email = f"{name.lower()}@example.com"
            customers.save(Customer.register(customer_id, name=name, email=email, country="GB"))
            expected[customer_id] = email
        for customer_id in rng.sample(sorted(expected), 2):
            customer = customers.load(customer_id)
            expected[customer_id] = f"{customer.name.lower()}@mail.example"
            customer.change_email(expected[customer_id])
            customers.save(customer)
        try:
            view = newsletter(registry)
        except Exception as exc:  # noqa: BLE001
            return _no(f"Newsletter(registry) raised {type(exc).__name__}: {exc}. Take the encrypting registry in "
                       "__init__, set self.registry = registry, then call super().__init__(storage).")
        if getattr(view, "registry", None) is not registry:
            return _no("the projection does not decode with the registry it was given, so it cannot decrypt: "
                       "set self.registry = registry in __init__.")
        runner = ProjectionRunner(store, view)
        try:
            runner.catch_up()
            before = _readable(live_rows(view))
        except Exception as exc:  # noqa: BLE001
            return _no(f"building the view failed: {exc}")
        if before != expected:
            return _no(f"before any forget the view shows {before}, but the customers' e-mails are {expected}. "
                       "Handle CustomerRegistered (insert the row) and CustomerEmailChanged (update the email).")
        gone = rng.choice(sorted(expected))
        forget_subject(store, keys, gone)
        try:
            runner.catch_up()
            after = live_rows(view)
        except Exception as exc:  # noqa: BLE001
            return _no(f"catching up after forget_subject failed: {exc}")
        shown = _readable(after)
        if shown.get(gone) == expected[gone]:
            return _no(f"after forget_subject(store, keys, {gone!r}) the view still shows {expected[gone]!r}: it "
                       "decrypted that e-mail before the key was destroyed and kept the plaintext. Add "
                       "'SubjectForgotten' to event_types and, on SubjectForgotten(subject=...), set that row's email "
                       "to ERASED (or delete the row).")
        row = next((r for r in after if str(r.get("customer_id")) == gone), None)
        if row is not None and not (is_erased(row.get("email")) or row.get("email") == "<erased>"):
            return _no(f"after the forget, {gone!r}'s row shows email={row.get('email')!r}; use the marker ERASED "
                       "(from esdemo import ERASED), so readers can tell an erased field from a missing one.")
        others = {k: v for k, v in shown.items() if k != gone}
        if others != {k: v for k, v in expected.items() if k != gone}:
            return _no(f"forgetting {gone!r} changed other customers' rows too: the view shows {others}. Erase only "
                       "the row whose customer_id is the event's subject.")
        try:
            rebuild(store, view)
            rebuilt = _readable(live_rows(view))
        except Exception as exc:  # noqa: BLE001
            return _no(f"rebuilding the view after the forget failed: {exc}")
        if rebuilt.get(gone) not in (None, "<erased>") or {k: v for k, v in rebuilt.items() if k != gone} != others:
            return _no(f"a rebuild after the forget gives {rebuilt}, the caught-up view {shown}: they must agree.")
    return _ok("the view erased its copy when SubjectForgotten arrived, kept every other customer, and a rebuild "
               "from the log (where the key is gone) agrees: nothing came back.")
