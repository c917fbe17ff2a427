"""Specter Desktop's wallet export JSON, also written by Sparrow
("Specter Desktop" export):

    {"label": "...", "blockheight": 0, "descriptor": "wsh(sortedmulti(...))#...",
     "devices": [{"type": "coldcard", "label": "Alice's Coldcard"}, ...]}

``devices`` are in the descriptor's key order; their type and label become
each cosigner's ``device`` and ``label``. Huddle writes the receive
descriptor (``/0/*``), which every Specter and Sparrow version reads.
"""

from __future__ import annotations

import json

from ...errors import InvalidInput
from ..descriptor import CHANGE, RECEIVE
from ..descriptor import parse as parse_descriptor
from .base import (
    WalletFile,
    default_name,
    field,
    load_json,
    located,
    malformed,
    relabel,
)

_NO_DEVICE = {"other", "unknown"}


def parse(text: str) -> WalletFile:
    data = load_json(text)
    desc_text = field(data, "descriptor", str, "wallet")
    with located("descriptor"):
        desc, branch = parse_descriptor(desc_text)
    if branch == CHANGE:
        raise InvalidInput(
            "bad_derivation", "descriptor: this is the change descriptor (/1/*); export the wallet's receive one"
        )
    devices = field(data, "devices", list, "wallet", required=False)
    if devices is not None:
        if len(devices) != desc.n:
            raise malformed(f"devices lists {len(devices)} devices but the descriptor has {desc.n} keys")
        desc = relabel(desc, [_device(i, d) for i, d in enumerate(devices)])
    return WalletFile((field(data, "label", str, "wallet", required=False) or "").strip(), desc, None)


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
        "blockheight": 0,
        "descriptor": desc.to_string(branch=RECEIVE),
        "devices": [
            {"type": c.device or "other", "label": c.label or f"cosigner {i + 1}"}
            for i, c in enumerate(desc.cosigners)
        ],
    }
    return json.dumps(data, indent=2) + "\n"
