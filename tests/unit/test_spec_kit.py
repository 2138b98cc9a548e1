"""The write-side testing kit: given / when / then, readable failures, clear errors for bad specs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from esdemo import DomainError, EventRegistry, SpecError, SpecFailed, given
from esdemo.examples.bank import Account, AccountOpened, InsufficientFundsError, MoneyDeposited, MoneyWithdrawn
from esdemo.examples.orders import ItemAdded, Order, OrderCreated, OrderPaid, OrderSubmitted, order_paid_v1
from esdemo.write.testing import event_diff

AT = datetime(2024, 3, 1, 12, tzinfo=timezone.utc)
SUBMITTED_ORDER = [OrderCreated("12345", "c-42"), ItemAdded("12345", "BOOK-1", Decimal("25.00"), 2, Decimal("50.00")),
                   OrderSubmitted("12345", AT)]


def test_a_passing_spec_returns_the_events():
    events = given(SUBMITTED_ORDER, aggregate=Order).when(lambda order: order.pay()).then(
        OrderPaid("12345", Decimal("50.00"), "USD"))
    assert events == [OrderPaid("12345", Decimal("50.00"), "USD")]


def test_a_factory_command_on_no_history():
    given(aggregate=Order).when(lambda _: Order.create("7", customer="c-1")).then(OrderCreated("7", "c-1"))


def test_the_id_comes_from_the_first_events_first_field_or_is_given():
    given(AccountOpened("9", "Ada", Decimal("0")), aggregate=Account) \
        .when(lambda account: account.deposit(Decimal("1"))).then(MoneyDeposited("9", Decimal("1")))
    given(aggregate=Account, id="x").when(lambda a: a.deposit(Decimal("1"))).then_raises(DomainError, match="x is not open")


def test_a_wrong_field_is_shown_as_a_table_with_the_first_difference_marked():
    with pytest.raises(SpecFailed) as failure:
        given(SUBMITTED_ORDER, aggregate=Order).when(lambda order: order.pay()).then(
            OrderPaid("12345", Decimal("25.00"), "USD"))
    text = str(failure.value)
    assert isinstance(failure.value, AssertionError)
    assert text.splitlines()[:4] == [
        "Spec failed for Order-12345",
        "  given: OrderCreated, ItemAdded, OrderSubmitted",
        "  when:  pay()",
        "  then:  expected 1 event, recorded as many, but they differ; first difference: event 1, field 'amount'",
    ]
    marked = [line for line in text.splitlines() if line.startswith("  >>")]
    assert marked == ["  >>        amount    Decimal('25.00')  Decimal('50.00')"]


def test_missing_and_extra_events_are_shown_as_nothing():
    text = event_diff([MoneyDeposited("1", Decimal("1"))], [])
    assert text.startswith("expected 1 event, the command recorded 0; first difference: event 1")
    assert "(nothing)" in text
    text = event_diff([], [MoneyDeposited("1", Decimal("1"))])
    assert "expected 0 events, the command recorded 1" in text
    text = event_diff([MoneyDeposited("1", Decimal("1"))], [MoneyWithdrawn("1", Decimal("1"))])
    assert "first difference: event 1\n" in text + "\n" and "MoneyDeposited  MoneyWithdrawn" in text


def test_equal_values_with_other_reprs_are_not_marked():
    # Decimal("50") == Decimal("50.00"): the events are equal, and the spec passes
    given(SUBMITTED_ORDER, aggregate=Order).when(lambda order: order.pay()).then(OrderPaid("12345", Decimal("50"), "USD"))


def test_a_command_that_raises_unexpectedly_fails_the_spec_with_its_message():
    with pytest.raises(SpecFailed) as failure:
        given(AccountOpened("1", "Ada", Decimal("0")), aggregate=Account) \
            .when(lambda account: account.withdraw(Decimal("5"))).then(MoneyWithdrawn("1", Decimal("5")))
    text = str(failure.value)
    assert "the command raised InsufficientFundsError: Cannot withdraw $5 from account 1" in text
    assert "write .then_raises(InsufficientFundsError, match=...)" in text
    assert isinstance(failure.value.__cause__, InsufficientFundsError)


def test_then_raises_passes_on_the_right_error_and_message():
    error = given(AccountOpened("1", "Ada", Decimal("0")), aggregate=Account) \
        .when(lambda account: account.withdraw(Decimal("5"))).then_raises(DomainError, match="overdraft")
    assert isinstance(error, InsufficientFundsError)


def test_then_raises_fails_when_the_command_is_accepted_or_raises_something_else():
    history = given(AccountOpened("1", "Ada", Decimal("0")), MoneyDeposited("1", Decimal("9")), aggregate=Account)
    with pytest.raises(SpecFailed, match="expected InsufficientFundsError, but the command was accepted and recorded "
                                         "1 event"):
        history.when(lambda account: account.withdraw(Decimal("5"))).then_raises(InsufficientFundsError)
    with pytest.raises(SpecFailed, match="expected InsufficientFundsError, but the command raised TypeError: "
                                         "a withdrawal must be a Decimal"):
        history.when(lambda account: account.withdraw(5.0)).then_raises(InsufficientFundsError)
    with pytest.raises(SpecFailed, match="does not match 'overdraft'"):
        history.when(lambda account: account.withdraw(Decimal("-1"))).then_raises(DomainError, match="overdraft")


def test_then_without_when_is_a_spec_error():
    with pytest.raises(SpecError, match=r"then\(\) needs a command first"):
        given(SUBMITTED_ORDER, aggregate=Order).then(OrderPaid("12345", Decimal("50"), "USD"))
    with pytest.raises(SpecError, match="needs a command first"):
        given(SUBMITTED_ORDER, aggregate=Order).then_raises(DomainError)


def test_an_event_type_the_registry_does_not_know_is_a_spec_error():
    @dataclass(frozen=True)
    class OrderShipped:
        order_id: str

    with pytest.raises(SpecError, match="given event 2 is OrderShipped, which is not an event type the registry knows"):
        given(OrderCreated("1", "c"), OrderShipped("1"), aggregate=Order).when(lambda o: o.submit(at=AT)).then()
    with pytest.raises(SpecError, match="expected event 1 is OrderShipped"):
        given(SUBMITTED_ORDER, aggregate=Order).when(lambda o: o.pay()).then(OrderShipped("12345"))
    with pytest.raises(SpecError, match="the class OrderPaid, not an event"):
        given(SUBMITTED_ORDER, aggregate=Order).when(lambda o: o.pay()).then(OrderPaid)
    with pytest.raises(SpecError, match=r"OrderCreated, which is not an event type the registry knows \(it knows \[\]\)"):
        given(OrderCreated("1", "c"), registry=EventRegistry(), aggregate=Order).when(lambda o: o.submit()).then()


def test_other_bad_specs():
    with pytest.raises(SpecError, match="say what the spec tests"):
        given(OrderCreated("1", "c")).when(lambda o: o.submit()).then()
    with pytest.raises(SpecError, match="one command"):
        given(aggregate=Order).when(lambda o: o).when(lambda o: o)
    with pytest.raises(SpecError, match="no handler for the command object"):
        given(aggregate=Order).when("submit").then()
    with pytest.raises(SpecError, match="do not apply to a blank Account"):
        given(OrderCreated("1", "c"), aggregate=Account).when(lambda a: a).then()
    with pytest.raises(SpecError, match="exception class"):
        given(aggregate=Order).when(lambda o: o.pay()).then_raises("DomainError")


def test_given_events_go_through_the_registry_so_old_versions_are_upcast():
    history = SUBMITTED_ORDER + [order_paid_v1("12345", Decimal("50.00"))]
    given(history, aggregate=Order).when(lambda order: order.pay()).then_raises(DomainError, match=r"already paid \(50.00 USD\)")


def test_a_spec_with_no_expected_events_checks_that_nothing_was_recorded():
    given(aggregate=Account, id="1").when(lambda account: None).then()
    with pytest.raises(SpecFailed, match="expected 0 events, the command recorded 1"):
        given(AccountOpened("1", "Ada", Decimal("0")), aggregate=Account).when(
            lambda account: account.deposit(Decimal("1"))).then()


def test_the_command_is_described_by_its_own_lambda_even_inside_another():
    from esdemo.write.testing import describe_command

    def outer(spec):
        return spec()
    captured = []
    outer(lambda: captured.append(describe_command(lambda order: order.submit(at=AT))))
    assert captured == ["submit(at=AT)"]
    assert describe_command(lambda account, extra=1: account.deposit(Decimal("1"))) == 'deposit(Decimal("1"))'
    assert describe_command(MoneyDeposited("1", Decimal("1"))) == "MoneyDeposited(account_id='1', amount=Decimal('1'))"

    def pay_it(order):
        order.pay()
    assert describe_command(pay_it) == "pay_it(...)"


def test_raw_given_events_of_unknown_types_and_history_a_decider_cannot_fold():
    from esdemo import NewEvent
    from esdemo.examples.bank_decider import Deposit, account_decider
    with pytest.raises(SpecError, match="given event 1 has the type 'Nope', which the registry does not know"):
        given(NewEvent("Nope", {}), aggregate=Order).when(lambda o: o.pay()).then()
    with pytest.raises(SpecError, match="do not evolve Account's state: TypeError: evolve has no case for OrderCreated"):
        given(OrderCreated("1", "c"), decider=account_decider).when(Deposit("1", Decimal("1"))).then()
    with pytest.raises(SpecError, match="decider must be a Decider"):
        given(decider=object()).when(Deposit("1", Decimal("1"))).then()
