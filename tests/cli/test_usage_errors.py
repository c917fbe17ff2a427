"""A wrong command line (click's usage errors, and our own) takes the same path
as every other error: one ``huddle: error: ... [usage]`` line on stderr, exit 2,
and with ``--json`` the JSON error shape on stdout (docs/cli.md)."""

from __future__ import annotations

import json

import pytest

from .runner import ERROR_LINE, fails, huddle, imported, ok, run  # noqa: F401

PAYEE = "tb1qyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3qct5w8z"

WRONG_COMMAND_LINES = {
    "unknown command": (["wallet", "frobnicate"], "frobnicate"),
    "unknown top-level option": (["--frobnicate"], "--frobnicate"),
    "unknown option": (["wallet", "list", "--frobnicate"], "--frobnicate"),
    "missing argument": (["wallet", "show"], "NAME"),
    "value out of range": (["wallet", "addresses", "w", "--count", "0"], "--count"),
    "not a choice": (["wallet", "import", "w.txt", "--format", "pdf"], "pdf"),
    "max with two recipients": (["psbt", "create", "w", "--to", PAYEE, "max", "--to", PAYEE, "1000",
                                 "--fee-rate", "1"], "'max' needs exactly one --to"),
}


@pytest.mark.parametrize("argv, named", WRONG_COMMAND_LINES.values(), ids=WRONG_COMMAND_LINES)
def test_a_wrong_command_line_is_one_error_line_with_the_usage_code_and_exit_2(run, argv, named):
    result = run(*argv)

    line = fails(result, 2, "usage")
    assert named in line
    assert "--help" in line  # says where to look
    assert result.stdout == ""


@pytest.mark.parametrize("argv, named", WRONG_COMMAND_LINES.values(), ids=WRONG_COMMAND_LINES)
def test_a_wrong_command_line_with_json_also_prints_the_json_error(run, argv, named):
    result = run(*argv, "--json")

    line = fails(result, 2, "usage")
    body = json.loads(result.stdout)
    assert body["error"]["code"] == "usage"
    assert body["error"]["message"] in line and named in body["error"]["message"]


def test_removing_a_wallet_without_yes_is_a_usage_error_and_keeps_it(imported):
    from .runner import CC_NAME

    line = fails(imported("wallet", "remove", CC_NAME), 2, "usage")

    assert "--yes" in line
    ok(imported("wallet", "show", CC_NAME))


def test_bare_huddle_still_shows_the_help(run):
    result = run()

    assert "Usage:" in result.stdout + result.stderr and "wallet" in result.stdout + result.stderr
    assert not ERROR_LINE.match(result.stderr.strip().splitlines()[-1])


def test_help_is_not_an_error(run):
    assert "Usage:" in ok(run("wallet", "show", "--help", "--json"))
