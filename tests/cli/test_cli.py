"""The ``huddle`` console script, run for real in subprocesses: output,
JSON, exit codes and the one-line error on stderr."""

from __future__ import annotations

import json
import re
from importlib import resources

import click
import pytest
from click.testing import CliRunner

from coordinator import cli, config
from coordinator.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    StorageError,
    Unsupported,
)
from coordinator.store import open_database, wallets
from coordinator.wallet import addresses, formats
from coordinator.wallet.descriptor import CHANGE, RECEIVE, MultisigDescriptor
from tests import keys

from .runner import (  # noqa: F401
    CC_FILE,
    CC_FINGERPRINTS,
    CC_NAME,
    ERROR_LINE,
    EXPORTS,
    HUDDLE,
    Huddle,
    fails,
    huddle,
    imported,
    ok,
    run,
)


def cc_descriptor() -> MultisigDescriptor:
    return formats.load(CC_FILE.read_text(encoding="utf-8")).descriptor


# -- huddle descriptor check --------------------------------------------------------


def test_descriptor_check_shows_checksum_policy_fingerprints_and_first_addresses(run):
    desc = keys.descriptor(2, 4)

    out = ok(run("descriptor", "check", desc.to_string(checksummed=False)))

    assert desc.to_string() in out  # normalised, with its checksum added
    assert "2 of 4" in out
    for c in desc.cosigners:
        assert c.fingerprint in out
    for i in range(5):
        assert desc.address(RECEIVE, i, "testnet") in out


def test_descriptor_check_accepts_a_real_coldcard_descriptor_export(run):
    text = (EXPORTS / "coldcard-multisig-2of4-p2wsh-testnet.descriptor.txt").read_text(encoding="utf-8").strip()

    out = ok(run("descriptor", "check", text, "--count", "2"))

    assert cc_descriptor().address(RECEIVE, 0, "testnet") in out
    assert cc_descriptor().address(RECEIVE, 1, "testnet") in out
    assert cc_descriptor().address(RECEIVE, 2, "testnet") not in out


def test_descriptor_check_json_has_the_same_facts(run):
    desc = keys.descriptor(2, 4)

    data = json.loads(ok(run("descriptor", "check", desc.to_string(), "--json")))

    assert data["descriptor"] == desc.to_string()
    assert data["checksum"] == desc.to_string().rsplit("#", 1)[1]
    assert (data["threshold"], data["n"]) == (2, 4)
    assert data["network"] == "testnet"
    assert [c["fingerprint"] for c in data["cosigners"]] == [c.fingerprint for c in desc.cosigners]
    assert data["receive_addresses"] == [desc.address(RECEIVE, i, "testnet") for i in range(5)]


def test_descriptor_check_on_regtest_gives_bcrt1_addresses(run):
    desc = keys.descriptor(2, 3)

    data = json.loads(ok(run("descriptor", "check", desc.to_string(), "--network", "regtest", "--json")))

    assert data["network"] == "regtest"
    assert data["receive_addresses"][0] == desc.address(RECEIVE, 0, "regtest")
    assert all(a.startswith("bcrt1") for a in data["receive_addresses"])


def test_descriptor_check_refuses_tpub_keys_on_bitcoin(run):
    result = run("descriptor", "check", keys.descriptor(2, 3).to_string(), "--network", "bitcoin")

    fails(result, 3, "wrong_network")
    assert result.stdout == ""


def test_descriptor_check_refuses_an_unknown_network(run):
    fails(run("descriptor", "check", keys.descriptor(2, 3).to_string(), "--network", "dogecoin"),
          3, "unknown_network")


def test_a_wrong_checksum_is_one_error_line_and_exit_3(run):
    good = keys.descriptor(2, 3).to_string()
    bad = good[:-1] + ("q" if good[-1] != "q" else "p")

    result = run("descriptor", "check", bad)

    fails(result, 3, "bad_checksum")
    assert result.stdout == ""


def test_an_error_with_json_requested_also_prints_the_json_error_shape(run):
    good = keys.descriptor(2, 3).to_string()
    bad = good[:-1] + ("q" if good[-1] != "q" else "p")

    result = run("descriptor", "check", bad, "--json")

    fails(result, 3, "bad_checksum")
    body = json.loads(result.stdout)
    assert set(body) == {"error"}
    assert body["error"]["code"] == "bad_checksum"
    assert body["error"]["message"]


# -- huddle wallet ----------------------------------------------------------------------


