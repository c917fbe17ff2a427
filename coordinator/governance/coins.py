"""The wallet's coins as the group sees them, for coin control (docs/errors-coins.md):
each synced unspent output with its value, confirmations, address and derivation, its
BIP-329 label, the proposal that holds it, if any, and whether it is frozen and why.

And the check of the coins a member chooses for a spend: each must be a well-formed
outpoint of an unspent coin of this wallet that no other proposal family holds, that
is not frozen and, if a coinbase, is mature, else a code says which coin and why
(coin_errors.py). The PSBT engine then spends exactly those coins (psbt/spend.py
``coins``). Without a choice it chooses among ``selectable`` ones only. Everything is
read from the last sync, the locks and the labels; nothing here is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from sqlite_utils import Database

from ..errors import Conflict, InvalidInput
from ..psbt import sizes
from ..chain.model import COINBASE_MATURITY, WalletUtxo
from ..psbt.model import Utxo, parse_tx
from ..store import chain as chain_store
from ..store.wallets import Wallet
from ..wallet.descriptor import CHANGE
from . import coin_errors, ledger  # noqa: F401  (coin_errors registers the codes)
from .coin_freeze import Freeze, frozen

BRANCH_NAMES = {0: "receive", 1: "change"}
_OUTPOINT = re.compile(r"([0-9a-fA-F]{64}):(0|[1-9][0-9]{0,9})")
Outpoint = tuple[str, int]


@dataclass(frozen=True)
class Coin:
    txid: str
    vout: int
    value: int  # sats
    height: int | None  # None while unconfirmed
    confirmations: int
    branch: int
    index: int
    address: str
    coinbase: bool = False
    mature: bool = True
    label: str | None = None
    label_from: str | None = None  # the BIP-329 type it came from: output, addr or tx
    locked: bool = False
    locked_by: int | None = None  # the newest live proposal of the family that holds it
    frozen: Freeze | None = None

    @property
    def outpoint(self) -> str:
        return f"{self.txid}:{self.vout}"

    @property
    def confirmations_needed(self) -> int:
        """Confirmations still missing before a coinbase may be spent (0 for any other coin)."""
        return 0 if self.mature else COINBASE_MATURITY - self.confirmations

    @property
    def selectable(self) -> bool:
        return not (self.locked or self.frozen or not self.mature)

    def to_dict(self) -> dict:
        f = self.frozen
        return {"outpoint": self.outpoint, "txid": self.txid, "vout": self.vout, "value": self.value,
                "height": self.height, "confirmations": self.confirmations, "address": self.address,
                "branch": BRANCH_NAMES[self.branch], "index": self.index, "coinbase": self.coinbase,
                "mature": self.mature, "confirmations_needed": self.confirmations_needed,
                "label": self.label, "label_from": self.label_from,
                "locked": self.locked, "locked_by": self.locked_by, "frozen": f is not None,
                "frozen_via": f and f.via, "frozen_by": f and f.by, "frozen_by_name": f and f.by_name,
                "frozen_at": f and f.at, "frozen_reason": f and f.reason()}


@dataclass(frozen=True)
class CoinList:
    tip_height: int | None  # None (and no coins) before the first sync
    synced_at: str | None
    coins: tuple[Coin, ...]
    weights: dict[str, int]  # for a fee estimate on screen (sizes.py's arithmetic, not the PWA's)

    def to_dict(self) -> dict:
        return {"tip_height": self.tip_height, "synced_at": self.synced_at,
                "total": sum(c.value for c in self.coins),
                "free": sum(c.value for c in self.coins if not c.locked),
                "spendable": sum(c.value for c in self.coins if c.selectable),
                "weights": self.weights, "coins": [c.to_dict() for c in self.coins]}


def listing(db: Database, wallet: Wallet) -> CoinList:
    """The wallet's unspent coins as of its last sync, confirmed oldest first, then pending."""
    state = chain_store.sync_state(db, wallet.id)
    if state is None:
        return CoinList(None, None, (), _weights(wallet))
    known = chain_store.coin_addresses(db, wallet.id)
    holders = _holders(db, wallet.id)
    labels = _labels(db, wallet.id)
    freezes = frozen(db, wallet.id)
    out = []
    for u in chain_store.utxos(db, wallet.id):
        address = known.get((u.branch, u.index)) or wallet.descriptor.address(u.branch, u.index, wallet.network)
        label, source = _label_of(labels, u.outpoint, address, u.txid)
        held = (u.txid, u.vout) in holders
        out.append(Coin(u.txid, u.vout, u.value, u.height, u.confirmations(state.tip_height), u.branch, u.index,
                        address, u.coinbase, u.is_mature(state.tip_height), label, source, held,
                        holders.get((u.txid, u.vout)), freezes.get((u.txid, u.vout))))
    return CoinList(state.tip_height, state.synced_at, tuple(out), _weights(wallet))


