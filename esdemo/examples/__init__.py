"""The example domains every notebook uses, built only on the core.

* :mod:`esdemo.examples.bank`: an event-sourced ``Account`` (the seed's account 123).
* :mod:`esdemo.examples.orders`: an event-sourced ``Order`` (the seed's Order-12345),
  with a V1 payment event that needs an upcaster.
* :mod:`esdemo.examples.catalog`: the seed's CQRS product catalog, *without*
  event sourcing: a products table plus an outbox that publishes its events.
* :mod:`esdemo.examples.catalog_crud`: the same catalog *before* CQRS (one service,
  one normalized database, every page assembled on every read; notebook 01's start).
* :mod:`esdemo.examples.customers`: a ``Customer`` whose name and e-mail are personal data,
  encrypted per customer (crypto-shredding), and ``CustomerDirectory``, a view that forgets.

Importing a module registers its events in ``esdemo.write.domain.default_registry``.
"""
