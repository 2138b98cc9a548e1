"""The replay widget and the time-travel debugger of notebook 02, used as a learner uses them: in JupyterLab.

A kernel-only test (``tests/integration/test_widgets_*.py``) proves the Python side:
set ``slider.value`` and the HTML's ``value`` changes. It cannot see whether the
widget *renders* in JupyterLab (the front-end extension is installed and matches
ipywidgets, the model reaches the page, the browser's events reach the kernel).
This test can. It starts JupyterLab on loopback over a temporary copy of the
notebooks, opens ``02_event_sourcing.ipynb`` in headless Chromium, runs every
cell from the Run menu, then moves the replay slider with the keyboard, step by
step from the first event to the last, and checks at every step that the text
shows that step and that the balance it shows is the previous step's balance
changed by the event it shows (opened: the opening balance; deposited: plus the
amount; withdrawn: minus it). No widget may show "Error displaying widget".
The second test moves the time-travel debugger's slider with the keyboard and presses
its step button, and checks that the position, its event and what it changed follow.
A screenshot is saved to ``artifacts/`` whatever the outcome.

Skipped, with the reason, where Debian's Chromium or the playwright package is
missing (``.ci/run`` installs Chromium, so CI always runs it).
"""

from __future__ import annotations

import re
import sys
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lab_harness import (  # noqa: E402
    click_menu,
    code_cells,
    skip_unless_chromium,
    wait_for_kernel,
    wait_until_every_cell_ran,
)

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "02_event_sourcing.ipynb"
ARTIFACTS = ROOT / "artifacts"
RUN_ALL_TIMEOUT_MS = 240_000     # the machine may be busy: generous, the test ends as soon as the cells are done
STEP_TIMEOUT_MS = 20_000

pytestmark = [pytest.mark.browser, pytest.mark.slow]

skip_unless_chromium()

from playwright.sync_api import expect  # noqa: E402


def test_replay_slider_of_notebook_02_changes_the_state_shown(lab, page):
    if not (lab.root / NOTEBOOK).is_file():
        pytest.fail(f"notebooks/{NOTEBOOK} is missing: the browser test drives its replay widget")
    page.set_default_timeout(60_000)
    try:
        page.goto(lab.page_url(NOTEBOOK))
        expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")).to_be_visible(timeout=120_000)
        wait_for_kernel(page)
        click_menu(page, "Edit", "editmenu:clear-all")            # the saved outputs must not count as a run
        expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .widget-slider")).to_have_count(0)
        click_menu(page, "Run", "runmenu:run-all")
        expected_cells = code_cells(lab.root / NOTEBOOK)
        wait_until_every_cell_ran(page, expected_cells, RUN_ALL_TIMEOUT_MS)

        replay = page.locator(".widget-vbox", has=page.locator(".widget-slider .widget-label", has_text="step"))
        expect(replay).to_have_count(1)
        handle = replay.locator(".noUi-handle")
        text = replay.locator(".widget-html-content")
        chart = replay.locator(".widget-output img")
        replay.scroll_into_view_if_needed()
        last = int(float(handle.get_attribute("aria-valuemax")))
        start = int(float(handle.get_attribute("aria-valuenow")))
        assert last >= 3 and 1 <= start <= last, (start, last)
        _wait_for_step(text, start, last)         # the text agrees with the slider's starting position
        picture = _picture(chart)

        handle.focus()
        handle.press("Home")                      # to the first event: the account is opened
        first = _wait_for_step(text, 1, last)
        assert first.event == "AccountOpened"
        assert first.balance == first.amount, f"after opening, the balance is the opening balance: {first}"
        first_picture = picture = _redrawn(chart, picture) if start != 1 else picture

        previous = first
        for step in range(2, last + 1):           # one event at a time, as a learner steps through
            handle.press("ArrowRight")
            shown = _wait_for_step(text, step, last)
            expect(replay.locator(".widget-readout")).to_have_text(str(step))
            assert shown.event in ("MoneyDeposited", "MoneyWithdrawn"), shown
            expected = previous.balance + (shown.amount if shown.event == "MoneyDeposited" else -shown.amount)
            assert shown.balance == expected, (
                f"step {step} shows {shown.event}({shown.amount}) after a balance of {previous.balance}, "
                f"so the balance must be {expected}; the widget shows {shown.balance}")
            picture = _redrawn(chart, picture)    # the chart follows the slider too
            previous = shown

        handle.press("Home")                      # and back: replaying is deterministic
        assert _wait_for_step(text, 1, last) == first
        expect(chart).to_have_attribute("src", first_picture, timeout=STEP_TIMEOUT_MS)

        assert page.get_by_text("Error displaying widget").count() == 0
        assert page.get_by_text("Error rendering").count() == 0
    except BaseException:
        print(f"JupyterLab's log (end):\n{lab.log()}")   # shown by pytest with the failure
        raise
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        try:
            page.screenshot(path=str(ARTIFACTS / "02_event_sourcing_replay.png"))
        except Exception as exc:   # a crashed page must not hide the failure that crashed it
            print(f"no screenshot: {exc}")