def _weights(wallet: Wallet) -> dict[str, int]:
    """Weight units of one signed input of this wallet (largest signatures), of its change
    output, and of a transaction's fixed part (with one-byte input and output counts)."""
    d = wallet.descriptor
    return {"input": sizes.multisig_input_weight(d.threshold, d.n, d.script_type),
            "change_output": sizes.output_weight(d.script_pubkey(CHANGE, 0).data),
            "overhead": sizes.tx_weight([], []), "output_p2wsh": sizes.output_weight(bytes(34))}


def check_chosen(db: Database, wallet_id: int, chosen: Iterable[object], held: Mapping[Outpoint, str]) -> list[str]:
    """The chosen outpoints, normalised, if each is an unspent coin of the wallet in no
    proposal family (``held``: locks.locked), not frozen and, if a coinbase, mature;
    else the first bad one's error."""
    outpoints = [_parse(c) for c in chosen]
    seen: set[Outpoint] = set()
    for outpoint in outpoints:
        if outpoint in seen:
            raise InvalidInput("coin_duplicate", f"coin {_text(outpoint)} is chosen twice", outpoint=_text(outpoint))
        seen.add(outpoint)
        if outpoint in held:
            raise Conflict("coin_locked", f"coin {_text(outpoint)} is already in another active proposal",
                           outpoint=_text(outpoint))
    unspent = {(u.txid, u.vout): u for u in chain_store.utxos(db, wallet_id)}
    for outpoint in outpoints:
        if outpoint not in unspent:
            _refuse_missing(db, wallet_id, outpoint)
    state, freezes = chain_store.sync_state(db, wallet_id), frozen(db, wallet_id)
    for outpoint in outpoints:
        _refuse_unspendable(outpoint, freezes.get(outpoint), unspent[outpoint], state.tip_height)
    return [_text(o) for o in outpoints]


def selectable(db: Database, wallet_id: int, tip_height: int, held: Mapping[Outpoint, str]) -> list[Utxo]:
    """The coins a spend may take without a member choosing them: in no proposal family,
    not frozen, and no coinbase short of 100 confirmations (Sparrow's FrozenTxoFilter and
    CoinbaseTxoFilter; a node refuses an immature coinbase spend)."""
    skip = set(held) | set(frozen(db, wallet_id))
    return [u for u in chain_store.coins(db, wallet_id, mature_at=tip_height) if (u.txid, u.vout) not in skip]


def unspent_coin(db: Database, wallet: Wallet, chosen: object) -> Coin:
    """The listed coin at ``chosen`` ("txid:vout"), or why there is none (malformed,
    spent, foreign)."""
    outpoint = _parse(chosen)
    found = next((c for c in listing(db, wallet).coins if (c.txid, c.vout) == outpoint), None)
    if found is None:
        _refuse_missing(db, wallet.id, outpoint)
    return found


