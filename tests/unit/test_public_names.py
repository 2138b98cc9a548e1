"""The teaching packages say what they offer: ``__all__`` lists exactly the names they import for notebooks."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("package", ["esdemo.widgets", "esdemo.exercises"])
def test_all_lists_every_re_exported_name_once_in_order_and_each_exists(package):
    module = importlib.import_module(package)
    tree = ast.parse((ROOT / package.replace(".", "/") / "__init__.py").read_text())
    imported = {alias.asname or alias.name for node in tree.body
                if isinstance(node, ast.ImportFrom) and node.module != "__future__" for alias in node.names}
    assert module.__all__ == sorted(set(module.__all__)), "keep __all__ sorted, each name once"
    assert set(module.__all__) == imported
    assert [name for name in module.__all__ if not hasattr(module, name)] == []
