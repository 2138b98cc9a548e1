"""Checks for the notebooks' exercises: each one says what is right, or what is wrong and why.

A check returns :class:`Feedback`, which prints as one line::

    ✅ Correct: ...            or          ❌ Not yet: <what is wrong and a hint>

Checks never raise for a wrong answer (a learner running "Run all" on the
exercise notebook should see every piece of feedback), and they test the
learner's code on fresh data of their own, so a hard-coded answer fails.
"""

from __future__ import annotations

from .aggregates import check_coupon_order, check_execute  # 05 · Aggregates
from .capstone import (  # 15 · Capstone: an order system
    check_payments_by_weekday,
    check_revenue_per_customer,
    check_status_at,
)
from .consistency import (  # 09 and 94 · Eventual consistency
    check_catch_up_time,
    check_high_water_mark,
    check_still_pending,
    check_wait_by_polling,
)
from .cqrs import OUTBOX_SCHEMA, PRICE_EVENTS, check_change_price, check_price_list, outbox_exercise_db  # 01 · CQRS
from .erasure import check_newsletter_view  # Production · Erasure (crypto-shredding)
from .event_modelling import (
    KINDS,
    PROPOSED_EVENTS,
    check_event_names,
    check_warehouse_message,
    sample_paid_order,
)  # Event modelling
from .event_sourcing import check_balance_as_of, check_balance_fold, check_find_culprit  # 02 · Event sourcing
from .event_store import ORDER_FLOW, check_append_with_retry, check_order_stream  # 03 · The event store
from .failure_policies import check_policy_choice  # 07 · Testing and failure handling
from .feedback import Feedback
from .interview_prep import READ_PLANS, check_idempotent_handler, check_read_plan  # 17 · Interview prep
from .production import check_lock_key, check_safe_to_deliver  # Production · PostgreSQL
from .projections import check_project_revenue, check_status_board, create_revenue_tables  # 06 · Projections
from .rebuilding import (
    OPEN_CART_COLUMNS,
    SkuDemand,
    check_open_carts,
    check_sku_demand_sql,
)  # 08 · Rebuilding projections
from .sagas import check_compensation, check_idempotent_reaction  # Sagas and process managers
from .schema_evolution import MINOR_UNITS, check_rename_upcaster, check_revenue_by_currency  # 10 · Schema evolution
from .snapshots import check_account_v2, check_events_to_replay  # 09 · Snapshots
from .testing import ORDER_MUTANTS, SUMMARY_MUTANTS, check_order_specs, check_summary_specs  # 07 · Testing

__all__ = [
    "Feedback",
    "KINDS",
    "MINOR_UNITS",
    "OPEN_CART_COLUMNS",
    "ORDER_FLOW",
    "ORDER_MUTANTS",
    "OUTBOX_SCHEMA",
    "PRICE_EVENTS",
    "PROPOSED_EVENTS",
    "READ_PLANS",
    "SUMMARY_MUTANTS",
    "SkuDemand",
    "check_account_v2",
    "check_append_with_retry",
    "check_balance_as_of",
    "check_balance_fold",
    "check_catch_up_time",
    "check_change_price",
    "check_compensation",
    "check_coupon_order",
    "check_event_names",
    "check_events_to_replay",
    "check_execute",
    "check_find_culprit",
    "check_high_water_mark",
    "check_idempotent_handler",
    "check_idempotent_reaction",
    "check_lock_key",
    "check_newsletter_view",
    "check_open_carts",
    "check_order_specs",
    "check_order_stream",
    "check_payments_by_weekday",
    "check_policy_choice",
    "check_price_list",
    "check_project_revenue",
    "check_read_plan",
    "check_rename_upcaster",
    "check_revenue_by_currency",
    "check_revenue_per_customer",
    "check_safe_to_deliver",
    "check_sku_demand_sql",
    "check_status_at",
    "check_status_board",
    "check_still_pending",
    "check_summary_specs",
    "check_wait_by_polling",
    "check_warehouse_message",
    "create_revenue_tables",
    "outbox_exercise_db",
    "sample_paid_order",
]
