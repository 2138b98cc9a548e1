"""A notebook-sized workload: how long every course notebook takes to run, top to bottom.

Each notebook is executed the way ``make notebooks`` and the nbval test run
execute it (``scripts/run_notebooks.py``'s ``execute``: a fresh kernel of this
environment, the same kernel variables, the notebook's folder as working
directory), but on a copy in a temporary folder, so the committed notebooks
are never written. The time includes starting the kernel, which is part of
what a learner (and the test run) waits for::

    python -m esdemo.benchmarks.notebooks
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from .timing import median

ROOT = Path(__file__).resolve().parents[2]


def runner(root: Path = ROOT) -> ModuleType:
    """``scripts/run_notebooks.py`` of the checkout at ``root``, imported as a module."""
    path = root / "scripts" / "run_notebooks.py"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: the notebook benchmark runs from a checkout of the course "
                                "(it reuses scripts/run_notebooks.py to execute notebooks as the tests do)")
    spec = importlib.util.spec_from_file_location("esdemo_run_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(paths: Sequence[Path] | None = None, repeat: int = 3, root: Path = ROOT,
        timeout: int = 300) -> dict[str, object]:
    """Median seconds to execute each notebook (and their sum), over ``repeat`` runs of the whole set.

    ``paths`` defaults to every course notebook (``notebooks/NN_*.ipynb``).
    Returns ``{"notebooks": {name: median_s}, "total_s": sum of the medians,
    "repeat": repeat, "failed": {name: message}}``; a notebook that fails is
    reported under ``failed`` (with the cell that failed) and left out of the total.
    """
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be an int >= 1, got {repeat!r}")
    scripts = runner(root)
    paths = [Path(p).resolve() for p in paths] if paths is not None else scripts.default_paths(root / "notebooks")
    if not paths:
        raise ValueError(f"no notebooks to time in {root / 'notebooks'}")
    seconds: dict[str, list[float]] = {path.name: [] for path in paths}
    failed: dict[str, str] = {}
    import nbformat

    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="esdemo-bench-") as folder:
            copies = Path(folder) / "notebooks"
            copies.mkdir()
            for path in paths:
                shutil.copy2(path, copies / path.name)
            for path in paths:
                if path.name in failed:
                    continue
                nb = nbformat.read(copies / path.name, as_version=4)
                started = time.perf_counter()
                try:
                    scripts.execute(nb, copies, timeout=timeout, name=path.name)
                except scripts.NotebookFailed as exc:
                    failed[path.name] = str(exc)
                    continue
                seconds[path.name].append(time.perf_counter() - started)
    medians = {name: median(values) for name, values in seconds.items() if values and name not in failed}
    return {"notebooks": medians, "total_s": sum(medians.values()), "repeat": repeat, "failed": failed}


if __name__ == "__main__":
    numbers = run(repeat=1)
    for name, seconds in numbers["notebooks"].items():
        print(f"  {name:<40} {seconds:6.1f} s")
    print(f"every notebook: {numbers['total_s']:.1f} s")
    for name, message in numbers["failed"].items():
        print(f"FAILED {name}: {message}")
