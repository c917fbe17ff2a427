"""The walk-away drill (docs/walk-away.md) as a test: the group spends a coin of
its 2-of-3 wallet without Huddle.

1. Huddle's part ends at the export: the real ``huddle wallet export`` console
   script writes the descriptor text, as a group does before Huddle goes away.
2. Everything after runs in a separate Python process that imports no Huddle
   code at all (it asserts no ``coordinator`` module is loaded when it is done):
   bdkpython builds a watch-only wallet from the descriptor text and syncs it
   over the Esplora HTTP API; each of two members turns their mnemonic into a
   descriptor key with bdk itself and signs; bdk finalizes; the raw transaction
   is posted over plain HTTP (``POST /tx``).
3. The chain is Huddle's regtest sandbox (coordinator/chain/sandbox), the
   project's accepted stand-in for bitcoind + Esplora: a verifying double that
   checks every script and signature. The test funds the wallet and mines the
   confirming block through the sandbox's own HTTP endpoints.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from coordinator.chain.sandbox import Chain, serve

from . import keys

HUDDLE = Path(sys.executable).parent / "huddle"
PAYEE = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"  # BIP-173's P2WPKH program, on regtest
SIGNERS = (0, 2)  # two of the three members; member 1 is away


def spend_without_huddle(descriptor: str, url: str, mnemonics: list[str], path: str, payee: str,
                         amount: int) -> dict:
    """The drill's spending half. Runs in its own process: bdkpython and the
    standard library only."""
    import json
    import sys
    import urllib.request

    import bdkpython as bdk

    def wallet_for(text):
        # bdk takes <0;1> (BIP-389) for public keys only: with a private key in it,
        # give the receive (/0/*) and change (/1/*) descriptors separately.
        body = text.split("#")[0]  # the checksum covers the <0;1> text
        receive, change = (bdk.Descriptor(body.replace("<0;1>", branch), bdk.NetworkKind.TEST)
                           for branch in ("0", "1"))
        return bdk.Wallet(receive, change, bdk.Network.REGTEST, bdk.Persister.new_in_memory())

    bdk.Descriptor(descriptor, bdk.NetworkKind.TEST)  # the export's checksum (BIP-380) must hold
    watch = wallet_for(descriptor)
    client = bdk.EsploraClient(url)
    watch.apply_update(client.full_scan(watch.start_full_scan().build(), 20, 1))
    balance = watch.balance().total.to_sat()
    psbt = (bdk.TxBuilder().add_recipient(bdk.Address(payee, bdk.Network.REGTEST).script_pubkey(),
                                          bdk.Amount.from_sat(amount))
            .fee_rate(bdk.FeeRate.from_sat_per_vb(2)).finish(watch))
    for words in mnemonics:
        # The member's key in descriptor form, made by bdk from their 12 words.
        secret = bdk.DescriptorSecretKey(bdk.NetworkKind.TEST, bdk.Mnemonic.from_string(words), None)
        account = secret.derive(bdk.DerivationPath(path))
        xpub = str(account.as_public()).split("]")[1]
        xprv = str(account).split("]")[1]
        assert xpub in descriptor, "this member's key is not in the wallet"
        signer = wallet_for(descriptor.split("#")[0].replace(xpub, xprv))
        signer.sign(psbt)
    assert watch.finalize_psbt(psbt), "two signatures should complete the spend"
    raw = psbt.extract_tx().serialize()
    request = urllib.request.Request(f"{url}/tx", data=bytes(raw).hex().encode(), method="POST")
    with urllib.request.urlopen(request) as answer:
        txid = answer.read().decode()
    return {"balance": balance, "txid": txid, "huddle_loaded": sorted(
        m for m in sys.modules if m == "coordinator" or m.startswith("coordinator."))}


def run_drill(descriptor: str, url: str, mnemonics: list[str], path: str, amount: int) -> dict:
    source = textwrap.dedent(inspect.getsource(spend_without_huddle))
    call = f"print(json.dumps(spend_without_huddle(*json.loads(sys.stdin.read()))))"
    script = f"import json, sys\n{source}\n{call}\n"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-I", "-c", script], input=json.dumps(
        [descriptor, url, mnemonics, path, PAYEE, amount]), capture_output=True, text=True, timeout=120,
        cwd="/", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def http(url: str, path: str, body: dict | None = None) -> object:
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        text = answer.read().decode()
    return json.loads(text) if text[:1] in "{[" else text


def huddle(data_dir: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
    env.update(HUDDLE_DATA=str(data_dir), HUDDLE_NETWORK="regtest")
    done = subprocess.run([str(HUDDLE), *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
def test_the_group_spends_a_coin_with_no_huddle_code_on_the_spending_path(tmp_path, script_type):
    wallet = keys.descriptor(2, 3, True, script_type)
    wallet_file = tmp_path / "wallet.txt"
    wallet_file.write_text(wallet.to_string())
    huddle(tmp_path / "data", "wallet", "import", str(wallet_file), "--name", "Family vault")
    exported = huddle(tmp_path / "data", "wallet", "export", "Family vault").strip()
    assert exported.startswith(("wsh(sortedmulti(2,", "sh(wsh(sortedmulti(2,")) and "#" in exported

    with serve(Chain()) as sandbox:
        first = wallet.address(0, 0, "regtest")
        http(sandbox.url, "/sandbox/faucet", {"address": first, "amount": 100_000, "confirm": True})
        result = run_drill(exported, sandbox.url, [keys.MNEMONICS[i] for i in SIGNERS],
                           keys.path(True, script_type), 60_000)
        assert result["balance"] == 100_000
        assert result["huddle_loaded"] == []
        http(sandbox.url, "/sandbox/mine", {"blocks": 1})
        status = http(sandbox.url, f"/tx/{result['txid']}/status")
        paid = http(sandbox.url, f"/tx/{result['txid']}")

    assert status["confirmed"] is True
    assert any(out["scriptpubkey_address"] == PAYEE and out["value"] == 60_000 for out in paid["vout"])
