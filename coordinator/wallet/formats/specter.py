"""Specter Desktop's wallet export JSON, also written by Sparrow
("Specter Desktop" export):

    {"label": "...", "blockheight": 0, "descriptor": "wsh(sortedmulti(...))#...",
     "devices": [{"type": "coldcard", "label": "Alice's Coldcard"}, ...]}

Keys without a child path mean ``/<0;1>/*`` here, as Specter, Sparrow and
BlueWallet read them; ``blockheight`` (or a BIP-393 ``?bh=``) is kept as the
birth height. ``devices`` are in the descriptor's key order; their type and label become
each cosigner's ``device`` and ``label``. Huddle writes the receive
descriptor (``/0/*``), which every Specter and Sparrow version reads.
"""

from __future__ import annotations

import json

from ...errors import InvalidInput
from ..descriptor import CHANGE, RECEIVE, SUFFIX_BRANCHES, parse_annotated
from .base import (
    WalletFile,
    birth_height,
    default_name,
    field,
    load_json,
    located,
    malformed,
    relabel,
)

_NO_DEVICE = {"other", "unknown"}
# A key with no child path (Sparrow's "Specter Desktop" export) means receive
# /0/* and change /1/* to Specter, Sparrow and BlueWallet, which read it so.
_SUFFIXES = {**SUFFIX_BRANCHES, "": None}


def parse(text: str) -> WalletFile:
    data = load_json(text)
    desc_text = field(data, "descriptor", str, "wallet")
    with located("descriptor"):
        desc, branch, annotations = parse_annotated(desc_text, _SUFFIXES)
    if branch == CHANGE:
        raise InvalidInput(
            "bad_derivation", "descriptor: this is the change descriptor (/1/*); export the wallet's receive one"
        )
    devices = field(data, "devices", list, "wallet", required=False)
    if devices is not None:
        if len(devices) != desc.n:
            raise malformed(f"devices lists {len(devices)} devices but the descriptor has {desc.n} keys")
        desc = relabel(desc, [_device(i, d) for i, d in enumerate(devices)])
    name = (field(data, "label", str, "wallet", required=False) or "").strip()
    return WalletFile(name, desc, None, _birth_height(data, annotations))


def _birth_height(data: dict, annotations: dict[str, int]) -> int | None:
    """``blockheight`` (0 means unknown), or a BIP-393 ``bh`` on the descriptor."""
    height = field(data, "blockheight", int, "wallet", required=False)
    if height is not None and height < 0:
        raise malformed(f"blockheight {height} is negative")
    heights = [h for h in (height or None, birth_height(annotations)) if h is not None]
    return min(heights) if heights else None


def _device(i: int, device: object) -> tuple[str, str]:
    where = f"devices[{i}]"
    if not isinstance(device, dict):
        raise malformed(f"{where}: expected an object, got {type(device).__name__}")
    kind = (field(device, "type", str, where, required=False) or "").strip().lower()
    label = field(device, "label", str, where, required=False) or ""
    return label, "" if kind in _NO_DEVICE else kind


def serialize(wallet: WalletFile, network: str) -> str:
    desc = wallet.descriptor
    data = {
        "label": wallet.name or default_name(desc),
        "blockheight": wallet.birth_height or 0,
        "descriptor": desc.to_string(branch=RECEIVE),
        "devices": [
            {"type": c.device or "other", "label": c.label or f"cosigner {i + 1}"}
            for i, c in enumerate(desc.cosigners)
        ],
    }
    return json.dumps(data, indent=2) + "\n"
