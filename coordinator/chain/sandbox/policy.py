"""Bitcoin Core's rejection vocabulary and standardness rules, as the sandbox uses them.

``Rejected`` carries what ``sendrawtransaction`` would answer: the RPC error
code (-22 decode, -25 missing inputs, -26 rejected, -27 already in the UTXO
set) and the message, which is Core's ``TxValidationState::ToString()``
(``reason`` or ``reason, debug``).
"""

from __future__ import annotations

from .tx import DecodeError, Tx, TxOut, iter_script

COIN = 100_000_000
MAX_MONEY = 21_000_000 * COIN
COINBASE_MATURITY = 100
MIN_RELAY_SAT_PER_KVB = 1_000  # -minrelaytxfee
INCREMENTAL_SAT_PER_KVB = 1_000  # -incrementalrelayfee
DUST_SAT_PER_KVB = 3_000  # -dustrelayfee
MAX_FEE_SAT_PER_KVB = 10_000_000  # sendrawtransaction's default maxfeerate, 0.10 BTC/kvB
MAX_STANDARD_WEIGHT = 400_000
MAX_ANCESTORS = 25
MAX_REPLACEMENTS = 100
MAX_OP_RETURN = 83
LOCKTIME_THRESHOLD = 500_000_000
DECODE_FAILED = "TX decode failed. Make sure the tx has at least one input."
FEE_TOO_HIGH = "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)"
ALREADY_IN_UTXO_SET = "Transaction outputs already in utxo set"


class Rejected(Exception):
    """The sandbox refused a transaction, in Core's words."""

    def __init__(self, reason: str, debug: str = "", code: int = -26) -> None:
        self.reason = reason
        self.debug = debug
        self.code = code
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.reason}, {self.debug}" if self.debug else self.reason


def format_money(sats: int) -> str:
    """Core's FormatMoney: BTC with trailing zeros trimmed to two decimals."""
    text = f"{abs(sats) // COIN}.{abs(sats) % COIN:08d}"
    while text.endswith("0") and text[-3] != ".":
        text = text[:-1]
    return ("-" if sats < 0 else "") + text


def format_feerate(sat_per_kvb: int) -> str:
    """Core's CFeeRate::ToString (BTC/kvB)."""
    return f"{sat_per_kvb // COIN}.{sat_per_kvb % COIN:08d} BTC/kvB"


def fee_for(sat_per_kvb: int, vsize: int) -> int:
    """Core's CFeeRate::GetFee (rounded up)."""
    return -(-sat_per_kvb * vsize // 1000)


def output_type(spk: bytes) -> str:
    """Esplora's scriptpubkey_type names."""
    n = len(spk)
    if n == 25 and spk[:3] == b"\x76\xa9\x14" and spk[23:] == b"\x88\xac":
        return "p2pkh"
    if n == 23 and spk[:2] == b"\xa9\x14" and spk[22] == 0x87:
        return "p2sh"
    if n == 22 and spk[:2] == b"\x00\x14":
        return "v0_p2wpkh"
    if n == 34 and spk[:2] == b"\x00\x20":
        return "v0_p2wsh"
    if n == 34 and spk[:2] == b"\x51\x20":
        return "v1_p2tr"
    if n and spk[0] == 0x6A:
        return "op_return"
    if n in (35, 67) and spk[-1] == 0xAC and spk[0] == n - 2:
        return "p2pk"
    if n == 0:
        return "empty"
    return "unknown"


def dust_threshold(out: TxOut) -> int:
    """Core's GetDustThreshold at the default -dustrelayfee."""
    kind = output_type(out.script_pubkey)
    if kind == "op_return":
        return 0
    size = 8 + 1 + len(out.script_pubkey)
    size += 32 + 4 + 1 + 107 // 4 + 4 if kind.startswith(("v0_", "v1_")) else 32 + 4 + 1 + 107 + 4
    return DUST_SAT_PER_KVB * size // 1000


def check_transaction(tx: Tx) -> None:
    """Core's CheckTransaction (context-free consensus checks)."""
    if not tx.vin:
        raise Rejected("bad-txns-vin-empty")
    if not tx.vout:
        raise Rejected("bad-txns-vout-empty")
    if len(tx.serialize(witness=False)) * 4 > 4_000_000:
        raise Rejected("bad-txns-oversize")
    total = 0
    for out in tx.vout:
        if out.value < 0:
            raise Rejected("bad-txns-vout-negative")
        if out.value > MAX_MONEY:
            raise Rejected("bad-txns-vout-toolarge")
        total += out.value
        if total > MAX_MONEY:
            raise Rejected("bad-txns-txouttotal-toolarge")
    if len({i.outpoint for i in tx.vin}) != len(tx.vin):
        raise Rejected("bad-txns-inputs-duplicate")
    if tx.is_coinbase():
        raise Rejected("coinbase")
    if any(i.is_null() for i in tx.vin):
        raise Rejected("bad-txns-prevout-null")


def check_standard(tx: Tx) -> None:
    """Core's IsStandardTx, for the output types the sandbox knows."""
    if not 1 <= tx.version <= 3:
        raise Rejected("version", code=-26)
    if tx.weight > MAX_STANDARD_WEIGHT:
        raise Rejected("tx-size")
    for txin in tx.vin:
        if len(txin.script_sig) > 1650:
            raise Rejected("scriptsig-size")
        if any(b > 0x60 for b in _opcodes(txin.script_sig)):
            raise Rejected("scriptsig-not-pushonly")
    data_outputs = 0
    for out in tx.vout:
        kind = output_type(out.script_pubkey)
        if kind in ("unknown", "empty") or (kind == "op_return" and len(out.script_pubkey) > MAX_OP_RETURN):
            raise Rejected("scriptpubkey")
        if kind == "op_return":
            data_outputs += 1
        elif out.value < dust_threshold(out):
            raise Rejected("dust")
    if data_outputs > 1:
        raise Rejected("multi-op-return")
    if len(tx.serialize(witness=False)) < 65:
        raise Rejected("tx-size-small")


def _opcodes(script: bytes):
    try:
        for op, data in iter_script(script):
            yield 0 if data is not None else op
    except DecodeError:
        yield 0xFF
