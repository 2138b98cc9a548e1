"""pytest set-up for running the course notebooks under nbval (``make notebooks-test``).

* ``exercises/`` is never collected: those notebooks are generated with the
  solutions cut out and are never executed, so there is nothing to compare.
* nbval starts each notebook's kernel in the notebook's own folder, so the
  kernel's working directory is ``notebooks/``, the same as for
  ``scripts/run_notebooks.py`` and for a learner in JupyterLab.
* The kernel gets the same environment as ``scripts/run_notebooks.py`` (which
  produced the committed outputs): a fixed ``PYTHONHASHSEED``, so a printed set
  comes out in the same order, and the inline matplotlib backend, so figures
  are displayed even where ``MPLBACKEND`` says otherwise (CI often sets Agg).
  ``tests/unit/test_notebook_tools.py`` checks the two stay identical.
"""

from __future__ import annotations

import os

collect_ignore = ["exercises"]

KERNEL_ENV = {"PYTHONHASHSEED": "0", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}


def pytest_configure(config):
    # Kernels are child processes started after this, so they inherit these variables.
    if getattr(config.option, "nbval", False) or getattr(config.option, "nbval_lax", False):
        os.environ.update(KERNEL_ENV)
