"""make check: the pre-flight a learner runs the day before a workshop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_preflight_prints_the_versions_and_runs_a_tiny_cell_in_a_kernel():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "preflight.py")], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✓ duckdb >=" in done.stdout
    assert "kernel ok: appended at position 1" in done.stdout and "All set" in done.stdout
