"""What keeps the first load light (issue 13, "Weight"; bench/pwa_weight.py measures
it): the scanner and the QR library are outside app.js's static import graph, so
they load only when needed, and index.html preloads exactly that graph, so the
modules come at once instead of one import level after another."""

from __future__ import annotations

import os
import re
from pathlib import Path

PWA = Path(__file__).resolve().parents[2] / "pwa"
IMPORT = re.compile(r"""^\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']""", re.M)
ON_DEMAND = ("js/scanner.js", "js/scan-worker.js", "vendor/jsqr/", "js/qr.js", "js/animated.js",
             "vendor/qrcode-generator/")


def static_graph(entry: str = "app.js") -> set[str]:
    seen, todo = set(), [entry]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += [os.path.normpath(Path(name).parent / t) for t in IMPORT.findall((PWA / name).read_text())]
    return seen


def test_the_scanner_and_the_qr_library_are_not_imported_up_front():
    graph = static_graph()
    assert "js/views/ceremony.js" in graph and "js/socket.js" in graph  # the walk follows imports
    assert [name for name in graph if name.startswith(ON_DEMAND)] == []


def test_index_preloads_every_module_app_js_imports_and_nothing_else():
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/v/__VERSION__/([^"]+)">',
                               (PWA / "index.html").read_text()))
    assert preloaded == static_graph() - {"app.js"}
