"""``huddle agent`` through the real ``huddle`` script, with the software device injected
(HUDDLE_AGENT_TEST_DEVICES, honoured only for a module in this checkout's tests/)."""

from __future__ import annotations

import json
import stat

import pytest
from embit.psbt import PSBT

from coordinator.psbt.status import status

from .. import keys
from ..cli.runner import ERROR_LINE, Huddle, fails, huddle, ok  # noqa: F401  (huddle is a fixture)
from ..psbt.test_checks import make, pay_less

DESC = keys.descriptor(2, 3)


@pytest.fixture
def agent(huddle, tmp_path):  # noqa: F811
    log = tmp_path / "device-calls.log"
    log.touch()
    env = {"HUDDLE_AGENT_DIR": str(tmp_path / "agent"), "HUDDLE_AGENT_TEST_LOG": str(log),
           "HUDDLE_AGENT_TEST_DEVICES": "tests.hw.software_device:from_env", "HUDDLE_AGENT_TEST_SEEDS": "0,1"}
    run = Huddle(huddle, tmp_path / "data")

    def call(*args, input=None, **extra):  # extra: more environment variables
        return run(*args, input=input, env={**env, **extra})
    call.log, call.tmp = log, tmp_path
    return call


@pytest.fixture
def pinned(agent):
    wallet_file = agent.tmp / "family.txt"
    wallet_file.write_text(DESC.to_string() + "\n")
    out = ok(agent("agent", "pin", str(wallet_file), "--name", "family", "--network", "testnet"))
    assert "Pinned 'family': 2-of-3 wsh on testnet" in out and DESC.address(0, 0, "testnet") in out
    return agent


def psbt_file(agent, psbt, name="spend.psbt"):
    path = agent.tmp / name
    path.write_text(psbt.to_string())
    return str(path)


def test_pinning_writes_a_private_file_and_lists_the_wallet(pinned):
    files = list((pinned.tmp / "agent" / "wallets").glob("*.json"))
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert ok(pinned("agent", "wallets")).startswith(f"family  2-of-3 wsh  testnet  policy {DESC.policy_id}")


def test_a_descriptor_file_without_a_network_needs_one(agent):
    wallet_file = agent.tmp / "w.txt"
    wallet_file.write_text(DESC.to_string())
    fails(agent("agent", "pin", str(wallet_file), "--name", "w"), 3, "usage")


def test_devices_are_listed_by_fingerprint(agent):
    out = ok(agent("agent", "devices"))
    assert out.splitlines() == [f"{keys.fingerprint(0)}  software_test_only  ready",
                                f"{keys.fingerprint(1)}  software_test_only  ready"]


def test_a_psbt_file_is_signed_by_the_chosen_device(pinned):
    out_path = pinned.tmp / "signed.psbt"
    result = pinned("agent", "sign", psbt_file(pinned, make(DESC)), "--wallet", "family",
                    "--device", keys.fingerprint(1), "-o", str(out_path))

    ok(result)
    assert "Pay 0.07000000 BTC to" in result.stderr and f"Signed 2 input(s) with {keys.fingerprint(1)}" in result.stderr
    signed = PSBT.from_string(out_path.read_text().strip())
    assert [c.fingerprint for c in status(signed, DESC).cosigners if c.done] == [keys.fingerprint(1)]
    assert pinned.log.read_text().splitlines() == [f"{keys.fingerprint(1)} sign_tx", f"{keys.fingerprint(1)} close"]


def test_a_tampered_psbt_file_is_refused_and_no_device_is_touched(pinned):
    psbt = make(DESC)
    pay_less(1_500_000)(psbt, DESC)
    fails(pinned("agent", "sign", psbt_file(pinned, psbt), "--wallet", "family", "--device", keys.fingerprint(0)),
          3, "fee_too_high")
    assert pinned.log.read_text() == ""


def test_a_psbt_for_an_unpinned_wallet_is_refused(pinned):
    fails(pinned("agent", "sign", psbt_file(pinned, make(DESC)), "--wallet", "savings"), 4, "wallet_not_pinned")
    assert pinned.log.read_text() == ""


