#!/usr/bin/env python
"""Re-execute course notebooks in place, so their committed outputs are what the package does today.

    python scripts/run_notebooks.py                                  # every notebooks/NN_*.ipynb
    python scripts/run_notebooks.py notebooks/03_event_store.ipynb   # just these

What it does, in order:

1. refreshes the generated nav and contents cells (``notebook_tools.py``), so the
   file that gets executed is already final (``--no-generate`` skips this);
2. runs each notebook top to bottom in a fresh ``python3`` kernel of *this*
   environment (the interpreter ``nbval --nbval-current-env`` uses too), with the
   notebook's own folder as working directory (as nbval does), a timeout per
   cell, and the same kernel environment as ``notebooks/conftest.py`` gives nbval;
   cells tagged ``raises-exception`` may (and must) raise, any other error fails;
3. strips what changes on every run without meaning anything (execution
   timestamps, random widget model ids), so re-running an unchanged notebook
   gives a byte-identical file and ``git diff`` shows only real changes.

A notebook that fails is not written. The exit status is 1 if any failed, and
the message names the cell. Exercise notebooks are generated, not executed:
run ``make exercises`` (``notebook_tools.py generate``) after this.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipykernel.kernelspec
import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellControlSignal, CellExecutionError, DeadKernelError
from nbformat import NotebookNode
from traitlets import default

sys.path.insert(0, str(Path(__file__).resolve().parent))
import notebook_tools  # noqa: E402  (a sibling script, not a package)

KERNEL_NAME = "python3"
DEFAULT_TIMEOUT = 300  # seconds per cell
# The kernel environment, identical for this script and for nbval (notebooks/conftest.py):
# a fixed hash seed so printed sets and dicts built from sets come out in the same order
# on every run, and the inline matplotlib backend even where MPLBACKEND says otherwise.
KERNEL_ENV = {"PYTHONHASHSEED": "0", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_WIDGET_IDS = uuid.UUID("6f1d2a4e-3c5b-4e8f-9a7d-0b1c2d3e4f50")  # namespace for stable model ids


class NotebookFailed(Exception):
    """A notebook did not run cleanly; the message says which cell and why."""


# --------------------------------------------------------------------------- the kernel


class _ThisEnvironmentKernels(KernelSpecManager):
    """Resolves ``python3`` to this interpreter, whatever kernelspecs are installed elsewhere."""

    def get_kernel_spec(self, kernel_name: str):
        if kernel_name == KERNEL_NAME:
            return self.kernel_spec_class(
                resource_dir=ipykernel.kernelspec.RESOURCES, **ipykernel.kernelspec.get_kernel_dict()
            )
        return super().get_kernel_spec(kernel_name)


class _ThisEnvironmentKernelManager(AsyncKernelManager):
    @default("kernel_spec_manager")
    def _kernel_spec_manager_default(self) -> KernelSpecManager:
        return _ThisEnvironmentKernels(data_dir=self.data_dir)


# --------------------------------------------------------------------------- running


def default_paths(notebooks_dir: Path = notebook_tools.ROOT / "notebooks") -> list[Path]:
    """Every course notebook, ``notebooks/NN_*.ipynb`` (never ``exercises/``), in course order."""
    return notebook_tools.course_paths(notebooks_dir)


def execute(nb: NotebookNode, cwd: Path, *, timeout: int = DEFAULT_TIMEOUT, name: str = "notebook") -> NotebookNode:
    """Run ``nb`` in place in a fresh kernel started in ``cwd``; raise :class:`NotebookFailed` naming the cell.

    Also fails if a cell tagged ``raises-exception`` raised nothing: such a cell
    exists to show an error, and a silent one teaches the wrong thing.
    """
    nb.metadata.pop("widgets", None)  # the run records the widgets it creates; drop an older run's
    for cell in nb.cells:
        if cell.cell_type == "code" and not cell.source.strip():
            cell.outputs, cell.execution_count = [], None  # never executed: leave nothing stale
    current = {"index": None}

    def on_cell_start(cell: NotebookNode, cell_index: int, **_: Any) -> None:
        current["index"] = cell_index

    client = NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        kernel_manager_class=_ThisEnvironmentKernelManager,
        resources={"metadata": {"path": str(cwd)}},
        timeout=timeout,
        record_timing=False,  # no per-cell timestamps in the file
        store_widget_state=True,  # so a notebook opened without running still shows its widgets
        coalesce_streams=True,  # one stdout output per cell, however the kernel chunked it
        on_cell_start=on_cell_start,
    )
    with tempfile.TemporaryFile(mode="w+") as kernel_log:
        try:
            client.execute(env={**os.environ, **KERNEL_ENV}, stderr=kernel_log)
        except (CellExecutionError, CellControlSignal, DeadKernelError) as exc:
            kernel_log.seek(0)
            log = kernel_log.read().strip()
            raise NotebookFailed(_describe_failure(nb, name, current["index"], exc, log)) from None
    for index, cell in enumerate(nb.cells):
        if _tagged(cell, "raises-exception") and cell.source.strip():
            if not any(o.output_type == "error" for o in cell.outputs):
                raise NotebookFailed(
                    f"{name}: {_cell_name(nb, index)} is tagged raises-exception but raised nothing; "
                    "make it raise again or remove the tag"
                )
    return nb


def clean_volatile(nb: NotebookNode, seed: str) -> NotebookNode:
    """Strip what differs between two runs of the same notebook, in place.

    * per-cell execution metadata (``execution`` timestamps from nbclient,
      ``ExecuteTime`` from the JupyterLab extension);
    * widget model ids, random on every run: renumbered in creation order to
      ids derived from ``seed`` (the notebook's file name), consistently in the
      outputs and in the saved widget state, so saved widgets still display.
    """
    for cell in nb.cells:
        for key in notebook_tools.VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    views = [
        output.data[WIDGET_VIEW]
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if WIDGET_VIEW in output.get("data", {})
    ]
    old_ids = list(dict.fromkeys([*state, *(view.get("model_id", "") for view in views)]))
    old_ids = [i for i in old_ids if i]
    mapping = {old: uuid.uuid5(_WIDGET_IDS, f"{seed}/{n}").hex for n, old in enumerate(old_ids)}
    if mapping:
        for view in views:
            view["model_id"] = mapping.get(view.get("model_id"), view.get("model_id"))
        if state:
            nb.metadata.widgets[WIDGET_STATE]["state"] = _renamed(state, mapping)
    return nb


def finish_progress_bars(nb: NotebookNode) -> NotebookNode:
    """Give each saved progress bar the text of where it ended, in place.

    A tqdm bar in a notebook is a widget (an HBox of label, bar and counts)
    whose plain-text fallback is its repr when it was *created*: ``0%``. The
    saved widget state holds where it ended; a reader who sees the text (on a
    site that renders notebooks, or before widgets load) should see that too.
    """
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            text = _progress_text(state, view.get("model_id", "")) if view else None
            if text is not None:
                output.data["text/plain"] = text
    return nb


def _progress_text(state: dict[str, Any], model_id: str) -> str | None:
    box = state.get(model_id, {})
    children = [state.get(str(c).removeprefix("IPY_MODEL_"), {}) for c in box.get("state", {}).get("children", [])]
    if box.get("model_name") != "HBoxModel" or [c.get("model_name") for c in children] != [
            "HTMLModel", "FloatProgressModel", "HTMLModel"]:
        return None
    label, bar, counts = (c.get("state", {}) for c in children)
    total, done = bar.get("max") or 0, bar.get("value") or 0
    filled = int(10 * done / total) if total else 0

    def plain(value: object) -> str:
        return html.unescape(str(value or "")).replace("\u2007", " ")

    return f"{plain(label.get('value'))}|{'█' * filled}{' ' * (10 - filled)}|{plain(counts.get('value'))}"


def run_notebook(path: Path, *, timeout: int = DEFAULT_TIMEOUT) -> NotebookNode:
    """Execute one notebook file in place, writing it only if it ran cleanly; return it."""
    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    execute(nb, path.parent, timeout=timeout, name=path.name)
    finish_progress_bars(nb)
    clean_volatile(nb, seed=path.name)
    notebook_tools.write_notebook(nb, path)
    return nb


# --------------------------------------------------------------------------- helpers


def _renamed(value: Any, mapping: dict[str, str]) -> Any:
    """A copy of a widget state with every model id (as key, value or ``IPY_MODEL_<id>``) renamed."""
    if isinstance(value, dict):
        return type(value)((mapping.get(k, k), _renamed(v, mapping)) for k, v in value.items())
    if isinstance(value, list):
        return [_renamed(v, mapping) for v in value]
    if isinstance(value, str):
        if value in mapping:
            return mapping[value]
        if value.startswith("IPY_MODEL_") and value[10:] in mapping:
            return "IPY_MODEL_" + mapping[value[10:]]
    return value


def _tagged(cell: NotebookNode, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def _cell_name(nb: NotebookNode, index: int) -> str:
    """``cell 14 (nbval "Cell 7")``: the position among all cells, and nbval's count of code cells."""
    code_number = sum(1 for c in nb.cells[:index] if c.cell_type == "code")
    first = next((line for line in nb.cells[index].source.splitlines() if line.strip()), "")
    first = first if len(first) <= 60 else first[:57] + "..."
    return f'cell {index} (nbval "Cell {code_number}", starting `{first}`)'


def _describe_failure(nb: NotebookNode, name: str, index: int | None, exc: Exception, kernel_log: str) -> str:
    where = _cell_name(nb, index) if index is not None else "kernel start-up"
    if isinstance(exc, CellExecutionError):
        what = f"{exc.ename}: {exc.evalue}" + ("" if index is None else " (tag it raises-exception if that is the point)")
    elif isinstance(exc, DeadKernelError):
        what = "the kernel died"
    else:
        what = f"{type(exc).__name__}: {exc}"
    message = f"{name}: {where} failed: {what}"
    if isinstance(exc, DeadKernelError) and kernel_log:
        message += "\nkernel log:\n" + kernel_log[-2000:]
    return message


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks to run (default: every notebooks/NN_*.ipynb)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help=f"seconds per cell (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--no-generate", action="store_true", help="do not refresh nav and contents cells first")
    args = parser.parse_args(argv)

    paths = [p.resolve() for p in args.paths] or default_paths()
    refused = [p for p in paths if p.parent.name == "exercises" or p.suffix != ".ipynb" or not p.is_file()]
    if refused:
        for path in refused:
            why = "exercise notebooks are generated unexecuted" if path.parent.name == "exercises" else "not a notebook file"
            print(f"refusing {path}: {why}", file=sys.stderr)
        return 2
    if not paths:
        print("no notebooks to run (notebooks/NN_*.ipynb)")
        return 0

    if not args.no_generate:
        try:
            for change in notebook_tools.generate(parts=("nav", "contents", "readme")).changes:
                print(f"generated {change.path.name} ({change.reason})")
        except notebook_tools.CourseError as exc:
            print(f"nothing run; fix these first:\n{exc}", file=sys.stderr)
            return 2

    failures, total = [], 0.0
    width = max(len(p.name) for p in paths)
    for path in paths:
        started = time.perf_counter()
        try:
            run_notebook(path, timeout=args.timeout)
            status = "ok"
        except NotebookFailed as exc:
            failures.append(str(exc))
            status = "FAILED"
        seconds = time.perf_counter() - started
        total += seconds
        print(f"  {path.name:<{width}}  {seconds:6.1f} s  {status}", flush=True)
    print(f"ran {len(paths)} notebook(s) in {total:.1f} s, {len(failures)} failed")
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
