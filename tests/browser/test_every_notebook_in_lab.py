"""Every notebook, run as a learner runs it: opened in JupyterLab, Run All, saved, checked.

nbval proves each notebook's outputs come out of a kernel. This proves what a
learner sees in JupyterLab: pressing *Run All* (after clearing the committed
outputs) runs every cell to the end (JupyterLab carries on past cells tagged
``raises-exception`` and stops at any other error), no widget shows "Error
displaying widget" or falls back to its text form (``VBox(...)``), and the
notebook, saved from the browser, holds errors only in the cells meant to fail.
A screenshot of each notebook goes to ``artifacts/``.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import nbformat
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
ARTIFACTS = ROOT / "artifacts"
COURSE = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WIDGET_AS_TEXT = re.compile(r"^\s*(VBox|HBox|IntSlider|Dropdown|Button|HTML|Output|Image)\(")

pytestmark = [pytest.mark.browser, pytest.mark.slow]

skip_unless_chromium()

from playwright.sync_api import expect  # noqa: E402


@pytest.mark.parametrize("name", COURSE)
def test_run_all_in_jupyterlab(lab, browser, name):
    page = browser.new_page()
    page.set_default_timeout(60_000)
    saved = lab.root / name
    try:
        page.goto(lab.page_url(name) + "&reset")  # a fresh workspace: no tab left over from the last notebook
        notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        expect(notebook).to_be_visible(timeout=120_000)
        wait_for_kernel(page)
        click_menu(page, "Edit", "editmenu:clear-all")
        click_menu(page, "Run", "runmenu:run-all")
        wait_until_every_cell_ran(page, code_cells(saved))

        assert notebook.get_by_text("Error displaying widget").count() == 0
        as_text = [t for t in notebook.locator(".jp-OutputArea-output").all_inner_texts() if WIDGET_AS_TEXT.match(t)]
        assert not as_text, f"{name}: widgets shown as text, not rendered: {[t[:60] for t in as_text]}"

        before = saved.stat().st_mtime_ns
        click_menu(page, "File", "docmanager:save")
        _wait_for(lambda: saved.stat().st_mtime_ns != before and _readable(saved),
                  f"{name} was not saved from the browser")   # the file changes when the write starts, not ends
        ran = nbformat.read(saved, as_version=4)
        cells = [c for c in ran.cells if c.cell_type == "code" and c.source.strip()]
        assert all(c.execution_count is not None for c in cells), f"{name}: Run All stopped before the end"
        unexpected = [
            f"cell {n}: {o.ename}: {o.evalue[:120]}"
            for n, c in enumerate(cells, start=1) for o in c.outputs
            if o.output_type == "error" and "raises-exception" not in c.metadata.get("tags", [])
        ]
        assert not unexpected, f"{name}: errors in cells not meant to fail: {unexpected}"
        meant = [c for c in cells if "raises-exception" in c.metadata.get("tags", [])]
        assert all(any(o.output_type == "error" for o in c.outputs) for c in meant), \
            f"{name}: a cell tagged raises-exception did not raise in JupyterLab"
    except BaseException:
        print(f"JupyterLab's log (end):\n{lab.log()}")
        raise
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        try:
            page.screenshot(path=str(ARTIFACTS / f"lab_{Path(name).stem}.png"), full_page=True)
        except Exception as exc:  # a crashed page must not hide the failure that crashed it
            print(f"no screenshot: {exc}")
        page.close()
        for session in lab.api("GET", "/api/sessions"):  # one kernel at a time: shut this notebook's down
            lab.api("DELETE", f"/api/sessions/{session['id']}")


def _readable(path: Path) -> bool:
    """Has the server finished writing ``path``? (Mid-save it may be empty or cut short.)"""
    try:
        nbformat.read(path, as_version=4)
        return True
    except Exception:
        return False


def _wait_for(condition, message: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.2)
