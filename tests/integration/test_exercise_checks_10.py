"""The checks of notebook 10's exercises accept right answers and explain the typical wrong ones."""

from __future__ import annotations

from decimal import Decimal

import pytest

from esdemo.exercises import MINOR_UNITS, check_rename_upcaster, check_revenue_by_currency

# -- exercise 1: the rename upcaster ------------------------------------------------------------------


def rename_right(data):
    return {**{k: v for k, v in data.items() if k != "price"}, "unit_price": data["price"]}


def rename_in_place_without_return(data):
    data["unit_price"] = data.pop("price")


def rename_keeping_price(data):
    return {**data, "unit_price": data["price"]}


def rename_to_float(data):
    data["unit_price"] = float(data.pop("price"))
    return data


def rename_building_only_the_new_field(data):
    return {"order_id": data["order_id"], "unit_price": data["price"]}


def rename_adding_a_field(data):
    return {**{k: v for k, v in data.items() if k != "price"}, "unit_price": data["price"], "currency": "USD"}


def rename_wrong_name(data):
    data["unitPrice"] = data.pop("price")
    return data


def rename_reading_a_missing_field(data):
    return {**data, "unit_price": data["unit_price"]}


def rename_hard_coded(data):
    return {"order_id": "9001", "sku": "BAG-1", "unit_price": Decimal("39.00"), "quantity": 1,
            "new_total": Decimal("39.00")}


def test_rename_upcaster_accepts_a_correct_solution():
    feedback = check_rename_upcaster(rename_right)
    assert feedback and "unit_price" in feedback.message


def test_rename_upcaster_that_changes_its_input_in_place_is_refused_as_impure():
    def in_place(data):
        data["unit_price"] = data.pop("price")
        return data

    feedback = check_rename_upcaster(in_place)
    assert not feedback and "changed the dict it was given" in feedback.message


def test_revenue_that_fails_on_v4_with_another_error_than_value_error_is_refused():
    def key_error_on_v4(events):
        totals = revenue_right([e for e in events if e.schema_version <= 3])
        for event in events:
            if event.schema_version > 3:
                event.data["amount_minor"]          # KeyError by accident, not on purpose
        return totals

    feedback = check_revenue_by_currency(key_error_on_v4)
    assert not feedback and "not the ValueError" in feedback.message


@pytest.mark.parametrize("answer, hint", [
    (..., "define rename_price"),
    (rename_in_place_without_return, "Build the V2 dict and return it"),
    (rename_keeping_price, "no `price` any more"),
    (rename_to_float, "float"),
    (rename_building_only_the_new_field, "you dropped ['new_total', 'quantity', 'sku']"),
    (rename_adding_a_field, "you added ['currency']"),
    (rename_wrong_name, "no `unit_price`"),
    (rename_reading_a_missing_field, "raised KeyError('unit_price')"),
    (rename_hard_coded, "unit_price must be the V1 price unchanged"),
])
def test_rename_upcaster_explains_each_typical_mistake(answer, hint):
    feedback = check_rename_upcaster(answer)
    assert not feedback and hint in feedback.message


# -- exercise 2: a versioned handler ---------------------------------------------------------------------


def revenue_right(events):
    totals = {}
    for event in events:
        if event.type != "OrderPaid":
            continue
        match event.schema_version:
            case 1:
                amount, currency = event.data["amount"], "USD"
            case 2:
                amount, currency = event.data["amount"], event.data["currency"]
            case 3:
                currency = event.data["currency"]
                amount = Decimal(event.data["amount_minor"]).scaleb(-MINOR_UNITS[currency])
            case version:
                raise ValueError(f"OrderPaid V{version} is unknown")
        totals[currency] = totals.get(currency, Decimal("0")) + amount
    return totals


def without_the_unknown_version_error(cases):
    """Build a handler from per-version functions; unknown versions are silently skipped."""
    def revenue(events):
        totals = {}
        for event in events:
            if event.type != "OrderPaid" or event.schema_version not in cases:
                continue
            amount, currency = cases[event.schema_version](event.data)
            totals[currency] = totals.get(currency, Decimal("0")) + amount
        return totals
    return revenue


def v1(data):
    return data["amount"], "USD"


def v2(data):
    return data["amount"], data["currency"]


def v3(data):
    return Decimal(data["amount_minor"]).scaleb(-MINOR_UNITS[data["currency"]]), data["currency"]


def with_the_unknown_version_error(cases):
    skipping = without_the_unknown_version_error(cases)

    def revenue(events):
        for event in events:
            if event.type == "OrderPaid" and event.schema_version not in cases:
                raise ValueError(f"unknown version {event.schema_version}")
        return skipping(events)
    return revenue


def ignoring_versions(events):
    totals = {}
    for event in events:
        if event.type == "OrderPaid":
            totals[event.data["currency"]] = totals.get(event.data["currency"], Decimal("0")) + event.data["amount"]
    return totals


def counting_non_payments(events):
    totals = {}
    for event in events:
        amount = event.data.get("amount", event.data.get("price"))
        if amount is None:
            amount = Decimal(event.data["amount_minor"]).scaleb(-MINOR_UNITS[event.data["currency"]])
        currency = event.data.get("currency", "USD")
        totals[currency] = totals.get(currency, Decimal("0")) + amount
    return totals


def in_floats(events):
    return {currency: float(total) for currency, total in revenue_right(events).items()}


def test_revenue_accepts_a_correct_solution():
    feedback = check_revenue_by_currency(revenue_right)
    assert feedback and "V4" in feedback.message


def test_revenue_accepts_a_solution_that_checks_versions_up_front():
    assert check_revenue_by_currency(with_the_unknown_version_error({1: v1, 2: v2, 3: v3}))


@pytest.mark.parametrize("answer, hint", [
    (..., "define revenue_by_currency"),
    (ignoring_versions, "KeyError 'currency'"),
    (with_the_unknown_version_error({1: lambda d: (d["amount"], d.get("currency", "USD")), 2: v2, 3: v2}),
     "KeyError 'amount'"),
    (without_the_unknown_version_error({2: v2, 3: v3}), "missing the V1 payments"),
    (with_the_unknown_version_error({2: v2, 3: v3}), "one of those cases is missing"),
    (with_the_unknown_version_error({1: v1, 2: v2, 3: lambda d: (Decimal(d["amount_minor"]), d["currency"])}),
     "counted in minor units"),
    (with_the_unknown_version_error({1: v1, 2: v2, 3: lambda d: (Decimal(d["amount_minor"]) / 100, d["currency"])}),
     "JPY is off by a factor of 100"),
    (counting_non_payments, "the totals differ for ['USD']"),
    (in_floats, "floats"),
    (without_the_unknown_version_error({1: v1, 2: v2, 3: v3}), "given an OrderPaid V4 your function returned normally"),
    (lambda events: [], "return a dict"),
])
def test_revenue_explains_each_typical_mistake(answer, hint):
    feedback = check_revenue_by_currency(answer)
    assert not feedback and hint in feedback.message


def test_a_hard_coded_answer_fails():
    def hard_coded(events):
        return {"USD": Decimal("459.00")}

    assert not check_revenue_by_currency(hard_coded)
