"""Who gets paid: addresses to scripts on the right network, amounts within
MAX_MONEY, and outputs above Bitcoin Core's dust limit.

We decode addresses ourselves rather than with embit's
``address_to_scriptpubkey``: it accepts a base58 address of any network and
lets a bare ``except`` turn every error into "not bech32".
"""

from __future__ import annotations

from typing import Sequence

from embit import base58, bech32
from embit.networks import NETWORKS

from .. import networks
from ..errors import InvalidInput
from ..wallet.keys import short
from . import sizes
from .model import MAX_MONEY, Recipient

DUST_RELAY_FEE = 3_000  # sat/kvB, Core's DUST_RELAY_TX_FEE
OP_RETURN = 0x6A
_HRPS = {net["bech32"] for net in NETWORKS.values()}  # bc, tb, bcrt
_BASE58_PREFIXES = {net[k] for net in NETWORKS.values() for k in ("p2pkh", "p2sh")}


def script_for(address: object, network: str) -> bytes:
    """The scriptPubKey paying ``address`` on ``network``.

    ``wrong_network`` for an address of another network, ``bad_spend`` for
    anything that is not an address at all.
    """
    if not isinstance(address, str) or not address.strip():
        raise InvalidInput("bad_spend", "a recipient has no address")
    text = address.strip()
    params = networks.params(network)
    hrp = text.lower().rpartition("1")[0]
    if hrp in _HRPS:
        return _segwit(text, hrp, params, network)
    return _base58(text, params, network)


def _segwit(text: str, hrp: str, params: dict, network: str) -> bytes:
    # bcrt1... also starts with "b"; the whole human-readable part decides.
    if hrp != params["bech32"]:
        raise InvalidInput("wrong_network", f"address {short(text)} is not a {network} address")
    version, program = bech32.decode(hrp, text)
    if version is None:
        # Also catches a v0 address in bech32m or v1+ in bech32 (BIP-350).
        raise InvalidInput("bad_spend", f"address {short(text)} is not a valid segwit address")
    return bytes([version + 0x50 if version else 0, len(program), *program])


def _base58(text: str, params: dict, network: str) -> bytes:
    try:
        data = base58.decode_check(text)
    except Exception:  # embit raises assorted errors on bad characters or checksum
        raise InvalidInput("bad_spend", f"{short(text)} is not a bitcoin address") from None
    if len(data) != 21 or data[:1] not in _BASE58_PREFIXES:
        raise InvalidInput("bad_spend", f"{short(text)} is not a bitcoin address")
    if data[:1] == params["p2pkh"]:
        return b"\x76\xa9\x14" + data[1:] + b"\x88\xac"
    if data[:1] == params["p2sh"]:
        return b"\xa9\x14" + data[1:] + b"\x87"
    raise InvalidInput("wrong_network", f"address {short(text)} is not a {network} address")


def dust_limit(script_pubkey: bytes, relay_fee: int = DUST_RELAY_FEE) -> int:
    """Core's GetDustThreshold: the output plus the smallest input that could
    spend it, at the dust relay fee. P2WSH/P2TR 330, P2WPKH 294, P2SH 540,
    P2PKH 546 sat; OP_RETURN 0 (unspendable)."""
    if script_pubkey[:1] == bytes([OP_RETURN]):
        return 0
    size = 8 + sizes.varint_len(len(script_pubkey)) + len(script_pubkey)
    if _is_witness_program(script_pubkey):
        size += 32 + 4 + 1 + 107 // sizes.WITNESS_SCALE + 4
    else:
        size += 32 + 4 + 1 + 107 + 4
    return sizes.fee_for(size, relay_fee)


def _is_witness_program(spk: bytes) -> bool:
    # BIP-141: a version opcode (OP_0, OP_1..OP_16) then one 2..40 byte push.
    return 4 <= len(spk) <= 42 and (spk[0] == 0 or 0x51 <= spk[0] <= 0x60) and spk[1] == len(spk) - 2


def check(recipients: Sequence[Recipient], network: str, send_max: bool) -> list[bytes]:
    """Scripts for ``recipients``, after checking every address and amount.

    With ``send_max`` the single recipient's amount is decided later, so it
    is not checked here.
    """
    if not recipients:
        raise InvalidInput("bad_spend", "a spend needs at least one recipient")
    if send_max and len(recipients) != 1:
        raise InvalidInput("bad_spend", "send-max pays exactly one recipient")
    scripts = [script_for(r.address, network) for r in recipients]
    if len(set(scripts)) != len(scripts):
        # Core's sendmany refuses this too: almost always a pasted-twice mistake.
        raise InvalidInput("bad_spend", "the same address appears twice; pay it once with the sum")
    if not send_max:
        for recipient, script in zip(recipients, scripts):
            check_amount(recipient.amount, script, recipient.address)
        if sum(r.amount for r in recipients) > MAX_MONEY:
            raise InvalidInput("amount_too_large", "the amounts add up to more than 21 million BTC")
    return scripts


def check_amount(amount: object, script: bytes, address: str) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise InvalidInput("bad_spend", f"the amount for {short(address)} is not a whole number of satoshis")
    if amount <= 0:
        raise InvalidInput("bad_spend", f"the amount for {short(address)} must be positive")
    if amount > MAX_MONEY:
        raise InvalidInput("amount_too_large", f"{amount} sat is more than 21 million BTC")
    limit = dust_limit(script)
    if amount < limit:
        raise InvalidInput("output_dust", f"{amount} sat to {short(address)} is below the dust "
                           f"limit of {limit} sat; nodes would not relay it", limit=limit)