def test_wallet_import_prints_the_wallet_and_its_first_address(run):
    out = ok(run("wallet", "import", str(CC_FILE)))

    assert CC_NAME in out
    assert "2 of 4" in out
    assert cc_descriptor().address(RECEIVE, 0, "testnet") in out


def test_wallet_import_json_has_the_first_receive_address(run):
    data = json.loads(ok(run("wallet", "import", str(CC_FILE), "--name", "team", "--json")))

    assert data["name"] == "team"
    assert data["network"] == "testnet"
    assert data["first_receive_address"] == cc_descriptor().address(RECEIVE, 0, "testnet")
    assert [c["fingerprint"] for c in data["cosigners"]] == CC_FINGERPRINTS


def test_wallet_import_reads_stdin(run):
    text = CC_FILE.read_text(encoding="utf-8")

    ok(run("wallet", "import", "-", "--name", "piped", input=text))

    assert "piped" in ok(run("wallet", "list"))


def test_wallet_list_shows_imported_wallets(imported):
    out = ok(imported("wallet", "list"))
    rows = json.loads(ok(imported("wallet", "list", "--json")))

    assert CC_NAME in out and "2 of 4" in out
    assert [(r["name"], r["policy"], r["network"]) for r in rows] == [(CC_NAME, "2 of 4", "testnet")]


def test_wallet_list_says_when_there_are_no_wallets(run):
    assert "No wallets yet" in ok(run("wallet", "list"))
    assert json.loads(ok(run("wallet", "list", "--json"))) == []


def test_wallet_show_prints_the_descriptor_and_cosigners(imported):
    out = ok(imported("wallet", "show", CC_NAME))
    data = json.loads(ok(imported("wallet", "show", CC_NAME, "--json")))

    assert cc_descriptor().to_string() in out
    for fpr in CC_FINGERPRINTS:
        assert fpr in out
    assert data["name"] == CC_NAME
    assert data["descriptor"] == cc_descriptor().to_string()
    assert data["policy_id"] == cc_descriptor().policy_id


def test_wallet_addresses_lists_receive_and_change_addresses(imported):
    desc = cc_descriptor()

    receive = ok(imported("wallet", "addresses", CC_NAME, "--count", "3"))
    change = ok(imported("wallet", "addresses", CC_NAME, "--count", "3", "--change"))
    change_json = json.loads(ok(imported("wallet", "addresses", CC_NAME, "--change", "--json")))

    assert [desc.address(RECEIVE, i, "testnet") in receive for i in range(4)] == [True, True, True, False]
    assert [desc.address(CHANGE, i, "testnet") in change for i in range(3)] == [True] * 3
    assert desc.address(RECEIVE, 0, "testnet") not in change
    assert [a["address"] for a in change_json] == [desc.address(CHANGE, i, "testnet") for i in range(10)]
    assert {a["branch"] for a in change_json} == {"change"}
    assert [a["index"] for a in change_json] == list(range(10))


def test_wallet_receive_hands_out_a_new_address_each_time(imported):
    desc = cc_descriptor()

    first = ok(imported("wallet", "receive", CC_NAME)).strip()
    second = json.loads(ok(imported("wallet", "receive", CC_NAME, "--json")))

    assert first == desc.address(RECEIVE, 0, "testnet")
    assert second["address"] == desc.address(RECEIVE, 1, "testnet") != first
    assert second["index"] == 1 and second["issued"] is True
    listed = json.loads(ok(imported("wallet", "addresses", CC_NAME, "--count", "3", "--json")))
    assert [a["issued"] for a in listed] == [True, True, False]
    waiting = json.loads(ok(imported("wallet", "addresses", CC_NAME, "--issued", "--json")))
    assert [a["address"] for a in waiting] == [first, second["address"]]


def test_wallet_receive_stops_at_the_gap_limit(imported):
    db = open_database(imported.database)
    wallet = wallets.get(db, CC_NAME)
    for _ in range(addresses.GAP_LIMIT):
        addresses.issue(db, wallet)
    db.close()

    fails(imported("wallet", "receive", CC_NAME), 5, "gap_limit_reached")


@pytest.mark.parametrize("fmt", ["descriptor", "coldcard", "bsms", "caravan", "specter"])
def test_an_exported_wallet_reimports_into_a_fresh_huddle_as_the_same_policy(huddle, tmp_path, imported, fmt):
    exported = tmp_path / f"export.{fmt}"
    exported.write_text(ok(imported("wallet", "export", CC_NAME, "--format", fmt)), encoding="utf-8")
    fresh = Huddle(huddle, tmp_path / "fresh")

    ok(fresh("wallet", "import", str(exported), "--name", f"from-{fmt}"))

    original = json.loads(ok(imported("wallet", "show", CC_NAME, "--json")))
    again = json.loads(ok(fresh("wallet", "show", f"from-{fmt}", "--json")))
    assert again["policy_id"] == original["policy_id"]
    assert again["descriptor"] == original["descriptor"]


