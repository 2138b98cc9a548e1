"""What every browser test starts from: JupyterLab over a copy of the notebooks, and a headless Chromium.

Each test module gets its own server and browser (module scope), stopped and
closed whatever happens. Playwright is imported only when a browser starts, so
a machine without it still collects these modules (each skips, saying why).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lab_harness import LabServer, copy_notebooks, launch_chromium, quiet_settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on loopback over a copy of notebooks/, stopped (with its kernels) whatever happens."""
    base = tmp_path_factory.mktemp("lab")
    root = copy_notebooks(ROOT / "notebooks", base / "notebooks")
    server = LabServer(root, base / "state")
    quiet_settings(server.state_dir / "settings")
    with server:
        yield server


@pytest.fixture(scope="module")
def browser(lab, tmp_path_factory):
    """Headless Chromium with a fresh profile; closed (killed with the driver) afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = launch_chromium(playwright, tmp_path_factory.mktemp("chromium-profile"))
        try:
            yield context
        finally:
            context.close()
