"""What every browser test starts from: JupyterLab over a copy of the notebooks, and a headless Chromium.

Each test module gets its own server (module scope); ``browser`` is one Chromium
for a whole module, ``page`` a page in a fresh profile for one test. All are
stopped and closed whatever happens. Playwright is imported only when a browser starts, so
a machine without it still collects these modules (each skips, saying why).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


@contextmanager
def chromium(profile_dir: Path) -> Iterator[Any]:
    """Headless Chromium with an empty profile in ``profile_dir``; closed (killed with the driver) afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = launch_chromium(playwright, profile_dir)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def browser(lab, tmp_path_factory):
    """One Chromium for the whole module: each test opens its own pages in it."""
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
def page(lab, tmp_path):
    """A page in a Chromium profile of its own, so nothing (a workspace, an open tab) carries over between tests."""
    with chromium(tmp_path / "chromium-profile") as context:
        yield context.new_page()
