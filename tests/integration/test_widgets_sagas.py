"""The sagas notebook's widgets: the conversation stepper and the fault injector, driven by their controls."""

from __future__ import annotations

import pytest

from esdemo import swimlane
from esdemo.examples.checkout import run_scenario
from esdemo.widgets import FAULTS, build_fault_injector, build_saga_stepper, inject_fault, run_commands, saga_step


@pytest.fixture(params=["duckdb", "sqlite"])
def backend(request) -> str:
    """The saga widget's runs open in-memory stores of their own, which PostgreSQL does not have (it needs a URL): these
    run on the two embedded backends; the store contract itself runs on all three (tests/conftest.py)."""
    return request.param


@pytest.fixture(scope="module")
def declined():
    run = run_scenario("declined", backend="sqlite")
    yield run
    run.store.close()


def test_saga_step_names_the_command_and_its_sender(declined):
    lanes, commands = swimlane(declined.conversation), run_commands(declined)
    first = saga_step(lanes, commands, 1)
    assert first.caption == "Step 1 of 6: PlaceOrder, sent from outside (a user), produced OrderPlaced in Order-A1."
    released = saga_step(lanes, commands, 5)
    assert released.command == "ReleaseStock" and released.sender == "in answer to PaymentDeclined"
    assert released.done == {"OrderPlaced": 1, "StockReserved": 1, "PaymentRequested": 1, "PaymentDeclined": 1,
                             "StockReleased": 1}
    paid = saga_step(lanes, commands, 4)  # the customer's answer to PaymentRequested
    assert (paid.command, paid.sender) == ("PayOrder", "in answer to PaymentRequested")
    assert saga_step(lanes, commands, 0).done == {}
    with pytest.raises(ValueError, match="between 0 and 6"):
        saga_step(lanes, commands, 7)


def test_the_stepper_moves_message_by_message(declined):
    panel = build_saga_stepper(declined)
    assert "Nothing has happened yet" in panel.result.value and len(panel.output.outputs) == 1
    for _ in range(4):
        panel.controls["next"].click()
    assert panel.controls["step"].value == 4 and "PaymentDeclined in Payment-A1" in panel.result.value
    for _ in range(5):
        panel.controls["next"].click()
    assert panel.controls["step"].value == 6 and "OrderCancelled in Order-A1" in panel.result.value
    assert "StockReleased ×1" in panel.result.value
    assert len(panel.output.outputs) == 1  # one chart, redrawn
    panel.controls["reset"].click()
    assert "Nothing has happened yet" in panel.result.value


@pytest.mark.parametrize("fault", ["crash after sending ReserveStock", "crash before committing the checkpoint",
                                   "deliver every command twice"])
def test_injected_faults_change_nothing(backend, fault):
    outcome = inject_fault("declined", fault, backend=backend)
    assert outcome.same and "nothing lost, nothing doubled" in outcome.describe()
    assert outcome.ledger["StockReleased"] == 1 and outcome.ledger["StockReserved"] == 1
    assert outcome.crashes or outcome.duplicates


def test_a_fault_that_is_never_reached_says_so():
    outcome = inject_fault("paid", "crash after sending ReleaseStock (compensating)", backend="sqlite")
    assert outcome.crashes == () and "never reached" in outcome.describe()
    with pytest.raises(ValueError, match="fault must be one of"):
        inject_fault("paid", "crash somewhere")


def test_the_fault_injector_runs_from_its_controls():
    panel = build_fault_injector(backend="sqlite")
    panel.controls["scenario"].value = "timeout"
    panel.controls["fault"].value = "crash while firing the 15-minute deadline"
    panel.controls["run"].click()
    assert panel.outcome.crashes == ("deadline:payment-timeout",) and panel.outcome.same
    assert "nothing lost, nothing doubled" in panel.result.value
    assert "<td>StockReleased</td><td>1</td><td>1</td>" in panel.result.value
    assert set(FAULTS) == set(panel.controls["fault"].options)
