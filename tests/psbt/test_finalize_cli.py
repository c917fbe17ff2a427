"""Issue 8: ``huddle psbt finalize`` proves every amount it signs over: a PSBT
without ``non_witness_utxo`` is ``missing_utxo``, unless the stored wallet's
synced coins prove it; a PSBT already final says so; and ``inspect`` judges
nLockTime against a stored wallet's synced tip."""

from __future__ import annotations

from embit.transaction import Transaction

from coordinator.chain.sandbox import faucet
from coordinator.psbt import codec
from coordinator.psbt.finalize import finalize
from coordinator.psbt.merge import merge
from coordinator.psbt.model import Recipient, Utxo
from coordinator.psbt.spend import plan_spend
from tests.chain.walletenv import raw_of
from tests.cli.runner import fails, huddle, ok  # noqa: F401 (fixtures)
from tests.cli.test_chain_cli import DESC, run, sandbox  # noqa: F401 (fixtures)

from . import chain as signing

PAYEE = "bcrt1qyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zs4w3j0"


def _signed(chain):
    """A 2-of-3 spend of a sandbox coin, signed by two cosigners."""
    txid = faucet.pay(chain, DESC.script_pubkey(0, 0).data, 200_000, True)
    prev = raw_of(chain, txid)
    vout = next(i for i, o in enumerate(Transaction.parse(prev).vout)
                if o.script_pubkey.data == DESC.script_pubkey(0, 0).data)
    spend = plan_spend(DESC, "regtest", [Utxo.from_prev_tx(prev, vout, 0, 0)],
                       [Recipient(PAYEE, 100_000)], 2_000, 0, chain.height)
    stored = spend.psbt
    for signer in (0, 2):
        stored = merge(stored, signing.sign(spend.psbt, [signer]).serialize(), DESC).psbt
    return stored


def test_finalize_proves_amounts_from_the_synced_coins_or_refuses(run, sandbox, tmp_path):
    stripped = codec.copy(_signed(sandbox.chain))
    for scope in stripped.inputs:
        scope.non_witness_utxo = None
    (tmp_path / "signed.psbt").write_text(codec.to_base64(stripped))
    fails(run("psbt", "finalize", str(tmp_path / "signed.psbt"), "--wallet", DESC.to_string()), 3,
          "missing_utxo")  # descriptor text: no synced coins to prove the amount
    fails(run("psbt", "finalize", str(tmp_path / "signed.psbt"), "--wallet", "group"), 3,
          "missing_utxo")  # not synced yet
    ok(run("wallet", "sync", "group"))
    raw = ok(run("psbt", "finalize", str(tmp_path / "signed.psbt"), "--wallet", "group")).strip()
    (tmp_path / "tx.hex").write_text(raw)
    assert ok(run("tx", "broadcast", str(tmp_path / "tx.hex"))).strip() in sandbox.chain.mempool


def test_finalize_of_a_final_psbt_says_it_is_already_final(run, sandbox, tmp_path):
    (tmp_path / "final.psbt").write_text(codec.to_base64(finalize(_signed(sandbox.chain), DESC).psbt))
    line = fails(run("psbt", "finalize", str(tmp_path / "final.psbt"), "--wallet", DESC.to_string()), 5,
                 "already_final")
    assert "already final" in line


def test_inspect_refuses_a_locktime_far_above_the_synced_tip(run, sandbox, tmp_path):
    ok(run("wallet", "sync", "group"))
    late = codec.copy(_signed(sandbox.chain))
    late.locktime = sandbox.chain.height + 1_000
    (tmp_path / "late.psbt").write_text(codec.to_base64(late))
    ok(run("psbt", "inspect", str(tmp_path / "late.psbt"), "--wallet", DESC.to_string()))  # no tip: shown
    fails(run("psbt", "inspect", str(tmp_path / "late.psbt"), "--wallet", "group"), 3, "locktime_in_future")