def test_a_lying_device_is_caught_and_nothing_is_written(pinned):
    out_path = pinned.tmp / "signed.psbt"
    result = pinned("agent", "sign", psbt_file(pinned, make(DESC)), "--wallet", "family", "--device",
                    keys.fingerprint(0), "-o", str(out_path), HUDDLE_AGENT_TEST_TAMPER="extra_field")

    # the summary was shown before the device was asked; then the one error line
    review, error = result.stderr.splitlines()[:-1], result.stderr.splitlines()[-1]
    assert result.returncode == 3 and review[0].startswith("Check these on the device's screen")
    assert ERROR_LINE.match(error)["code"] == "device_changed_psbt"
    assert not out_path.exists()


def test_a_ledger_registers_the_wallet_once_and_signs_with_the_stored_hmac(pinned):
    ledger = {"HUDDLE_AGENT_TEST_SEEDS": "", "HUDDLE_AGENT_TEST_LEDGERS": "2"}
    for salt in (b"first", b"second"):
        result = pinned("agent", "sign", psbt_file(pinned, make(DESC, salt=salt)), "--wallet", "family", **ledger)
        signed = PSBT.from_string(ok(result).strip())
        assert [c.fingerprint for c in status(signed, DESC).cosigners if c.done] == [keys.fingerprint(2)]

    assert pinned.log.read_text().splitlines() == [f"{keys.fingerprint(2)} {call}" for call in
                                                   ("register_wallet", "sign_psbt", "sign_psbt")]
    assert len(list((pinned.tmp / "agent" / "ledger").glob("*.json"))) == 1


def test_a_wallet_pinned_under_a_new_name_is_registered_on_the_ledger_only_knowingly(pinned):
    ledger = {"HUDDLE_AGENT_TEST_SEEDS": "", "HUDDLE_AGENT_TEST_LEDGERS": "2"}
    ok(pinned("agent", "sign", psbt_file(pinned, make(DESC)), "--wallet", "family", **ledger))
    ok(pinned("agent", "pin", str(pinned.tmp / "family.txt"), "--name", "savings", "--network", "testnet"))

    fails(pinned("agent", "sign", psbt_file(pinned, make(DESC)), "--wallet", "savings", **ledger),
          5, "ledger_policy_renamed")
    ok(pinned("agent", "sign", psbt_file(pinned, make(DESC)), "--wallet", "savings", "--register-renamed", **ledger))

    registered = [line for line in pinned.log.read_text().splitlines() if line.endswith("register_wallet")]
    assert len(registered) == 2


def test_an_address_is_shown_on_the_device_and_checked(pinned):
    out = ok(pinned("agent", "show-address", "family", "--index", "3", "--change", "--device", keys.fingerprint(0)))
    assert out.startswith(DESC.address(1, 3, "testnet") + "  (change 3;")
    assert pinned.log.read_text().splitlines()[0] == f"{keys.fingerprint(0)} display_multisig_address"


def test_a_ledger_shows_an_address_of_the_registered_wallet(pinned):
    out = ok(pinned("agent", "show-address", "family", "--index", "0",
                    HUDDLE_AGENT_TEST_SEEDS="", HUDDLE_AGENT_TEST_LEDGERS="2"))
    assert out.startswith(DESC.address(0, 0, "testnet"))
    assert pinned.log.read_text().splitlines() == [f"{keys.fingerprint(2)} {call}"
                                                   for call in ("register_wallet", "get_wallet_address")]


def test_an_address_beyond_the_gap_limit_is_refused_before_the_device(pinned):
    fails(pinned("agent", "show-address", "family", "--index", "20", "--device", keys.fingerprint(0)),
          5, "gap_limit_reached")
    assert pinned.log.read_text() == ""


@pytest.mark.parametrize("spec", ["os.path:join", "tests.hw.nothing_here:from_env", "tests.hw.software_device:x y"])
def test_the_test_device_hook_takes_only_a_module_in_tests(agent, spec):
    fails(agent("agent", "devices", HUDDLE_AGENT_TEST_DEVICES=spec), 3, "bad_config")


