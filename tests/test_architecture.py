"""The shape of the code: the core imports no web, CLI or HWI; modules stay small."""

from __future__ import annotations

import ast

import pytest

from .conftest import REPO_ROOT

PKG = REPO_ROOT / "coordinator"
CORE = ["wallet", "qr", "store", "sessions", "psbt", "governance", "chain"]
CORE_FILES = ["errors.py", "networks.py", "config.py"]
EDGE_ONLY = ("flask", "flask_socketio", "socketio", "engineio", "click", "hwilib", "coordinator.cli",
             "coordinator.web", "coordinator.hw")
MAX_LINES = 400


def _core_modules():
    files = [PKG / f for f in CORE_FILES]
    for package in CORE:
        files += sorted((PKG / package).rglob("*.py"))
    return [f for f in files if f.exists()]


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # resolve relative imports against the package path
                parts = path.relative_to(REPO_ROOT).with_suffix("").parts[: -node.level]
                yield ".".join([*parts, node.module or ""]).rstrip(".")
            else:
                yield node.module or ""


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_core_module_imports_no_edge(path):
    bad = [m for m in _imports(path) if m.split(".")[0] in EDGE_ONLY or m.startswith(EDGE_ONLY)]
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", sorted(PKG.rglob("*.py")), ids=lambda p: str(p.relative_to(PKG)))
def test_modules_stay_small(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_no_module_is_a_junk_drawer():
    names = {p.stem for p in PKG.rglob("*.py")}
    assert not names & {"utils", "util", "helpers", "manager", "misc", "common"}


MAX_FUNCTION_LINES = 60  # "a function fits on a screen"


@pytest.mark.parametrize("path", sorted(PKG.rglob("*.py")), ids=lambda p: str(p.relative_to(PKG)))
def test_functions_fit_on_a_screen(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{path.name}: {', '.join(long)}"
