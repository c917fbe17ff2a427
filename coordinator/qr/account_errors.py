"""Error codes for reading a keyholder's xpub from a QR device (docs/qr.md,
"Keys from QR-only devices"). Each is an ``InvalidInput`` (exit 3, HTTP 400).
A key for the wrong network keeps the shared ``wrong_network`` code and a
private key the shared ``private_key`` code."""

from __future__ import annotations

from ..errors import register

CODES: dict[str, str] = {
    "key_export_unreadable": "a scanned or uploaded key export that is not one Huddle reads "
                         "(UR crypto-account, account-descriptor, crypto-hdkey, hdkey, Coldcard or Keystone JSON, "
                         "[fingerprint/path]xpub text)",
    "key_export_no_origin": "a key export without the master fingerprint or derivation path the "
                             "device needs to sign",
    "key_export_wrong_script": "a key export with no key for the wallet's script type (for example a BIP-84 "
                           "single-sig account where a BIP-48 multisig key is needed)",
    "key_export_wrong_path": "a multisig key whose path is not m/48h/coin'/account'/script' for the wallet",
    "registration_format": "a registration QR format Huddle does not write",
}
register(CODES)
