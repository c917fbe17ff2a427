"""Our addresses match an independent implementation (bdkpython, Rust
rust-miniscript underneath) for 2-of-3 and 3-of-5, both script types, on
mainnet and regtest, for the first 50 receive and 50 change indexes."""

from __future__ import annotations

import bdkpython as bdk
import pytest

from coordinator.wallet.descriptor import CHANGE, RECEIVE, MultisigDescriptor
from tests import keys

COUNT = 50
BDK_NETWORK = {"bitcoin": bdk.Network.BITCOIN, "regtest": bdk.Network.REGTEST}
BDK_KIND = {"bitcoin": bdk.NetworkKind.MAIN, "regtest": bdk.NetworkKind.TEST}


@pytest.mark.parametrize("network", ["bitcoin", "regtest"])
@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
@pytest.mark.parametrize("m, n", [(2, 3), (3, 5)], ids=["2of3", "3of5"])
@pytest.mark.parametrize("branch", [RECEIVE, CHANGE], ids=["receive", "change"])
def test_addresses_match_bdk(m, n, script_type, network, branch):
    desc = keys.descriptor(m, n, is_test=network != "bitcoin", script_type=script_type)
    theirs = bdk.Descriptor(desc.to_string(branch=branch), BDK_KIND[network])

    ours = [desc.address(branch, i, network) for i in range(COUNT)]
    expected = [str(theirs.derive_address(i, BDK_NETWORK[network])) for i in range(COUNT)]

    assert ours == expected
    assert len(set(ours)) == COUNT
    prefix = {("wsh", "bitcoin"): "bc1q", ("wsh", "regtest"): "bcrt1q",
              ("sh-wsh", "bitcoin"): "3", ("sh-wsh", "regtest"): "2"}[script_type, network]
    assert all(a.startswith(prefix) for a in ours)


@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
def test_script_pubkeys_match_bdk(script_type):
    desc = keys.descriptor(2, 3, is_test=True, script_type=script_type)
    theirs = bdk.Descriptor(desc.to_string(branch=RECEIVE), bdk.NetworkKind.TEST)
    for i in range(5):
        spk = theirs.derive_address(i, bdk.Network.REGTEST).script_pubkey().to_bytes()
        assert desc.script_pubkey(RECEIVE, i).data == bytes(spk)


def test_receive_and_change_branches_differ():
    desc = keys.descriptor(2, 3)
    receive = {desc.address(RECEIVE, i, "regtest") for i in range(COUNT)}
    change = {desc.address(CHANGE, i, "regtest") for i in range(COUNT)}
    assert not receive & change


def test_bsms_record_first_address_matches(vectors_dir):
    lines = (vectors_dir / "wallet_exports" / "bsms-2of2-p2wsh.bsms").read_text().splitlines()
    assert lines[0] == "BSMS 1.0"
    assert lines[2] == "/0/*,/1/*"
    desc = MultisigDescriptor.from_string(lines[1])
    assert (desc.script_type, desc.threshold, desc.n) == ("wsh", 2, 2)
    assert desc.address(RECEIVE, 0, "bitcoin") == lines[3].strip()
