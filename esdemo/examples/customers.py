"""Customers with personal data, and how to forget one: crypto-shredding in practice.

::

    keys = KeyStore()                                   # apart from the log (a file in production)
    registry = encrypting_registry(keys)                # encrypts the fields marked personal
    customers = Repository(store, Customer, registry=registry)
    customers.save(Customer.register("c-7", name="Ada Lovelace", email="ada@example.com", country="GB"))

    directory = CustomerDirectory(registry)            # a view: one row per customer
    ProjectionRunner(store, directory).catch_up()

    forget_subject(store, keys, "c-7")                  # the key is destroyed; SubjectForgotten is appended
    customers.load("c-7").email                         # <erased>
    ProjectionRunner(store, directory).catch_up()       # the view erases its copy too

``name`` and ``email`` are personal, stored encrypted with customer ``c-7``'s
key; ``country`` is not, and stays in clear for statistics. The subject is
the customer id, an opaque id kept in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..read.projection import Projection
from ..read.sql_views import SqlTable
from ..write.aggregate import Aggregate, DomainError
from ..write.domain import DomainEvent, EventRegistry, domain_event
from ..write.erasure import ERASED, SubjectForgotten, is_erased, personal_data


@personal_data("name", "email", subject="customer_id")
@domain_event("CustomerRegistered")
@dataclass(frozen=True, slots=True)
class CustomerRegistered(DomainEvent):
    """A customer signed up. ``name`` and ``email`` are personal; ``country`` is not."""

    customer_id: str
    name: str
    email: str
    country: str


@personal_data("email", subject="customer_id")
@domain_event("CustomerEmailChanged")
@dataclass(frozen=True, slots=True)
class CustomerEmailChanged(DomainEvent):
    """The customer gave a new e-mail address."""

    customer_id: str
    email: str


class Customer(Aggregate):
    """A customer; stream ``Customer-<id>``. Commands: :meth:`register`, :meth:`change_email`."""

    def __init__(self, id: str | int):
        super().__init__(id)
        self.name: str | None = None
        self.email: str | None = None
        self.country: str | None = None

    @classmethod
    def register(cls, customer_id: str, *, name: str, email: str, country: str) -> Customer:
        """A new customer (save it with a ``Repository`` whose registry encrypts)."""
        for what, value in (("name", name), ("email", email), ("country", country)):
            if not isinstance(value, str) or not value.strip():
                raise DomainError(f"a customer needs a {what}, got {value!r}")
        if "@" not in email:
            raise DomainError(f"{email!r} is not an e-mail address")
        customer = cls(customer_id)
        customer.record(CustomerRegistered(customer.id, name, email, country))
        return customer

    def change_email(self, email: str) -> None:
        """Record a new e-mail address."""
        if self.version == 0 and not self.pending_events:
            raise DomainError(f"customer {self.id} is not registered; use Customer.register(...) first")
        if not isinstance(email, str) or "@" not in email:
            raise DomainError(f"{email!r} is not an e-mail address")
        self.record(CustomerEmailChanged(self.id, email))

    @property
    def is_forgotten(self) -> bool:
        """True once the customer's personal data reads as erased."""
        return is_erased(self.email)

    def restore_state(self, state: dict[str, Any]) -> None:
        """A snapshot stores the erased marker as the text ``<erased>``: make it the marker again."""
        super().restore_state(state)
        for field in ("name", "email"):
            if getattr(self, field) == ERASED:
                setattr(self, field, ERASED)

    def apply(self, event: DomainEvent) -> None:
        match event:
            case CustomerRegistered(name=name, email=email, country=country):
                self.name, self.email, self.country = name, email, country
            case CustomerEmailChanged(email=email):
                self.email = email
            case _:
                super().apply(event)


class CustomerDirectory(Projection):
    """A view with one row per customer, personal columns included, and how it forgets.

    It reads with an encrypting registry (pass the one the writers use). On
    :class:`~esdemo.write.erasure.SubjectForgotten` it overwrites the
    customer's name and e-mail with ``<erased>``: decryption happened when the
    row was built, so without this handler the view would keep the plaintext
    after the key is gone. A rebuild after the forget gives the same rows.
    """

    name = "customer_directory"
    event_types = ("CustomerRegistered", "CustomerEmailChanged", "SubjectForgotten")

    def __init__(self, registry: EventRegistry, storage: Any = None):
        if not isinstance(registry, EventRegistry) or registry.cipher is None:
            raise TypeError("CustomerDirectory reads personal data: pass the encrypting registry, "
                            "e.g. CustomerDirectory(encrypting_registry(keys))")
        self.registry = registry
        super().__init__(storage)

    def default_storage(self) -> SqlTable:
        return SqlTable(key="customer_id", columns={
            "customer_id": "VARCHAR", "name": "VARCHAR", "email": "VARCHAR", "country": "VARCHAR"})

    def handle(self, event, recorded, view) -> None:
        match event:
            case CustomerRegistered(customer_id=customer_id, name=name, email=email, country=country):
                view.insert({"customer_id": customer_id, "name": str(name), "email": str(email), "country": country})
            case CustomerEmailChanged(customer_id=customer_id, email=email):
                view.update(customer_id, email=str(email))
            case SubjectForgotten(subject=subject):
                if view.get(subject) is not None:
                    view.update(subject, name=str(ERASED), email=str(ERASED))

    def key_of(self, event, recorded) -> str:
        return event.subject if isinstance(event, SubjectForgotten) else event.customer_id
