"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from coordinator.store import open_database

REPO_ROOT = Path(__file__).resolve().parent.parent
# The public vectors live inside the repository: a user's clone has nothing beside it.
VECTORS = REPO_ROOT / "tests" / "vectors"

# Timing is for bench/, not tests: a busy CI machine must not fail a property.
settings.register_profile("huddle", deadline=None, print_blob=True)
settings.load_profile("huddle")


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """The public BIP/UR/BBQr test vectors in ``tests/vectors`` (sources: its README).

    A missing directory fails the test rather than skipping it: a silently
    skipped vector test is a test that proves nothing.
    """
    if not VECTORS.is_dir():
        pytest.fail(f"test vectors not found at {VECTORS}")
    return VECTORS


CHROMIUM = "/usr/bin/chromium"  # Debian's; ./dev test installs it, Playwright never downloads one
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium per test process, shared by every browser test: Playwright's
    sync API runs one event loop per thread, so a second sync_playwright() in the same
    process fails while this one lives. Need other flags? ``browser.browser_type.launch``."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (./dev test does it)")
    with sync_playwright() as playwright:
        # launch() gives every run a fresh temporary profile (user-data-dir).
        found = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield found
        found.close()


@pytest.fixture
def db_path(tmp_path) -> Path:
    """Where a fresh test database lives (a real SQLite file)."""
    return tmp_path / "huddle.sqlite3"


@pytest.fixture
def db(db_path):
    """A fresh, migrated Huddle database in a temp dir (sqlite-utils' fresh_db)."""
    database = open_database(db_path)
    yield database
    database.close()


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="also run the long stress, crash and soak tests")


def pytest_collection_modifyitems(config, items):
    """Slow tests are deselected, not skipped, unless --run-slow; emulator tests unless
    HUDDLE_HWI_EMULATOR names a running HWI emulator (issue 12): a skip means something is missing."""
    away = [] if config.getoption("--run-slow") else ["slow"]
    if not os.environ.get("HUDDLE_HWI_EMULATOR"):
        away.append("emulator")
    dropped = [item for item in items if any(item.get_closest_marker(marker) for marker in away)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not any(item.get_closest_marker(marker) for marker in away)]


def pytest_sessionfinish(session, exitstatus):
    """With CI=true, any skipped test fails the run: a missing browser or service must not pass quietly."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and os.environ.get("CI") == "true" and exitstatus == 0:
        reporter.write_line(f"huddle: {skipped} test(s) skipped with CI=true; that is a failure", red=True)
        session.exitstatus = 1
