"""The docs stay true: every command, error code and setting is documented,
and the README starts with the two commands CI and newcomers run."""

from __future__ import annotations

import importlib
import pkgutil
import re

import click
import pytest

import coordinator
from coordinator import config
from coordinator.cli import main
from coordinator.errors import CODES

from .conftest import REPO_ROOT

DOCS = REPO_ROOT / "docs"

# Import every module so that each package's error codes are registered.
for _mod in pkgutil.walk_packages(coordinator.__path__, "coordinator."):
    importlib.import_module(_mod.name)


def _all_docs() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md")))


def _command_paths(group: click.Group, prefix: str = "huddle") -> list[str]:
    paths = [prefix]
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            paths += _command_paths(cmd, f"{prefix} {name}")
        else:
            paths.append(f"{prefix} {name}")
    return paths


@pytest.mark.parametrize("path", _command_paths(main))
def test_every_cli_command_has_a_heading_in_docs(path):
    assert re.search(rf"^### {re.escape(path)}\s*$", _all_docs(), re.M), f"document `{path}` in docs/"


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_error_code_is_documented(code):
    text = "\n".join(p.read_text(encoding="utf-8") for p in DOCS.glob("errors*.md"))
    assert f"| `{code}` |" in text, f"document error code {code} in docs/errors.md"


@pytest.mark.parametrize("name", sorted(config.SETTINGS))
def test_every_setting_is_documented(name):
    env = config.SETTINGS[name][0]
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert f"`{name}`" in text and f"`{env}`" in text


def test_readme_starts_with_the_demo_and_test_commands():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```sh\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands == ["./dev demo", "./dev test"]
    assert readme.index("```sh") < readme.index("\n## ")


def test_ci_runs_the_readme_test_command():
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^exec \./dev test\s*$", ci, re.M)


def test_changelog_lines_name_their_issue():
    text = (DOCS / "changelog.md").read_text(encoding="utf-8")
    entries = re.findall(r"^- (.*?)(?=^- |^#|\Z)", text, re.M | re.S)
    assert entries
    for entry in entries:
        assert re.search(r"\(#\d+\)", entry), f"changelog entry names no issue: {entry}"


def _served_api_routes(tmp_path) -> set[tuple[str, str]]:
    from coordinator.web import WebConfig, create_app

    app = create_app(WebConfig(tmp_path / "huddle.sqlite3", "s" * 32, "http://localhost:5000"))
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule[len("/api/v1"):])
            served |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return served


def test_every_api_route_is_in_the_openapi_document_and_docs(tmp_path):
    from coordinator.web.openapi import document

    served = _served_api_routes(tmp_path)
    documented = {(path, method) for path, ops in document()["paths"].items() for method in ops}
    assert served - documented == set(), "describe these routes in coordinator/web/openapi.py"
    assert documented - served == set(), "the OpenAPI document lists routes the app does not serve"
    api_md = (DOCS / "api.md").read_text(encoding="utf-8")
    missing = [f"{m.upper()} /api/v1{p}" for p, m in sorted(served) if f"`{m.upper()} /api/v1{p}`" not in api_md]
    assert not missing, f"list these routes in docs/api.md: {missing}"
