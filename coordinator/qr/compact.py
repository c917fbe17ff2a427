"""A compact PSBT for the signers documented not to use one of its fields (issue 13).

One field goes, and only from a segwit v0 script-hash input (P2WSH, P2SH-P2WSH)
that also carries a ``witness_utxo``: the input's ``non_witness_utxo``, the whole
transaction that made the coin (usually most of a multisig PSBT's bytes). The
devices in ``COMPACT`` read an input's amount and script from ``witness_utxo``
whenever it is present, and never compare it with ``non_witness_utxo``; so to
them the field is dead weight: it is no defence against the segwit fee attack
(BIP-174, footnote 7) they do not run, and without it they check and sign
exactly the same. A device that does use it (Keystone compares the two,
Coldcard and Passport check its txid) is not listed, and neither is any device
whose source we have not read: they get the full PSBT, the default.

Huddle itself keeps and checks the full PSBT. What a device signs from the
compact one comes back through the verified merge against the stored PSBT
(psbt/merge.py), which computes every sighash from the stored, checked inputs
and takes only signatures; the compact copy is only ever shown, never stored.
Before a field is dropped, it is checked against ``witness_utxo`` (txid and
output), so a compact PSBT never hides a disagreement the full one holds.
"""

from __future__ import annotations

from embit import script
from embit.psbt import PSBT, InputScope

from ..errors import InvalidInput
from ..psbt import codec
from .errors import BadPart

# device kind -> where its source shows that it reads witness_utxo first and
# ignores non_witness_utxo for segwit inputs (docs/qr.md, "Device profiles").
COMPACT: dict[str, str] = {
    "seedsigner": "SeedSigner psbt_parser.py _parse_inputs reads witness_utxo first, signs with embit "
                  "PSBT.sign_with, whose sighash uses InputScope.utxo (witness_utxo first); PSBT.verify() "
                  "is never called (SeedSigner/seedsigner@8cd8a5b, diybitcoinhardware/embit@9d59774)",
    "krux": "Krux psbt.py reads witness_utxo first (get_policy_from_psbt_input, outputs) and signs with "
            "embit PSBT.sign_with; PSBT.verify() is never called (selfcustody/krux@6a7a357)",
    "jade": "Jade sign_psbt.c takes each input's amount and script from libwally's "
            "wally_psbt_get_input_best_utxo, which returns witness_utxo when present "
            "(Blockstream/Jade@cfce08c main/process/sign_psbt.c; libwally include/wally_psbt_members.h)",
}


def require_documented(device: str) -> str:
    """``device``, if it is documented to sign without non_witness_utxo; else ``qr_compact_undocumented``."""
    if device not in COMPACT:
        shown = device if len(device) <= 40 else device[:40] + "..."
        raise BadPart("qr_compact_undocumented",
                      f"no compact PSBT for {shown!r}: only {', '.join(sorted(COMPACT))} are documented "
                      "to sign without non_witness_utxo; other devices get the full PSBT")
    return device


def compact_psbt(psbt: PSBT, device: str) -> codec.Psbt:
    """A copy of ``psbt`` without the ``non_witness_utxo`` of its segwit v0 inputs, for ``device``."""
    require_documented(device)
    result = codec.copy(psbt)
    for i, scope in enumerate(result.inputs):
        if scope.non_witness_utxo is not None and _segwit_v0_script_hash(scope):
            _check_same_coin(scope, i)
            scope.non_witness_utxo = None
    return result


def _segwit_v0_script_hash(scope: InputScope) -> bool:
    """P2WSH or P2SH-P2WSH, as its witness_utxo and scripts show; anything else keeps its field."""
    if scope.witness_utxo is None or scope.witness_script is None:
        return False
    spk = scope.witness_utxo.script_pubkey.data
    wsh = script.p2wsh(scope.witness_script)
    if spk == wsh.data:
        return True
    return scope.redeem_script is not None and scope.redeem_script.data == wsh.data \
        and spk == script.p2sh(scope.redeem_script).data


def _check_same_coin(scope: InputScope, i: int) -> None:
    """The field goes only if it says what witness_utxo says (the segwit fee attack, BIP-174)."""
    tx = scope.non_witness_utxo
    if tx.txid() != scope.txid or scope.vout >= len(tx.vout) \
            or tx.vout[scope.vout].serialize() != scope.witness_utxo.serialize():
        raise InvalidInput("utxo_mismatch", f"input {i}: witness_utxo disagrees with non_witness_utxo; "
                           "no compact PSBT is made from it")
