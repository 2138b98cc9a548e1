"""pyproject.toml (pip) and environment.yml (conda/Binder) must list the same packages."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {"duckdb", "pandas", "matplotlib", "ipywidgets", "jupyterlab", "pytest", "nbval", "psycopg", "pgserver"}


def pip_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + project["optional-dependencies"]["test"]
    return dict(_split(line) for line in lines)


def conda_requirements() -> dict[str, str]:
    found, in_deps = {}, False
    for raw in (ROOT / "environment.yml").read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if line.startswith("dependencies:"):
            in_deps = True
        elif in_deps and re.match(r"^  - [A-Za-z]", line):
            name, spec = _split(line[4:])
            if name not in {"python", "pip"}:
                found[name] = spec
        elif in_deps and re.match(r"^      - [A-Za-z]", line):   # installed by pip inside the conda env
            name, spec = _split(line[8:])
            found[name] = spec
    return found


def _split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    return match.group(1).lower(), match.group(2).replace(" ", "")


def test_both_files_list_the_same_packages_and_versions():
    assert pip_requirements() == conda_requirements()


def test_the_course_needs_are_all_listed():
    assert REQUIRED <= set(pip_requirements())
    assert pip_requirements()["duckdb"] == ">=2.0"


def test_environment_installs_the_package_itself():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"- pip:\s*\n\s+- -e \.\s*$", text, re.MULTILINE)
    assert "conda-forge" in text