def test_time_travel_slider_of_notebook_02_moves_the_whole_log(lab, page):
    """The debugger's slider and buttons in JupyterLab: the position, its event and what it changed follow."""
    page.set_default_timeout(60_000)
    try:
        page.goto(lab.page_url(NOTEBOOK))
        expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")).to_be_visible(timeout=120_000)
        wait_for_kernel(page)
        click_menu(page, "Edit", "editmenu:clear-all")
        click_menu(page, "Run", "runmenu:run-all")
        wait_until_every_cell_ran(page, code_cells(lab.root / NOTEBOOK), RUN_ALL_TIMEOUT_MS)

        debugger = page.locator(".widget-vbox", has=page.locator(".widget-slider .widget-label", has_text="position"))
        expect(debugger).to_have_count(1)
        debugger.scroll_into_view_if_needed()
        handle = debugger.locator(".noUi-handle")
        shown = debugger.locator(".esdemo-time-travel-result .widget-html-content")
        last = int(float(handle.get_attribute("aria-valuemax")))
        expect(shown.first).to_contain_text(f"position 6 of {last}", timeout=STEP_TIMEOUT_MS)
        expect(shown.first).to_contain_text("MoneyWithdrawn", timeout=STEP_TIMEOUT_MS)
        expect(shown.first).to_contain_text("914.80", timeout=STEP_TIMEOUT_MS)

        handle.focus()
        handle.press("ArrowRight")                               # one position on: the next event, its change
        expect(shown.first).to_contain_text(f"position 7 of {last}", timeout=STEP_TIMEOUT_MS)
        expect(shown.first).to_contain_text("MoneyDeposited", timeout=STEP_TIMEOUT_MS)
        handle.press("Home")
        expect(shown.first).to_contain_text("before the first event", timeout=STEP_TIMEOUT_MS)
        debugger.get_by_role("button", name="step ▶").click()   # the step button moves the slider too
        expect(shown.first).to_contain_text(f"position 1 of {last}", timeout=STEP_TIMEOUT_MS)
        expect(shown.first).to_contain_text("AccountOpened", timeout=STEP_TIMEOUT_MS)
        expect(debugger.locator(".widget-readout")).to_have_text("1")
        assert page.get_by_text("Error displaying widget").count() == 0
    except BaseException:
        print(f"JupyterLab's log (end):\n{lab.log()}")
        raise
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        try:
            page.screenshot(path=str(ARTIFACTS / "02_event_sourcing_time_travel.png"))
        except Exception as exc:
            print(f"no screenshot: {exc}")


# -- helpers -------------------------------------------------------------------------------------------


class Shown:
    """What the replay text says: the step, the event applied at it (type, amount) and the balance after."""

    _STEP = re.compile(r"step (\d+) of (\d+)")
    _EVENT = re.compile(r"(\w+)\(([^)]*)\)")
    _AMOUNT = re.compile(r"(?:opening_balance|amount)=(-?[\d,]*\.?\d+)")
    _BALANCE = re.compile(r"balance (-?[\d,]*\.?\d+)")

    def __init__(self, text: str):
        self.text = text
        step, event, balance = self._STEP.search(text), self._EVENT.search(text), self._BALANCE.search(text)
        assert step and event and balance, f"the replay text does not say step, event and balance: {text!r}"
        self.step, self.of = int(step.group(1)), int(step.group(2))
        self.event = event.group(1)
        amount = self._AMOUNT.search(event.group(2))
        self.amount = Decimal(amount.group(1).replace(",", "")) if amount else Decimal("0")
        self.balance = Decimal(balance.group(1).replace(",", ""))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shown) and self.text == other.text

    def __repr__(self) -> str:
        return f"Shown({self.text!r})"


def _wait_for_step(text, step: int, last: int) -> Shown:
    expect(text).to_contain_text(f"step {step} of {last}", timeout=STEP_TIMEOUT_MS)
    shown = Shown(text.text_content())
    assert (shown.step, shown.of) == (step, last)
    return shown




def _picture(chart) -> str:
    expect(chart).to_have_count(1, timeout=STEP_TIMEOUT_MS)
    return chart.get_attribute("src")


def _redrawn(chart, before: str) -> str:
    """Wait until the chart in the widget's output is a different picture than ``before``; return it."""
    expect(chart).not_to_have_attribute("src", before, timeout=STEP_TIMEOUT_MS)
    return _picture(chart)
