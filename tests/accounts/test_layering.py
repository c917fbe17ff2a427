"""accounts/ is core: like governance/, it imports no web, CLI or HWI code
(tests/test_architecture.py checks the packages it lists; this adds accounts)."""

from __future__ import annotations

import pytest

from ..conftest import REPO_ROOT
from ..test_architecture import EDGE_ONLY, _imports

MODULES = sorted((REPO_ROOT / "coordinator" / "accounts").rglob("*.py")) + [REPO_ROOT / "coordinator" / "canonical.py"]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_accounts_modules_import_no_edge(path):
    bad = [m for m in _imports(path) if m.split(".")[0] in EDGE_ONLY or m.startswith(EDGE_ONLY)]
    assert not bad, f"{path.name} imports {bad}"
