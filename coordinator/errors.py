"""The one error tree of Huddle.

Every failure a user can cause is a ``HuddleError`` with a stable ``code``
(a short snake_case string that clients may match on) and a one-line
message. The class says what *kind* of failure it is; the edges (CLI, HTTP,
Socket.IO) map the kind to an exit code or status in ``coordinator/edge.py``
and nowhere else.

Foreign exceptions (embit, sqlite, json, ...) are translated where they enter,
never passed through.
"""

from __future__ import annotations

# code -> what it means. Every code raised anywhere must be listed here, and
# docs/errors.md must list every code here (tests/test_docs.py checks both).
CODES: dict[str, str] = {
    # keys and key origins
    "malformed_key": "an extended public key that does not parse",
    "private_key": "a private key was given; Huddle only ever takes public keys",
    "wrong_network": "a key, path, address or file from another network",
    "malformed_origin": "a key origin [fingerprint/path] that does not parse",
    "missing_origin": "a key without [fingerprint/path]; devices need it to sign",
    "origin_mismatch": "the key origin path disagrees with the key's depth or child number",
    # descriptors
    "malformed_descriptor": "descriptor text that does not parse",
    "bad_checksum": "the BIP-380 checksum after '#' is wrong",
    "unsupported_descriptor": "a descriptor kind Huddle does not support yet",
    "duplicate_cosigner": "two cosigners share a public key and chain code",
    "threshold_zero": "m is 0",
    "threshold_above_n": "m is greater than the number of cosigners",
    "too_many_cosigners": "more than 15 cosigners",
    "bad_derivation": "a key's derivation suffix is not <0;1>/* (or /0/* with /1/*)",
    # addresses
    "bad_index": "an address index outside 0..2^31-1",
    "gap_limit_reached": "handing out another address would exceed the gap limit",
    # wallet files and wallets
    "unknown_format": "a wallet file whose format Huddle does not recognise",
    "malformed_wallet_file": "a wallet file that is recognised but broken",
    "address_mismatch": "a wallet file's first address differs from the derived one",
    "descriptors_disagree": "a wallet file's descriptor lines (multipath, receive, change) describe different wallets",
    "unsupported_network": "the chosen wallet file format cannot hold a wallet on this network",
    "origin_not_needed": "--origin was given but the file's keys all have their origin",
    "bad_wallet_name": "a wallet name that is empty, too long or has odd characters",
    "wallet_exists": "a wallet with this name already exists",
    "wallet_duplicate": "the same wallet is already stored under another name",
    "wallet_not_found": "no wallet with this name",
    "not_synced": "the wallet has not been synced with the chain yet",
    # configuration and storage
    "bad_config": "a setting has an invalid value",
    "unknown_network": "a network name Huddle does not know",
    "database_busy": "the database stayed locked by another writer",
    "database_error": "the database failed or is from a newer Huddle",
    "bad_backup": "a file given to `huddle restore` is not a sound Huddle database (not SQLite, truncated, damaged, from a newer Huddle)",
    "backup_exists": "the backup file already exists; `huddle backup --force` overwrites it, unless it is the database",
    "bad_input": "input that is unreadable (not UTF-8, too large, missing file)",
    # the command line
    "usage": "the command line is wrong: unknown command or option, missing argument, bad option value",
}


def register(codes: dict[str, str]) -> None:
    """Add a subpackage's codes (e.g. ``coordinator/qr/errors.py``) to CODES."""
    for code, meaning in codes.items():
        if CODES.get(code, meaning) != meaning:
            raise ValueError(f"error code {code!r} registered twice")
        CODES[code] = meaning


class HuddleError(Exception):
    """Root of every error Huddle raises on purpose."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        if code not in CODES:
            raise ValueError(f"unregistered error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def to_dict(self) -> dict:
        """The single JSON error shape used by every edge."""
        body: dict = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class InvalidInput(HuddleError):
    """The input is wrong; fixing the input fixes the problem."""


class Unsupported(InvalidInput):
    """Valid input that Huddle does not handle yet."""


class Unprocessable(InvalidInput):
    """Well-formed input refused on its merits: a signature that does not verify, or by a stranger's key."""


class NotFound(HuddleError):
    """The thing asked for does not exist."""


class Conflict(HuddleError):
    """The request clashes with stored state (duplicates, limits)."""


class StorageError(HuddleError):
    """The database or data directory failed; not the user's input."""


class Unavailable(HuddleError):
    """An outside service (a chain backend) failed; retrying later may help."""


class AccessDenied(HuddleError):
    """The caller is known but may not do this (a role or scope is missing)."""


class Unauthenticated(AccessDenied):
    """The caller did not prove who they are (no or a bad session or token)."""


class Gone(Conflict):
    """The thing existed but may not be used again (a spent invite, an expired link)."""


class RateLimited(Unavailable):
    """Too many attempts; wait before trying again."""
