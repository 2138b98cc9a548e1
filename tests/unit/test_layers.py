"""The layers hold: imports inside ``esdemo`` only point down, and the core never loads a notebook library.

``esdemo/store`` <- ``esdemo/write`` and ``esdemo/read`` <- ``esdemo/process``:
``store`` imports neither ``write`` nor ``read``, ``write`` does not import
``read`` (nor ``read`` ``write``), and none of them (nor the examples) imports
ipywidgets, matplotlib or IPython, which belong to the teaching helpers on top.

Checked twice:

* statically, by reading every module's imports with :mod:`ast` (relative
  imports resolved, imports inside functions and under ``TYPE_CHECKING``
  included), so a lazy import is caught even if no test runs it;
* dynamically, by importing each layer in a fresh interpreter and looking at
  ``sys.modules``, which catches what the reading cannot see (an import made
  by a third-party package, ``importlib`` calls).

A test runs the static checker on a fake package that breaks each rule, so
the check is known to fail when it should.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "esdemo"

NOTEBOOK_LIBRARIES = ("ipywidgets", "matplotlib", "IPython")
"""Libraries for notebooks only: the core must run (in a service, a test, a script) without them."""

LAYERS = {
    "store": ("store",),
    "write": ("store", "write"),
    "read": ("store", "read"),
    "process": ("store", "write", "read", "process"),   # process managers, on top of both sides
    "examples": ("store", "write", "read", "process", "examples"),
}
"""For each subpackage of the core, the subpackages of ``esdemo`` its modules may import (itself included)."""

TEACHING_PACKAGES = ("widgets", "exercises", "benchmarks")
"""Subpackages on top, for the notebooks and the benchmark: they may import anything."""


@dataclass(frozen=True)
class Violation:
    """One import that breaks a rule: where it is, what it imports, and the rule it breaks."""

    path: str
    line: int
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.imported}: {self.rule}"


def module_name(path: Path, root: Path) -> str:
    """``root/esdemo/store/events.py`` -> ``esdemo.store.events``; a package's ``__init__.py`` is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, anywhere in the file, as absolute dotted names with their line numbers.

    Relative imports are resolved from the module's own package. ``from X import y`` names ``X.y`` when
    ``y`` is a module or package of ``X`` under ``root``, else ``X`` (``y`` is a name defined in ``X``).
    """
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                if node.level - 1 >= len(parts):
                    raise ValueError(f"{path}:{node.lineno}: relative import beyond the top-level package")
                base = ".".join(parts[:len(parts) - (node.level - 1)])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            folder = root.joinpath(*target.split("."))
            for alias in node.names:
                submodule = (folder / alias.name).is_dir() or (folder / f"{alias.name}.py").is_file()
                found.append((node.lineno, f"{target}.{alias.name}" if submodule else target))
    return sorted(set(found))


def layer_violations(root: Path, top: str = "esdemo", layers: dict[str, tuple[str, ...]] = LAYERS,
                     forbidden: tuple[str, ...] = NOTEBOOK_LIBRARIES) -> list[Violation]:
    """Every import in ``root/top/<layer>/**.py`` that points up or sideways, or at a notebook library."""
    found = []
    for layer, allowed in layers.items():
        for path in sorted((root / top / layer).rglob("*.py")):
            where = str(path.relative_to(root))
            for line, imported in imports_of(path, root):
                head = imported.split(".")
                if head[0] in forbidden:
                    found.append(Violation(where, line, imported, f"{top}.{layer} must not use {head[0]}"))
                elif head[0] == top and len(head) == 1:
                    found.append(Violation(where, line, imported, f"{top}.{layer} must not import the whole "
                                                                  f"{top} package (its __init__ loads every layer)"))
                elif head[0] == top and head[1] not in allowed:
                    found.append(Violation(where, line, imported, f"{top}.{layer} may import only "
                                                                  + ", ".join(f"{top}.{a}" for a in allowed)))
    return sorted(found, key=lambda v: (v.path, v.line, v.imported))


# -- the rules, on the real package ---------------------------------------------------------------

def test_every_layer_exists_and_every_subpackage_has_its_rules():
    for layer in LAYERS:
        assert list((PACKAGE / layer).glob("*.py")), f"esdemo/{layer} has no modules: update LAYERS"
    subpackages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    unruled = subpackages - set(LAYERS) - set(TEACHING_PACKAGES)
    assert not unruled, (f"new subpackages {sorted(unruled)}: add each to LAYERS (with the layers it may import, "
                         "e.g. 'process': ('store', 'write', 'read', 'process')) or to TEACHING_PACKAGES")


def test_no_module_of_the_core_imports_up_or_a_notebook_library():
    violations = layer_violations(ROOT)
    assert violations == [], "imports that break the layers:\n" + "\n".join(map(str, violations))


def modules_after(program: str) -> list[str]:
    """Run ``program`` in a fresh interpreter; it prints ``sorted(sys.modules)`` as JSON on its last line."""
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def loaded_after(statements: str) -> dict[str, list[str]]:
    """Run ``statements`` in a fresh interpreter; which ``esdemo`` modules and notebook libraries are loaded then.

    ``esdemo`` is registered as a bare package first, so importing ``esdemo.store`` does not run
    ``esdemo/__init__.py`` (which re-exports every layer): what is loaded is what the layer itself pulls in.
    """
    program = textwrap.dedent(f"""
        import json, sys, types
        bare = types.ModuleType("esdemo")
        bare.__path__ = [{str(PACKAGE)!r}]
        sys.modules["esdemo"] = bare
        {statements}
        print(json.dumps(sorted(sys.modules)))
    """)
    modules = modules_after(program)
    return {
        "esdemo": [m for m in modules if m.startswith("esdemo.")],
        "notebook libraries": [m for m in modules if m.split(".")[0] in NOTEBOOK_LIBRARIES],
    }


def layers_loaded(modules: list[str]) -> set[str]:
    return {m.split(".")[1] for m in modules}


def test_importing_the_store_loads_only_the_store():
    loaded = loaded_after("import esdemo.store")
    assert layers_loaded(loaded["esdemo"]) == {"store"}
    assert loaded["notebook libraries"] == []


def test_importing_the_write_side_loads_the_store_and_not_the_read_side():
    loaded = loaded_after("import esdemo.write")
    assert layers_loaded(loaded["esdemo"]) == {"store", "write"}
    assert loaded["notebook libraries"] == []


def test_importing_the_read_side_loads_the_store_and_not_the_write_side():
    loaded = loaded_after("import esdemo.read")
    assert layers_loaded(loaded["esdemo"]) == {"store", "read"}
    assert loaded["notebook libraries"] == []


def test_importing_the_process_layer_loads_the_core_below_it_and_no_notebook_library():
    loaded = loaded_after("import esdemo.process")
    assert {"store", "process"} <= layers_loaded(loaded["esdemo"]) <= {"store", "write", "read", "process"}
    assert loaded["notebook libraries"] == []


def test_importing_the_core_and_the_examples_loads_no_notebook_library():
    loaded = loaded_after("import esdemo.store, esdemo.write, esdemo.read, esdemo.process, esdemo.examples\n"
                          "        import esdemo.examples.bank, esdemo.examples.orders, esdemo.examples.order_views\n"
                          "        import esdemo.examples.catalog, esdemo.examples.catalog_views")
    assert layers_loaded(loaded["esdemo"]) <= {"store", "write", "read", "process", "examples"}
    assert loaded["notebook libraries"] == []


def test_import_esdemo_itself_loads_no_notebook_library():
    modules = modules_after("import json, sys, esdemo\nprint(json.dumps(sorted(sys.modules)))")
    assert [m for m in modules if m.split(".")[0] in NOTEBOOK_LIBRARIES] == []


# -- the checker itself fails when a rule is broken ------------------------------------------------

FAKE_MODULES = {
    "fake/__init__.py": "from .store import Thing\n",
    "fake/tables.py": "import matplotlib\n",                       # a teaching helper may use anything
    "fake/store/__init__.py": "from .things import Thing\n",
    "fake/store/things.py": textwrap.dedent("""
        from __future__ import annotations
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from ..write.model import Model               # line 5: store -> write, even for typing only
        class Thing:
            def later(self):
                from ..read import views                  # line 8: store -> read, lazily
                return views
    """),
    "fake/store/backends/__init__.py": "from .. import things\nfrom ... import tables\n",  # line 2: store -> helper
    "fake/write/__init__.py": "",
    "fake/write/model.py": textwrap.dedent("""
        import fake.store.things
        from fake.read.views import View                  # line 3: write -> read
        import IPython.display                            # line 4: notebook library in the core
    """),
    "fake/read/__init__.py": "from ..store.things import Thing\n",
    "fake/read/views.py": textwrap.dedent("""
        def show():
            import ipywidgets as W                        # line 3: lazily, still a notebook library
            from .. import store                          # fine: the store is below
            import fake                                   # line 5: the whole package, every layer
    """),
}


def test_the_checker_reports_every_broken_rule_in_a_fake_package(tmp_path):
    for name, text in FAKE_MODULES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    layers = {"store": ("store",), "write": ("store", "write"), "read": ("store", "read")}
    found = [(v.path, v.line, v.imported) for v in layer_violations(tmp_path, "fake", layers)]
    assert found == [
        ("fake/read/views.py", 3, "ipywidgets"),
        ("fake/read/views.py", 5, "fake"),
        ("fake/store/backends/__init__.py", 2, "fake.tables"),
        ("fake/store/things.py", 5, "fake.write.model"),
        ("fake/store/things.py", 8, "fake.read.views"),
        ("fake/write/model.py", 3, "fake.read.views"),
        ("fake/write/model.py", 4, "IPython.display"),
    ]
    messages = {str(v) for v in layer_violations(tmp_path, "fake", layers)}
    assert "fake/store/things.py:8 imports fake.read.views: fake.store may import only fake.store" in messages
    assert "fake/write/model.py:4 imports IPython.display: fake.write must not use IPython" in messages


def test_relative_imports_resolve_from_the_modules_own_package(tmp_path):
    for name in ["pkg/__init__.py", "pkg/other/__init__.py", "pkg/sub/sibling.py", "pkg/sub/deep/er.py"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    module = tmp_path / "pkg" / "sub" / "mod.py"
    module.write_text("from . import sibling\nfrom ..other import name\nfrom .deep import er\n"
                      "def f():\n    from .deep.er import x\n")
    init = tmp_path / "pkg" / "sub" / "__init__.py"
    init.write_text("from .mod import y\nfrom .. import other, top_name\n")
    assert imports_of(module, tmp_path) == [
        (1, "pkg.sub.sibling"), (2, "pkg.other"), (3, "pkg.sub.deep.er"), (5, "pkg.sub.deep.er"),
    ]
    assert imports_of(init, tmp_path) == [(1, "pkg.sub.mod"), (2, "pkg"), (2, "pkg.other")]
    too_far = tmp_path / "pkg" / "bad.py"
    too_far.write_text("from ... import nothing\n")
    with pytest.raises(ValueError, match="beyond the top-level package"):
        imports_of(too_far, tmp_path)
