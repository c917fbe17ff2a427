"""Error codes of the group ledger and its BIP-329 labels (docs/errors-ledger.md).

Every label-import error names the line it found (``details["line"]``, 1-based),
and an import that fails changes nothing (all or nothing, one transaction)."""

from __future__ import annotations

from ..errors import register

CODES: dict[str, str] = {
    "labels_malformed": "a BIP-329 label file line that is not UTF-8 text holding one JSON object",
    "labels_too_large": "a BIP-329 label file over the size, line-count or line-length limit",
    "label_bad_type": "a BIP-329 record whose type is not tx, addr, pubkey, input, output, xpub or spscan",
    "label_bad_ref": "a BIP-329 record whose ref does not have its type's shape (or is of another network)",
    "label_bad_field": "a BIP-329 record with an unknown key, or a label, origin or spendable of the wrong "
                       "type or length",
    "label_duplicate": "a BIP-329 label file that labels the same type and ref twice",
}
register(CODES)