def test_an_export_reimports_into_the_same_huddle_only_after_the_original_is_removed(tmp_path, imported):
    exported = tmp_path / "wallet.bsms"
    assert "Wrote" in ok(imported("wallet", "export", CC_NAME, "--format", "bsms", "-o", str(exported)))

    fails(imported("wallet", "import", str(exported), "--name", "copy"), 5, "wallet_duplicate")
    ok(imported("wallet", "remove", CC_NAME, "--yes"))
    ok(imported("wallet", "import", str(exported), "--name", "copy"))

    assert json.loads(ok(imported("wallet", "show", "copy", "--json")))["policy_id"] == cc_descriptor().policy_id


def test_wallet_export_writes_the_file_named_by_output(tmp_path, imported):
    target = tmp_path / "cc.txt"

    ok(imported("wallet", "export", CC_NAME, "--format", "coldcard", "-o", str(target)))

    assert formats.load(target.read_text(encoding="utf-8")).descriptor.policy_id == cc_descriptor().policy_id


def test_wallet_export_into_a_missing_directory_is_bad_input_not_an_internal_error(tmp_path, imported):
    fails(imported("wallet", "export", CC_NAME, "-o", str(tmp_path / "no-such-dir" / "cc.txt")), 3, "bad_input")


def test_wallet_export_as_name_writes_another_name_into_the_file(imported):
    """docs/cli.md: `--as-name` writes another name into the file (Coldcard's 20-character limit)."""
    out = ok(imported("wallet", "export", CC_NAME, "--format", "coldcard", "--as-name", "short"))

    assert formats.load(out).name == "short"


def test_wallet_remove_needs_yes(imported):
    result = imported("wallet", "remove", CC_NAME)

    assert result.returncode == 2
    assert "--yes" in result.stderr
    assert "Traceback" not in result.stderr
    ok(imported("wallet", "show", CC_NAME))  # still there


def test_wallet_remove_with_yes_forgets_the_wallet(imported):
    ok(imported("wallet", "remove", CC_NAME, "--yes"))

    assert json.loads(ok(imported("wallet", "list", "--json"))) == []
    fails(imported("wallet", "show", CC_NAME), 4, "wallet_not_found")


def test_importing_a_missing_file_is_bad_input(run, tmp_path):
    fails(run("wallet", "import", str(tmp_path / "no-such-file.txt")), 3, "bad_input")


def test_importing_a_binary_file_is_bad_input(run, tmp_path):
    binary = tmp_path / "wallet.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x01garbage" * 10)

    fails(run("wallet", "import", str(binary)), 3, "bad_input")


def test_importing_a_file_over_a_megabyte_is_bad_input(run, tmp_path):
    huge = tmp_path / "huge.txt"
    huge.write_text("# padding\n" * 120_000, encoding="utf-8")

    fails(run("wallet", "import", str(huge)), 3, "bad_input")


