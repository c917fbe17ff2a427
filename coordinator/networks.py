"""The bitcoin networks Huddle knows, and how keys and addresses map to them."""

from __future__ import annotations

from embit.networks import NETWORKS as _EMBIT

from .errors import InvalidInput

NAMES = ("bitcoin", "testnet", "testnet4", "signet", "regtest")
# embit's parameter set for each (testnet4 shares testnet's prefixes).
_PARAMS = {
    "bitcoin": _EMBIT["main"],
    "testnet": _EMBIT["test"],
    "testnet4": _EMBIT["test"],
    "signet": _EMBIT["signet"],
    "regtest": _EMBIT["regtest"],
}


def check(name: str) -> str:
    """The network name, or ``unknown_network``. ``mainnet`` means bitcoin."""
    norm = {"mainnet": "bitcoin", "main": "bitcoin"}.get(name.lower(), name.lower())
    if norm not in NAMES:
        raise InvalidInput(
            "unknown_network",
            f"unknown network {name!r}; use one of {', '.join(NAMES)}",
        )
    return norm


def params(name: str) -> dict:
    """embit network parameters (address prefixes) for a network name."""
    return _PARAMS[check(name)]


def is_test(name: str) -> bool:
    """tpub keys and coin type 1' serve every network but bitcoin."""
    return check(name) != "bitcoin"


def coin_type(name: str) -> int:
    """BIP-44 coin type: 0 on bitcoin, 1 on all test networks."""
    return 1 if is_test(name) else 0
