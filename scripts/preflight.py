#!/usr/bin/env python
"""``make check``: is this machine ready for the workshop? Run it the day before.

It prints the versions the course needs (from the package's own requirements),
then starts a Jupyter kernel, the one the notebooks use, and runs one tiny cell
in it: a store, an append, a widget and a chart. Exit status 0 means every
notebook should run; anything else prints what to do.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY_CELL = """
from esdemo import EventStore, NewEvent
import ipywidgets, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
with EventStore() as store:
    position = store.append("Preflight-1", [NewEvent("Checked", {"ok": True})], expected_version=0).position
figure = plt.figure(); plt.plot([1, 2]); plt.close(figure)
print(f"kernel ok: appended at position {position}, ipywidgets {ipywidgets.__version__}, matplotlib {matplotlib.__version__}")
"""


def run_tiny_cell(timeout: int = 120) -> str:
    """Run :data:`TINY_CELL` in a fresh ``python3`` kernel; return what it printed (raises if it fails)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(TINY_CELL))
    NotebookClient(nb, kernel_name="python3", timeout=timeout, resources={"metadata": {"path": str(ROOT)}}).execute()
    return "".join(o.get("text", "") for o in nb.cells[0].outputs if o.output_type == "stream")


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from esdemo.environment import check_environment

    print(f"esdemo pre-flight check, Python {sys.version.split()[0]} at {sys.executable}")
    if not check_environment(include_test=False):
        return 1
    started = time.monotonic()
    try:
        printed = run_tiny_cell()
    except Exception as exc:  # report it with the cure; this script is for people, not for tests
        print(f"✗ a Jupyter kernel could not run a tiny cell: {type(exc).__name__}: {exc}")
        print("  Run `make lab` once (it installs everything), then `make check` again.")
        return 1
    print(f"✓ {printed.strip()} ({time.monotonic() - started:.1f} s)")
    print("All set: open the course with `make lab`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