def test_doctor_says_what_is_missing(agent):
    result = agent("agent", "doctor")
    lines = result.stdout.splitlines()
    assert lines[0].split()[1:2] == ["Python:"] and "HWI: 3.2" in lines[1]
    missing = [line for line in lines if line.startswith("MISSING")]
    if missing:
        fails(result, 7, "agent_not_ready")
    else:
        ok(result)


def test_the_devices_bip48_key_is_exported_with_its_origin_after_confirmation(agent):
    result = agent("agent", "xpub", "--network", "testnet", "--device", keys.fingerprint(1), input="y\n")
    assert ok(result).strip() == keys.cosigner(1).key_expression()
    assert "Export the key of device" in result.stderr
    assert pinned_calls(agent) == [f"{keys.fingerprint(1)} get_pubkey_at_path", f"{keys.fingerprint(1)} close"]


def test_a_key_is_not_exported_when_the_user_says_no(agent):
    result = agent("agent", "xpub", "--network", "testnet", "--device", keys.fingerprint(1), input="n\n")
    assert result.returncode == 5 and result.stdout == ""
    # the prompt's answer is not echoed from a pipe, so the error line follows the prompt
    assert result.stderr.rstrip("\n").endswith("huddle: error: not exported: declined at the terminal [device_declined]")
    assert f"{keys.fingerprint(1)} get_pubkey_at_path" not in pinned_calls(agent)


def test_a_nested_segwit_key_for_bitcoin_uses_its_own_path(agent):
    out = ok(agent("agent", "xpub", "--network", "bitcoin", "--script-type", "sh-wsh", "--yes",
                   "--device", keys.fingerprint(0), HUDDLE_AGENT_TEST_CHAIN="main"))
    assert out.strip() == keys.cosigner(0, is_test=False, script_type="sh-wsh").key_expression()


def pinned_calls(agent) -> list[str]:
    return agent.log.read_text().splitlines()


def test_a_wallet_is_registered_on_a_coldcard_and_a_ledger(pinned):
    coldcard = ok(pinned("agent", "register", "family", HUDDLE_AGENT_TEST_SEEDS="", HUDDLE_AGENT_TEST_COLDCARDS="1"))
    ledger = ok(pinned("agent", "register", "family", HUDDLE_AGENT_TEST_SEEDS="", HUDDLE_AGENT_TEST_LEDGERS="2"))

    assert coldcard.startswith("Coldcard: the wallet file was sent; approve it on the device")
    assert ledger.splitlines() == ["Ledger: the wallet policy is registered and its HMAC stored",
                                   f"First receive address, as the device shows it: {DESC.address(0, 0, 'testnet')}"]


def test_signing_with_a_rewritten_audit_history_is_refused_before_the_device(pinned):
    from .test_heads import build, exported
    from coordinator.hw.pinned import PinStore

    wallet = PinStore(pinned.tmp / "agent").get("family")
    chain_file = pinned.tmp / "chain.jsonl"
    seen = build(wallet, [("member_joined", {"user": 2})])
    chain_file.write_text("\n".join(json.dumps(e) for e in exported(seen)))
    ok(pinned("agent", "sign", psbt_file(pinned, make(DESC)), "--wallet", "family", "--device", keys.fingerprint(0),
              "--audit", str(chain_file)))
    calls = pinned.log.read_text()

    rewritten = build(wallet, [("member_joined", {"user": 9}), ("approval_added", {"member": 9})])
    chain_file.write_text("\n".join(json.dumps(e) for e in exported(rewritten)))
    line = fails(pinned("agent", "sign", psbt_file(pinned, make(DESC, salt=b"again")), "--wallet", "family",
                        "--device", keys.fingerprint(0), "--audit", str(chain_file)), 5, "history_rewritten")
    assert "HISTORY CHANGED" in line and pinned.log.read_text() == calls
