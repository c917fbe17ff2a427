"""The demo device is fenced off: the agent uses it only when asked for by name, only on
regtest, and it holds exactly the public test mnemonics the test suite uses."""

from __future__ import annotations

import base64
import os
import subprocess

import pytest
from hwilib.psbt import PSBT as HwiPSBT

from coordinator.demo import flow, people
from coordinator.errors import InvalidInput
from coordinator.hw import devices
from coordinator.hw.demo_device import LABEL, DemoFactory
from coordinator.hw.injection import DEMO_ENV, factory

from .. import keys
from ..cli.runner import HUDDLE


def test_the_demo_keys_are_the_public_test_mnemonics():
    assert list(people.MNEMONICS.values()) == list(keys.MNEMONICS[:3])
    assert people.LABEL == LABEL == "DEMO: keys are not secret" and "DEMO" in people.WALLET


def test_the_agent_uses_the_demo_device_only_when_named_and_never_by_default():
    assert flow.DEMO_ENV == DEMO_ENV  # what huddle demo sets is what the agent reads
    assert isinstance(factory("regtest", env={}), devices.HwiFactory)
    listed = factory("regtest", env={DEMO_ENV: "Bob"}).enumerate().devices
    assert [(d.type, d.model, d.fingerprint) for d in listed] == [(LABEL, LABEL, keys.root(1).my_fingerprint.hex())]


@pytest.mark.parametrize("network", ["bitcoin", "testnet", "testnet4", "signet"])
def test_the_demo_device_is_refused_off_regtest(network):
    with pytest.raises(InvalidInput) as refused:
        factory(network, env={DEMO_ENV: "Ada"})
    assert refused.value.code == "bad_config" and "regtest only" in refused.value.message


def test_an_unknown_demo_member_is_refused():
    with pytest.raises(InvalidInput) as refused:
        DemoFactory("Mallory", "regtest")
    assert refused.value.code == "bad_config"


def test_huddle_agent_refuses_to_export_a_demo_key_for_a_real_network(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
    env.update({DEMO_ENV: "Ada", "HUDDLE_AGENT_DIR": str(tmp_path / "agent"), "HUDDLE_DATA": str(tmp_path / "d")})
    run = lambda network: subprocess.run([str(HUDDLE), "agent", "xpub", "--network", network, "--yes"],  # noqa: E731
                                         env=env, capture_output=True, text=True, timeout=60)
    refused = run("bitcoin")
    assert refused.returncode != 0 and "[bad_config]" in refused.stderr and refused.stdout == ""
    exported = run("regtest")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.strip() == keys.cosigner(0, True, "wsh").key_expression()  # Ada: seed 0, BIP-48 wsh


def test_the_demo_device_signs_only_with_its_own_key():
    device = DemoFactory("Carol", "regtest").device
    from ..psbt.test_checks import make

    descriptor = keys.descriptor(2, 3, True, "wsh")
    unsigned = HwiPSBT()
    unsigned.deserialize(base64.b64encode(make(descriptor).serialize()).decode())
    signed = device.sign_tx(unsigned)
    mine = keys.root(2).my_fingerprint
    for scope in signed.inputs:
        assert len(scope.partial_sigs) == 1
        (pub,) = scope.partial_sigs
        assert scope.hd_keypaths[pub].fingerprint == mine
