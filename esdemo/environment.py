"""Is this machine ready for the course? One check, read from the package's own requirements.

The minimum versions come from ``pyproject.toml`` (via the installed package's
metadata), so this check can never disagree with what ``make lab`` installs.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import sys
from dataclasses import dataclass

MINIMUM_PYTHON = (3, 11)


@dataclass(frozen=True)
class Requirement:
    """One line of the environment report."""

    name: str
    minimum: str
    found: str | None

    @property
    def ok(self) -> bool:
        return self.found is not None and _as_tuple(self.found) >= _as_tuple(self.minimum)

    def describe(self) -> str:
        if self.found is None:
            return f"✗ {self.name} >= {self.minimum}: not installed. Run `make lab` (or `pip install -e .`) from the project folder."
        if not self.ok:
            return f"✗ {self.name} >= {self.minimum}: found {self.found}, too old. Run `make lab` again to upgrade."
        return f"✓ {self.name} >= {self.minimum}"


def requirements(include_test: bool = False) -> list[Requirement]:
    """Python and every runtime dependency of esdemo, with the version installed here."""
    found_python = ".".join(str(part) for part in sys.version_info[:3])
    report = [Requirement("python", ".".join(map(str, MINIMUM_PYTHON)), found_python)]
    for line in metadata.requires("esdemo") or []:
        spec, _, marker = line.partition(";")
        if marker and not include_test:
            continue
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9.]+)", spec)
        if match is None:
            continue
        name, minimum = match.groups()
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            found = None
        report.append(Requirement(name, minimum, found))
    return report


def check_environment(include_test: bool = False) -> bool:
    """Print one line per requirement and return True if everything is ready."""
    report = requirements(include_test)
    for item in report:
        print(item.describe())
    ready = all(item.ok for item in report)
    print("Ready: every notebook should run." if ready else "Not ready: fix the lines marked ✗ above, then restart the kernel.")
    return ready


def _as_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])
