"""The agent's own device layer against one of HWI's device emulators, for those who have
one running: ``HUDDLE_HWI_EMULATOR`` names its HWI device type (``trezor`` for the Trezor
emulator on udp 21324, ``keepkey``, ``coldcard``, ``ledger`` for Speculos, ``jade``,
``bitbox02``). Without the variable these tests are deselected, never skipped
(tests/conftest.py). The emulator's seed is whatever its owner loaded: the tests read
its fingerprint and key from it and pair it with a test key from tests/keys.py.

They were written without an emulator to run them on (none can be installed on this
machine); docs/agent.md says so."""

from __future__ import annotations

import json
import os

import pytest
from embit.bip32 import HDKey
from embit.psbt import PSBT

from coordinator.hw.devices import HwiFactory
from coordinator.psbt.status import status
from coordinator.wallet.descriptor import MultisigDescriptor

from .. import keys
from ..cli.runner import Huddle, huddle, ok  # noqa: F401  (huddle is a fixture)
from ..psbt.test_checks import make

pytestmark = pytest.mark.emulator
EMULATOR = os.environ.get("HUDDLE_HWI_EMULATOR", "")


def _emulator(network: str = "testnet"):
    listing = HwiFactory(network, emulators=True).enumerate()
    found = [d for d in listing.devices if d.type == EMULATOR and d.fingerprint]
    assert len(found) == 1, f"no single {EMULATOR!r} emulator found: {listing}"
    return found[0]


@pytest.fixture
def agent(huddle, tmp_path):  # noqa: F811
    run = Huddle(huddle, tmp_path / "data")

    def call(*args, input=None):
        return run("agent", *args, input=input, env={"HUDDLE_AGENT_DIR": str(tmp_path / "agent")})
    call.tmp = tmp_path
    return call


def test_the_emulator_is_listed_only_with_the_emulators_flag(agent):
    emulator = _emulator()
    listed = json.loads(ok(agent("devices", "--network", "testnet", "--emulators", "--json")))
    assert emulator.fingerprint in [d["fingerprint"] for d in listed["devices"] if d["type"] == EMULATOR]
    plain = json.loads(ok(agent("devices", "--network", "testnet", "--json")))
    assert emulator.fingerprint not in [d["fingerprint"] for d in plain["devices"]]


def _export(agent, fingerprint: str) -> str:
    return ok(agent("xpub", "--network", "testnet", "--script-type", "wsh", "--device", fingerprint,
                    "--emulators", "--yes")).strip()


def test_the_emulator_exports_its_bip48_key_with_its_origin(agent):
    emulator = _emulator()
    key = _export(agent, emulator.fingerprint)
    origin, xpub = key[1:].split("]")
    assert origin == f"{emulator.fingerprint}/48h/1h/0h/2h"
    assert HDKey.from_string(xpub).version == HDKey.from_string(keys.xpub(1)).version  # a testnet key


@pytest.fixture
def wallet(agent):
    """A 2-of-2 of the emulator's key and test seed 1's, pinned in the agent."""
    emulator = _emulator()
    key = _export(agent, emulator.fingerprint)
    text = f"wsh(sortedmulti(2,{key}/<0;1>/*,{keys.cosigner(1).key_expression()}/<0;1>/*))"
    descriptor = MultisigDescriptor.from_string(text)
    wallet_file = agent.tmp / "emu.txt"
    wallet_file.write_text(descriptor.to_string() + "\n")
    ok(agent("pin", str(wallet_file), "--name", "emu", "--network", "testnet"))
    if EMULATOR in ("ledger", "coldcard", "jade", "bitbox02"):  # these keep (or show) the policy
        ok(agent("register", "emu", "--device", emulator.fingerprint, "--emulators"))
    return emulator, descriptor


def test_the_emulator_shows_the_wallets_first_address(agent, wallet):
    emulator, descriptor = wallet
    shown = ok(agent("show-address", "emu", "--index", "0", "--device", emulator.fingerprint, "--emulators"))
    assert shown.startswith(descriptor.address(0, 0, "testnet"))


def test_a_file_signed_by_the_emulator_carries_only_its_valid_signatures(agent, wallet):
    emulator, descriptor = wallet
    unsigned = agent.tmp / "spend.psbt"
    unsigned.write_text(make(descriptor).to_string())
    out = agent.tmp / "signed.psbt"
    ok(agent("sign", str(unsigned), "--wallet", "emu", "--device", emulator.fingerprint, "--emulators",
             "-o", str(out)))
    signed = PSBT.from_string(out.read_text().strip())
    assert [c.fingerprint for c in status(signed, descriptor).cosigners if c.done] == [emulator.fingerprint]