def _refuse_unspendable(outpoint: Outpoint, freeze: Freeze | None, utxo: WalletUtxo, tip_height: int) -> None:
    if freeze is not None:
        raise Conflict("coin_frozen", f"coin {_text(outpoint)} is {freeze.reason()}: unfreeze it before "
                       "spending it", outpoint=_text(outpoint), frozen_via=freeze.via, frozen_by=freeze.by)
    if not utxo.is_mature(tip_height):
        have = utxo.confirmations(tip_height)
        raise Conflict("coin_immature", f"coin {_text(outpoint)} is a coinbase output with {have} "
                       f"confirmation{'' if have == 1 else 's'}; it may be spent after "
                       f"{COINBASE_MATURITY - have} more", outpoint=_text(outpoint), confirmations=have,
                       needed=COINBASE_MATURITY - have)


def _parse(chosen: object) -> Outpoint:
    found = _OUTPOINT.fullmatch(chosen) if isinstance(chosen, str) else None
    if found is None or int(found.group(2)) >= 2**32:
        shown = chosen[:80] if isinstance(chosen, str) else type(chosen).__name__
        raise InvalidInput("coin_malformed", f"a chosen coin is txid:vout, not {shown!r}")
    return found.group(1).lower(), int(found.group(2))


def _refuse_missing(db: Database, wallet_id: int, outpoint: Outpoint) -> None:
    """Why a chosen coin is not among the unspent ones: spent, or never the wallet's."""
    raws = {h.txid: h.raw for h in chain_store.history(db, wallet_id) if h.raw is not None}
    scripts = set(chain_store.known_scripts(db, wallet_id)[0].values())
    txid, vout = outpoint
    funding = parse_tx(raws[txid]) if txid in raws else None
    if funding is not None and vout < len(funding.vout) and funding.vout[vout].script_pubkey.data in scripts:
        spender = next((t for t, raw in raws.items() if _spends(raw, outpoint)), None)
        raise Conflict("coin_spent", f"coin {_text(outpoint)} is already spent"
                       + (f" by {spender}" if spender else "") + "; sync the wallet and choose again",
                       outpoint=_text(outpoint), spent_by=spender)
    raise InvalidInput("coin_foreign", f"coin {_text(outpoint)} is not a coin of this wallet "
                       "(as of its last sync)", outpoint=_text(outpoint))


def _spends(raw: bytes, outpoint: Outpoint) -> bool:
    tx = parse_tx(raw)
    return tx is not None and any((i.txid.hex(), i.vout) == outpoint for i in tx.vin)


def _text(outpoint: Outpoint) -> str:
    return f"{outpoint[0]}:{outpoint[1]}"


def _holders(db: Database, wallet_id: int) -> dict[Outpoint, int | None]:
    """Each locked outpoint and the newest live proposal of the family holding it."""
    rows = db.execute(
        "SELECT l.txid, l.vout, (SELECT max(p.id) FROM proposals p WHERE p.family_id = l.family_id"
        " AND p.state IN ('open', 'broadcast')) FROM coin_locks l WHERE l.wallet_id = ?", [wallet_id]).fetchall()
    return {(txid, vout): proposal for txid, vout, proposal in rows}


def _labels(db: Database, wallet_id: int) -> dict[tuple[str, str], str]:
    """Imported BIP-329 labels by (type, ref), with memos over tx labels as the export has them."""
    found = {(t, ref): text for t, ref, text in db.execute(
        "SELECT type, ref, label FROM wallet_labels WHERE wallet_id = ? AND type IN ('output', 'addr', 'tx')"
        " AND label IS NOT NULL", [wallet_id]).fetchall()}
    found.update({("tx", txid): memo for txid, memo in ledger.memos(db, wallet_id).items()})
    return found


def _label_of(labels: Mapping[tuple[str, str], str], outpoint: str, address: str,
              txid: str) -> tuple[str | None, str | None]:
    """The most specific label (BIP-329): the output's own, its address's, its transaction's."""
    for kind, ref in (("output", outpoint), ("addr", address), ("tx", txid)):
        if (kind, ref) in labels:
            return labels[(kind, ref)], kind
    return None, None
