"""Building a spend: checked recipients, chosen coins, fee, change, and the
unsigned PSBT (docs/spending.md explains it for users).

Money is integer satoshis and fee rates are integer satoshis per 1000 vB
(``1500`` is 1.5 sat/vB); no float ever touches an amount. Sizes come from
``sizes.py`` and assume the largest signatures, so the real fee rate after
signing is at or slightly above the target, never below.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Iterable, Sequence

from embit.psbt import PSBT

from ..errors import InvalidInput
from ..wallet.descriptor import CHANGE, MultisigDescriptor
from . import coinselect, fees, sizes
from . import recipients as _recipients
from .build import Output, assemble
from .fees import DEFAULT_POLICY, FeePolicy
from .model import MAX_MONEY, Recipient, Utxo
from .recipients import dust_limit

MAX_STANDARD_TX_WEIGHT = 400_000  # Core's policy: heavier transactions are not relayed
LOCKTIME_THRESHOLD = 500_000_000  # below: a block height; above: a timestamp


@dataclass(frozen=True, eq=False)
class Spend:
    """A decided spend and its unsigned PSBT (inputs and outputs in PSBT order)."""

    psbt: PSBT
    inputs: tuple[Utxo, ...]
    outputs: tuple[Output, ...]
    fee: int
    vsize: int  # estimated after signing; an upper bound
    target_rate: int  # sat/kvB asked for
    excess: int  # fee above target_rate × vsize, given up on purpose (no change)
    change: tuple[int, int] | None  # (change index, amount)
    locktime: int
    algorithm: str  # bnb, srd, largest_first, all, coin_control, send_max

    @property
    def fee_rate(self) -> int:
        """The estimated fee rate in sat/kvB, rounded down."""
        return self.fee * 1000 // self.vsize

    @property
    def amount(self) -> int:
        """Satoshis paid to recipients (everything but change and fee)."""
        return sum(o.value for o in self.outputs if o.change_index is None)


@dataclass(frozen=True)
class _Draft:
    coins: tuple[Utxo, ...]
    fee: int
    excess: int
    change: int | None
    waste: int
    algorithm: str


@dataclass(frozen=True)
class _Shape:
    """What every candidate transaction shares: weights and fee rates."""

    rate: int
    input_weight: int
    output_weights: tuple[int, ...]
    change_weight: int
    change_dust: int
    policy: FeePolicy

    def fee(self, inputs: int, change: bool) -> int:
        outs = [*self.output_weights, *([self.change_weight] if change else [])]
        return sizes.fee_for(self.vsize(inputs, outs), self.rate)

    def vsize(self, inputs: int, outs: Sequence[int]) -> int:
        return sizes.vsize(sizes.tx_weight([self.input_weight] * inputs, list(outs)))

    def weight_fee(self, weight: int, rate: int) -> int:
        return -(-weight * rate // (1000 * sizes.WITNESS_SCALE))

    @property
    def change_spend_fee(self) -> int:
        return self.weight_fee(self.input_weight, self.policy.discard_fee_rate)

    @property
    def cost_of_change(self) -> int:
        # Core: a change output now at the target rate, and spending it later.
        return self.weight_fee(self.change_weight, self.rate) + self.change_spend_fee

    @property
    def min_change(self) -> int:
        # Core's min_viable_change: change worth less than spending it is waste.
        return max(self.change_dust, self.change_spend_fee + 1)


def plan_spend(descriptor: MultisigDescriptor, network: str, utxos: Sequence[Utxo],
               recipients: Sequence[Recipient], fee_rate_sat_per_kvb: int, change_index: int,
               tip_height: int, *, coins: Iterable[str | Utxo] | None = None, send_max: bool = False,
               policy: FeePolicy = DEFAULT_POLICY, rng: random.Random | None = None) -> Spend:
    """Choose coins and build the unsigned PSBT paying ``recipients``.

    ``coins`` (Utxos or outpoints "txid:vout" of ``utxos``) spends exactly those; ``send_max``
    pays everything (the chosen coins, or every coin worth spending) to the
    one recipient, whose amount is then ignored. ``rng`` drives shuffling and
    the locktime jitter; pass a seeded ``random.Random`` for reproducibility.
    """
    rng = rng if rng is not None else random.SystemRandom()
    descriptor.check_network(network)
    policy.check_rate(fee_rate_sat_per_kvb)
    _check_int(tip_height, "tip height", 0, LOCKTIME_THRESHOLD - 1)
    scripts = _recipients.check(recipients, network, send_max)
    pool = _check_coins(utxos, coins)
    change_spk = descriptor.script_pubkey(CHANGE, change_index).data
    shape = _Shape(fee_rate_sat_per_kvb,
                   sizes.multisig_input_weight(descriptor.threshold, descriptor.n, descriptor.script_type),
                   tuple(sizes.output_weight(s) for s in scripts), sizes.output_weight(change_spk),
                   dust_limit(change_spk), policy)
    amounts = [r.amount for r in recipients]
    if send_max:
        draft = _send_max(pool, shape, scripts[0], coin_control=coins is not None)
        amounts = [sum(u.value for u in draft.coins) - draft.fee] if draft else amounts
    elif coins is not None:
        draft = _draft(pool, sum(amounts), shape, "coin_control")
    else:
        draft = _select(pool, sum(amounts), shape, rng)
    if draft is None:
        raise _insufficient(pool, sum(amounts), shape)
    return _finish(descriptor, draft, scripts, amounts, shape, change_index, tip_height, rng)


def _finish(descriptor: MultisigDescriptor, draft: _Draft, scripts: list[bytes], amounts: list[int],
            shape: _Shape, change_index: int, tip_height: int, rng: random.Random) -> Spend:
    outputs = [Output(s, a) for s, a in zip(scripts, amounts)]
    if draft.change is not None:
        change_spk = descriptor.script_pubkey(CHANGE, change_index).data
        outputs.append(Output(change_spk, draft.change, change_index))
    inputs = list(draft.coins)
    # Privacy: neither input order nor a last-place change output may tell
    # which output is change (Core shuffles both).
    rng.shuffle(inputs)
    rng.shuffle(outputs)
    vsize = shape.vsize(len(inputs), [sizes.output_weight(o.script_pubkey) for o in outputs])
    _check_size(vsize)
    shape.policy.check_fee(draft.fee, vsize, sum(amounts))
    _check_ours(descriptor, inputs)
    locktime = anti_fee_sniping_locktime(tip_height, rng)
    psbt = assemble(descriptor, inputs, outputs, locktime)
    change = None if draft.change is None else (change_index, draft.change)
    return Spend(psbt, tuple(inputs), tuple(outputs), draft.fee, vsize, shape.rate, draft.excess,
                 change, locktime, draft.algorithm)


def anti_fee_sniping_locktime(tip_height: int, rng: random.Random) -> int:
    """The tip height, so a miner re-mining the tip cannot include this
    transaction (Core's DiscourageFeeSniping). One time in ten go back up to
    99 blocks, so slow-to-broadcast transactions do not stand out."""
    if rng.randrange(10) == 0:
        return max(0, tip_height - rng.randrange(100))
    return tip_height


# -- choosing coins ---------------------------------------------------------------


def _select(pool: Sequence[Utxo], amount: int, shape: _Shape, rng: random.Random) -> _Draft | None:
    """The least-waste draft among branch-and-bound, SRD and largest-first."""
    coins = [_coin(u, shape) for u in pool]
    # Per-coin fees are rounded up one by one; with 3 WU for the vsize
    # rounding, the selection's fees cover the exact fee of the whole.
    fixed = shape.weight_fee(sizes.tx_weight([], list(shape.output_weights)) + 3, shape.rate)
    target = amount + fixed
    change_target = target + shape.weight_fee(shape.change_weight, shape.rate) + shape.min_change
    found = []
    if shape.policy.avoid_change:
        found.append(("bnb", coinselect.branch_and_bound(coins, target, shape.cost_of_change,
                                                         shape.policy.bnb_max_tries)))
    found.append(("srd", coinselect.single_random_draw(coins, change_target, rng)))
    found.append(("largest_first", coinselect.largest_first(coins, change_target)))
    drafts = [_draft([c.item for c in sel], amount, shape, name) for name, sel in found if sel]
    drafts = [d for d in drafts if d is not None]
    if not drafts:
        # Too little for a change output: every coin worth spending, no change.
        # Never a candidate otherwise: sweeping the wallet links all its coins
        # and locks them all to one proposal.
        return _draft([c.item for c in coins if c.effective > 0], amount, shape, "all")
    # Core's ChooseSelectionResult: least waste, then more inputs.
    return min(drafts, key=lambda d: (d.waste, -len(d.coins)))


def _coin(utxo: Utxo, shape: _Shape) -> coinselect.Coin:
    return coinselect.Coin(utxo, utxo.value, shape.weight_fee(shape.input_weight, shape.rate),
                           shape.weight_fee(shape.input_weight, shape.policy.long_term_fee_rate))


def _draft(coins: Sequence[Utxo], amount: int, shape: _Shape, algorithm: str) -> _Draft | None:
    """Exact fee and change for these coins; None when they cannot pay."""
    total, k = sum(u.value for u in coins), len(coins)
    if k == 0:
        return None
    timing = sum(c.fee - c.long_term_fee for c in (_coin(u, shape) for u in coins))
    with_change = shape.fee(k, True)
    change = total - amount - with_change
    if change >= shape.min_change:
        return _Draft(tuple(coins), with_change, 0, change, timing + shape.cost_of_change, algorithm)
    fee = total - amount
    excess = fee - shape.fee(k, False)
    if excess < 0:
        return None
    # Change too small to be worth its output goes to the fee (Core does the same).
    return _Draft(tuple(coins), fee, excess, None, timing + excess, algorithm)


def _send_max(pool: Sequence[Utxo], shape: _Shape, script: bytes, coin_control: bool) -> _Draft | None:
    # Without coin control, leave coins that cost more to spend than they hold.
    coins = list(pool) if coin_control else [u for u in pool if _coin(u, shape).effective > 0]
    if not coins:
        return None
    fee = shape.fee(len(coins), False)
    amount = sum(u.value for u in coins) - fee
    if amount <= 0:
        return None
    if amount < dust_limit(script):
        raise InvalidInput("output_dust", f"after the fee of {fee} sat only {amount} sat is left, "
                           f"below the dust limit of {dust_limit(script)} sat", amount=amount)
    return _Draft(tuple(coins), fee, 0, None, 0, "send_max")


def _insufficient(pool: Sequence[Utxo], amount: int, shape: _Shape) -> InvalidInput:
    have = sum(u.value for u in pool)
    need = amount + shape.fee(max(1, len(pool)), False)
    return InvalidInput("insufficient_funds",
                        f"the coins hold {have} sat; paying {amount} sat at "
                        f"{fees.sat_per_vb(shape.rate)} sat/vB needs about {need} sat",
                        available=have, needed=need)


# -- checks ---------------------------------------------------------------------


def _check_int(value: object, what: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput("bad_spend", f"the {what} must be a whole number from {low} to {high}")
    return value


def _check_coins(utxos: Sequence[Utxo], coins: Iterable[str | Utxo] | None) -> list[Utxo]:
    """The coins to choose from: all of ``utxos``, or exactly ``coins``."""
    by_outpoint: dict[str, Utxo] = {}
    for utxo in utxos:
        if utxo.outpoint in by_outpoint:
            raise InvalidInput("bad_spend", f"coin {utxo.outpoint} is listed twice")
        if not isinstance(utxo.value, int) or utxo.value <= 0:
            raise InvalidInput("malformed_utxo", f"coin {utxo.outpoint} has value {utxo.value!r}")
        by_outpoint[utxo.outpoint] = utxo
    if sum(u.value for u in by_outpoint.values()) > MAX_MONEY:
        raise InvalidInput("amount_too_large", "the coins add up to more than 21 million BTC")
    if coins is None:
        return list(by_outpoint.values())
    chosen = [c.outpoint if isinstance(c, Utxo) else str(c) for c in coins]
    if not chosen:
        raise InvalidInput("bad_spend", "coin control was asked for but no coins were chosen")
    if len(set(chosen)) != len(chosen):
        raise InvalidInput("bad_spend", "a chosen coin is listed twice")
    unknown = [c for c in chosen if c not in by_outpoint]
    if unknown:
        raise InvalidInput("bad_spend", f"chosen coin {unknown[0]} is not a spendable coin of this wallet")
    return [by_outpoint[c] for c in chosen]


def _check_ours(descriptor: MultisigDescriptor, inputs: Sequence[Utxo]) -> None:
    """Each coin's previous transaction really pays the wallet at its path:
    the PSBT's scripts and derivations are computed from that path."""
    for utxo in inputs:
        spk = utxo.verified_output().script_pubkey.data
        if spk != descriptor.script_pubkey(utxo.branch, utxo.index).data:
            raise InvalidInput("foreign_input", f"coin {utxo.outpoint} does not pay this wallet's "
                               f"address {utxo.branch}/{utxo.index}")


def _check_size(vsize: int) -> None:
    if vsize * sizes.WITNESS_SCALE > MAX_STANDARD_TX_WEIGHT:
        raise InvalidInput("bad_spend", f"the transaction would weigh about {vsize * 4} WU, over the "
                           f"{MAX_STANDARD_TX_WEIGHT} WU nodes relay; spend fewer coins")
