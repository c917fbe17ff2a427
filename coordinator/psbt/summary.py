"""The human summary of a spend: who is paid, what comes back as change,
and what the miners get. Plain data that the CLI, the signer agent and the
PWA all render the same way (``to_dict`` is the wire form).

Only ``checks.check`` builds a Summary from a PSBT, and only after every
amount in it has been verified (see docs/signer-checks.md), so nothing here
is taken on trust. Amounts are integer satoshis; ``format_btc`` and
``format_rate`` are for display only and never feed back into arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from embit.script import Script

from .. import networks
from . import sizes
from .sighash import LOCKTIME_THRESHOLD

SATS_PER_BTC = 100_000_000
OP_RETURN = 0x6A


@dataclass(frozen=True)
class Summary:
    """What a signer is asked to approve.

    ``recipients``: (address, amount) for every output that is not change,
    in transaction order. ``change``: (address, amount, index) for outputs
    verified to be the wallet's own change branch. ``fee_rate`` is in sat
    per 1000 vB (integer, rounded down) over ``vsize``, the estimated size
    of the *signed* transaction (largest signatures, see sizes.py), so the
    real rate after signing is the same or a little higher. ``version`` and
    ``locktime`` are the transaction's; ``tip_height`` is the checker's synced
    tip, if known, which tells whether the locktime is still ahead.
    """

    network: str
    recipients: tuple[tuple[str, int], ...]
    change: tuple[tuple[str, int, int], ...]
    fee: int
    fee_rate: int
    vsize: int
    inputs_total: int
    input_count: int
    locktime: int
    version: int = 2
    tip_height: int | None = None

    @property
    def recipients_total(self) -> int:
        return sum(amount for _, amount in self.recipients)

    @property
    def change_total(self) -> int:
        return sum(amount for _, amount, _ in self.change)

    @property
    def spent_from_wallet(self) -> int:
        """What leaves the wallet for good: recipients plus fee."""
        return self.inputs_total - self.change_total

    def to_dict(self) -> dict:
        return {
            "network": self.network,
            "recipients": [{"address": a, "amount": v} for a, v in self.recipients],
            "change": [{"address": a, "amount": v, "index": i} for a, v, i in self.change],
            "fee": self.fee,
            "fee_rate": self.fee_rate,
            "vsize": self.vsize,
            "inputs_total": self.inputs_total,
            "input_count": self.input_count,
            "recipients_total": self.recipients_total,
            "change_total": self.change_total,
            "spent_from_wallet": self.spent_from_wallet,
            "locktime": self.locktime,
            "version": self.version,
        }

    def to_lines(self) -> list[str]:
        """A plain-text rendering for the CLI and the agent's terminal."""
        lines = [f"Pay {format_btc(v)} to {a}" for a, v in self.recipients]
        lines += [f"Change {format_btc(v)} to {a} (change #{i})" for a, v, i in self.change]
        lines.append(f"Fee {format_btc(self.fee)} ({format_rate(self.fee_rate)}, ~{self.vsize} vB)")
        lines.append(f"Leaves the wallet: {format_btc(self.spent_from_wallet)}"
                     f" of {format_btc(self.inputs_total)} in {self.input_count} coin(s)")
        return lines + self._unusual_lines()

    def _unusual_lines(self) -> list[str]:
        """Version and nLockTime, only when they are not what Huddle builds (2; the tip or below)."""
        lines = [] if self.version == 2 else [f"Transaction version {self.version} (Huddle builds version 2)"]
        if self.locktime >= LOCKTIME_THRESHOLD:
            when = datetime.fromtimestamp(self.locktime, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            lines.append(f"nLockTime {when}: the transaction is not valid before then")
        elif self.tip_height is not None and self.locktime > self.tip_height:
            lines.append(f"nLockTime block {self.locktime}: not valid before then (tip {self.tip_height})")
        return lines


def output_label(script_pubkey: bytes, network: str) -> str:
    """The address of an output, or a plain description when it has none."""
    script = Script(script_pubkey)
    if script.script_type() is not None:
        return script.address(networks.params(network))
    if script_pubkey[:1] == bytes([OP_RETURN]):
        return f"OP_RETURN {script_pubkey[1:].hex()}"
    return f"script {script_pubkey.hex()}"


def estimate_vsize(descriptor, input_count: int, scripts: Iterable[bytes]) -> int:
    """vsize of the *signed* transaction, assuming the largest signatures."""
    weight = sizes.multisig_input_weight(descriptor.threshold, descriptor.n, descriptor.script_type)
    return sizes.vsize(sizes.tx_weight([weight] * input_count, [sizes.output_weight(s) for s in scripts]))


def fee_rate_sat_per_kvb(fee: int, vsize: int) -> int:
    """Fee rate in sat per 1000 vB, rounded down (integer arithmetic only)."""
    if vsize <= 0:
        raise ValueError("vsize must be positive")
    return fee * 1000 // vsize


def format_btc(sats: int) -> str:
    """``120000`` -> ``'0.00120000 BTC'``. Display only; exact, no floats."""
    if isinstance(sats, bool) or not isinstance(sats, int):
        raise TypeError(f"amounts are integer satoshis, not {type(sats).__name__}")
    whole, frac = divmod(abs(sats), SATS_PER_BTC)
    sign = "-" if sats < 0 else ""
    return f"{sign}{whole:,}.{frac:08d} BTC"


def format_rate(sat_per_kvb: int) -> str:
    """``12345`` (sat/kvB) -> ``'12.345 sat/vB'``. Display only."""
    if isinstance(sat_per_kvb, bool) or not isinstance(sat_per_kvb, int) or sat_per_kvb < 0:
        raise TypeError("a fee rate is a non-negative integer in sat/kvB")
    whole, frac = divmod(sat_per_kvb, 1000)
    return f"{whole}.{frac:03d} sat/vB"