def test_importing_a_file_in_no_known_format_is_refused(run, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("shopping list: milk, eggs\n", encoding="utf-8")

    fails(run("wallet", "import", str(text)), 3, "unknown_format")


def test_an_unknown_wallet_exits_4(run):
    fails(run("wallet", "show", "nosuch"), 4, "wallet_not_found")
    fails(run("wallet", "receive", "nosuch"), 4, "wallet_not_found")


def test_importing_the_same_file_twice_exits_5(imported):
    fails(imported("wallet", "import", str(CC_FILE)), 5, "wallet_exists")


def test_importing_a_testnet_file_on_a_bitcoin_huddle_exits_3(huddle, tmp_path):
    on_bitcoin = Huddle(huddle, tmp_path / "main", network="bitcoin")

    fails(on_bitcoin("wallet", "import", str(EXPORTS / "caravan-2of2-p2wsh-testnet.json")), 3, "wrong_network")


# -- demo, config, storage ----------------------------------------------------------


def test_demo_walks_through_a_wallet_and_prints_its_first_receive_address(run):
    example = resources.files("coordinator.examples").joinpath("demo-2of3.txt").read_text("utf-8")
    first = formats.load(example).descriptor.address(RECEIVE, 0, "regtest")

    out = ok(run("demo", "--cli"))

    assert first in out
    assert not run.database.exists()  # the demo keeps out of the real data dir


def test_demo_spends_end_to_end_and_the_ledger_adds_up(run):
    from coordinator import demo

    out = ok(run("demo", "--cli"))
    fee = int(re.search(r"Fee 0\.(\d{8}) BTC", out).group(1))
    after = re.search(r"balance now 0\.(\d{8}) BTC \((\d+) transactions", out)
    assert int(after.group(1)) == demo.FUNDING - demo.PAYMENT - fee
    assert int(after.group(2)) == 2
    assert re.search(r"txid [0-9a-f]{64}: sent", out)
    assert "member 3 (28645006) signed 1 input(s); 0 more needed" in out


def test_config_show_never_prints_the_secret_key(run):
    secret = "k" * 48

    as_json = run("config", "show", "--json", env={"HUDDLE_SECRET_KEY": secret})
    as_text = run("config", "show", env={"HUDDLE_SECRET_KEY": secret})

    data = json.loads(ok(as_json))
    assert data["network"] == "testnet"
    assert data["data_dir"] == str(run.data_dir)
    for result in (as_json, as_text):
        assert secret not in result.stdout + result.stderr


def test_config_show_never_prints_the_generated_secret_key(run):
    out = ok(run("config", "show", "--json")) + ok(run("config", "show"))

    generated = (run.data_dir / config.SECRET_FILE).read_text(encoding="ascii").strip()
    assert len(generated) >= 32
    assert generated not in out


def test_a_bad_network_setting_exits_3(run):
    fails(run("config", "show", env={"HUDDLE_NETWORK": "moonnet"}), 3, "unknown_network")


def test_a_data_dir_that_is_a_file_is_a_storage_error_exit_6(huddle, tmp_path):
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x", encoding="utf-8")

    fails(Huddle(huddle, a_file)("wallet", "list"), 6, "database_error")


def test_a_database_path_that_is_a_directory_is_a_storage_error_exit_6(run, tmp_path):
    a_directory = tmp_path / "not-a-file"
    a_directory.mkdir()

    fails(run("wallet", "list", env={"HUDDLE_DATABASE": str(a_directory)}), 6, "database_error")


# -- help, usage and the error edge ------------------------------------------------------


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            paths += command_paths(command, prefix + (name,))
        else:
            paths.append(prefix + (name,))
    return paths


ALL_COMMANDS = command_paths(cli.main)


def test_the_command_tree_has_the_documented_commands():
    assert {" ".join(p) for p in ALL_COMMANDS} >= {
        "", "config show", "descriptor check", "demo", "wallet import", "wallet export",
        "wallet list", "wallet show", "wallet addresses", "wallet receive", "wallet remove",
    }


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda p: " ".join(p) or "huddle")
def test_every_command_has_help(run, path):
    result = run(*path, "--help")

    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_version_is_printed(run):
    assert "huddle" in ok(run("--version"))


def test_an_unknown_command_is_a_usage_error(run):
    assert run("wallet", "frobnicate").returncode == 2


def _throwaway_group(exc: BaseException) -> click.Group:
    @click.group(cls=cli.HuddleGroup)
    def group() -> None:
        pass

    @group.command("explode")
    def explode() -> None:
        raise exc

    return group


def test_an_unexpected_exception_is_one_line_and_exit_70(monkeypatch):
    monkeypatch.delenv("HUDDLE_DEBUG", raising=False)

    result = CliRunner().invoke(_throwaway_group(RuntimeError("disk on fire")), ["explode"])

    assert result.exit_code == 70
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("huddle: internal error: RuntimeError: disk on fire")


@pytest.mark.parametrize("error, exit_code", [
    (InvalidInput("bad_input", "x"), 3),
    (Unsupported("unsupported_descriptor", "x"), 3),
    (NotFound("wallet_not_found", "x"), 4),
    (Conflict("wallet_exists", "x"), 5),
    (StorageError("database_busy", "x"), 6),
])
def test_each_kind_of_error_has_its_exit_code(error, exit_code):
    result = CliRunner().invoke(_throwaway_group(error), ["explode"])

    assert result.exit_code == exit_code
    assert result.stderr.strip() == f"huddle: error: x [{error.code}]"


def test_an_interrupt_exits_130_without_a_traceback():
    result = CliRunner().invoke(_throwaway_group(KeyboardInterrupt()), ["explode"])

    assert result.exit_code == 130
    assert result.stderr.strip() == "huddle: interrupted"
