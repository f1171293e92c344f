"""The plugin's modules import one way: capture -> repeats, options -> profile -> graph
over program and storage; execute beside them (with options' kernels); optimize and
planning on top, and sizing (max_batch) over them. No module imports another inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import memplan_torch

PACKAGE = Path(memplan_torch.__file__).parent

# Which plugin modules each module may import.
ALLOWED = {
    "storage": set(),
    "allocator": set(),
    "program": {"storage"},
    "graph": {"program"},
    "profile": {"allocator", "graph", "program", "storage"},
    "options": {"allocator", "profile", "program", "storage"},
    "repeats": {"profile"},
    "capture": {"graph", "options", "profile", "program", "repeats", "storage"},
    "execute": {"allocator", "graph", "options", "program", "storage"},
    "planning": {"capture"},
    "optimize": {"capture", "execute", "planning"},
    "sizing": {"capture", "execute", "planning"},
}


def _imports(tree: ast.AST):
    """(plugin module, at module level) for every relative import in a module."""
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [alias.name for alias in node.names]
            for name in names:
                yield name.split(".")[0], id(node) in top


def test_modules_import_one_way():
    modules = sorted(path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__")
    assert set(modules) == set(ALLOWED), "a new module needs its place in ALLOWED"
    for module in modules:
        tree = ast.parse((PACKAGE / f"{module}.py").read_text())
        for name, at_top in _imports(tree):
            assert at_top, f"{module} imports {name} inside a function"
            assert name in ALLOWED[module], f"{module} may not import {name}"


def test_no_private_names_cross_modules():
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                private = [alias.name for alias in node.names if alias.name.startswith("_")]
                assert not private, f"{path.stem} imports private {private} from {node.module}"
