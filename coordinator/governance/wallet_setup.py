"""The wallet-setup ceremony (issue 10, docs/setup-ceremony.md): a server admin
drafts a wallet, each slot's owner fills it with their device's BIP-48 key,
the server builds the descriptor, each owner confirms the first address their
device showed, and the wallet becomes active.

Every step is an entry in the draft's own audit chain (``setup:<id>``). The
wallet's chain then starts with ``wallet_created`` committing to the policy id
and to the head of the setup chain, so the wallet's history reaches back to who
supplied which key and who checked which address.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from sqlite_utils import Database

from .. import networks
from ..accounts import roles
from ..accounts.passkeys import RelyingParty
from ..errors import AccessDenied, Conflict, InvalidInput, NotFound, register
from ..store import wallets
from ..store.db import write
from ..wallet.descriptor import MAX_COSIGNERS, SCRIPT_TYPES, MultisigDescriptor
from ..wallet.keys import HARDENED, Cosigner, KeyOrigin
from . import audit, roster, setup_roster

CODES: dict[str, str] = {
    "draft_not_found": "no such wallet draft, or you are not part of it",
    "bad_draft": "a wallet draft with a bad script type, threshold, slot count or slot owner",
    "draft_closed": "the wallet draft is already active or cancelled",
    "bad_slot": "no such slot in this wallet draft",
    "not_slot_owner": "only the member a slot is assigned to may fill it or confirm it",
    "slot_filled": "this slot already holds a key; cancel the draft and draft again to change it",
    "setup_origin_required": "a key without its origin [fingerprint/path]; the device needs it to sign",
    "setup_wrong_path": "a key not at the BIP-48 path for the draft's script type and network",
    "setup_not_ready": "the descriptor is not built yet: some slots are still empty",
    "setup_address_mismatch": "the address a device showed is not the descriptor's first receive address",
}
register(CODES)

COLLECTING, CONFIRMING, ACTIVE, CANCELLED = "collecting", "confirming", "active", "cancelled"
BIP48_SCRIPT = {"wsh": 2, "sh-wsh": 1}  # BIP-48 script type step
_KEY = re.compile(r"\[(?P<origin>[^\]]*)\](?P<xpub>[1-9A-HJ-NP-Za-km-z]+)")


def setup_chain(draft_id: int) -> str:
    return f"setup:{draft_id}"


@dataclass(frozen=True)
class Slot:
    position: int
    user_id: int
    key: str | None  # "[fingerprint/path]xpub" once filled
    confirmed_address: str | None

    @classmethod
    def from_row(cls, row: dict) -> "Slot":
        return cls(row["position"], row["user_id"], row["key"], row["confirmed_address"])

    def to_dict(self) -> dict:
        return {"position": self.position, "member": f"user:{self.user_id}", "key": self.key,
                "confirmed": self.confirmed_address is not None}


@dataclass(frozen=True)
class Draft:
    id: int
    name: str
    network: str
    script_type: str
    threshold: int
    created_by: int
    created_at: int
    state: str
    descriptor: str | None
    first_address: str | None
    wallet_id: int | None
    slots: tuple[Slot, ...]

    @classmethod
    def from_row(cls, row: dict, slot_rows: list[dict]) -> "Draft":
        return cls(row["id"], row["name"], row["network"], row["script_type"], row["threshold"],
                   row["created_by"], row["created_at"], row["state"], row["descriptor"],
                   row["first_address"], row["wallet_id"], tuple(Slot.from_row(r) for r in slot_rows))

    @property
    def n(self) -> int:
        return len(self.slots)

    def participants(self) -> set[int]:
        return {self.created_by, *(s.user_id for s in self.slots)}

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "network": self.network, "script_type": self.script_type,
                "threshold": self.threshold, "n": self.n, "created_by": f"user:{self.created_by}",
                "state": self.state, "descriptor": self.descriptor, "first_address": self.first_address,
                "wallet_id": self.wallet_id, "slots": [s.to_dict() for s in self.slots]}


def create(db: Database, admin_id: int, name: str, network: str, script_type: str, threshold: int,
           owners: list[int], now: int | None = None) -> Draft:
    """Draft a ``threshold``-of-``len(owners)`` wallet; slot i belongs to ``owners[i]``.
    Only a server admin may draft (a new wallet has no admins of its own yet)."""
    at = int(time.time()) if now is None else now
    with write(db):
        _require_server_admin(db, admin_id)
        return _load(db, open_draft(db, admin_id, name, network, script_type, threshold, owners, at))


def open_draft(db: Database, admin_id: int, name: str, network: str, script_type: str, threshold: int,
               owners: list[int], at: int) -> int:
    """Check and store a draft (in the caller's transaction); its id. The caller checked
    who may draft: a server admin, or a wallet's admin for its successor (successor.py)."""
    name, network = wallets.check_name(name), networks.check(network)
    _check_shape(db, script_type, threshold, owners)
    if db.execute("SELECT 1 FROM wallets WHERE name = ? UNION SELECT 1 FROM wallet_drafts "
                  "WHERE name = ? AND state IN (?, ?)", [name, name, COLLECTING, CONFIRMING]).fetchone():
        raise Conflict("wallet_exists", f"a wallet or open draft named {name!r} already exists")
    draft_id = db.execute(
        "INSERT INTO wallet_drafts (name, network, script_type, threshold, n, created_by, created_at, state) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [name, network, script_type, threshold, len(owners), admin_id, at, COLLECTING]).lastrowid
    db.conn.executemany("INSERT INTO draft_slots (draft_id, position, user_id) VALUES (?, ?, ?)",
                        [(draft_id, i, owner) for i, owner in enumerate(owners)])
    body = {"name": name, "network": network, "script_type": script_type, "threshold": threshold,
            "slots": [{"position": i, "member": f"user:{o}"} for i, o in enumerate(owners)]}
    audit.append(db, setup_chain(draft_id), "draft_created", body, f"user:{admin_id}", at)
    return draft_id


def _require_server_admin(db: Database, user_id: int) -> None:
    row = db.execute("SELECT is_admin, revoked_at FROM users WHERE id = ?", [user_id]).fetchone()
    if row is None or not row[0] or row[1] is not None:
        raise AccessDenied("forbidden", "only an admin of the server may draft a wallet")


def _check_shape(db: Database, script_type: object, threshold: object, owners: object) -> None:
    if script_type not in SCRIPT_TYPES:
        raise InvalidInput("bad_draft", f"the script type is one of {', '.join(SCRIPT_TYPES)}, not {script_type!r}")
    if not isinstance(owners, list) or not 2 <= len(owners) <= MAX_COSIGNERS:
        raise InvalidInput("bad_draft", f"a wallet has 2 to {MAX_COSIGNERS} slots, one owner each")
    if not isinstance(threshold, int) or isinstance(threshold, bool) or not 1 <= threshold <= len(owners):
        raise InvalidInput("bad_draft", f"the threshold m is a whole number from 1 to {len(owners)} (n)")
    for owner in owners:
        row = None
        if isinstance(owner, int) and not isinstance(owner, bool) and 0 < owner < 2**62:  # SQLite holds 64 bits
            row = db.execute("SELECT revoked_at FROM users WHERE id = ?", [owner]).fetchone()
        if row is None or row[0] is not None:
            raise InvalidInput("bad_draft", f"slot owner {owner!r} is not an active user of this server")


def get(db: Database, draft_id: int, user_id: int) -> Draft:
    """The draft, if the user drafted it or owns one of its slots; a draft they
    are not part of answers exactly as a missing one does."""
    draft = _load(db, draft_id)
    if user_id not in draft.participants():
        raise NotFound("draft_not_found", "no such wallet draft")
    return draft


def list_for(db: Database, user_id: int) -> list[Draft]:
    ids = db.execute("SELECT id FROM wallet_drafts WHERE created_by = ? UNION "
                     "SELECT draft_id FROM draft_slots WHERE user_id = ? ORDER BY 1", [user_id, user_id])
    return [_load(db, row[0]) for row in ids.fetchall()]


def _load(db: Database, draft_id: int) -> Draft:
    rows = list(db.query("SELECT * FROM wallet_drafts WHERE id = ?", [draft_id]))
    if not rows:
        raise NotFound("draft_not_found", "no such wallet draft")
    slots = list(db.query("SELECT * FROM draft_slots WHERE draft_id = ? ORDER BY position", [draft_id]))
    return Draft.from_row(rows[0], slots)


def _slot(draft: Draft, position: object, user_id: int) -> Slot:
    _check_open(draft)
    return _owned_slot(draft, position, user_id)


def _check_open(draft: Draft) -> None:
    if draft.state in (ACTIVE, CANCELLED):
        raise Conflict("draft_closed", f"the draft is {draft.state}")


def _owned_slot(draft: Draft, position: object, user_id: int) -> Slot:
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position < draft.n:
        raise InvalidInput("bad_slot", f"slots are numbered 0 to {draft.n - 1}")
    slot = draft.slots[position]
    if slot.user_id != user_id:
        raise AccessDenied("not_slot_owner", f"slot {position} belongs to another member")
    return slot


def fill(db: Database, draft_id: int, position: int, user_id: int, key_text: str,
         now: int | None = None) -> Draft:
    """The slot owner's key, ``[fingerprint/48h/coin'/account'/script']xpub`` (any
    SLIP-132 dress); the last one builds the descriptor."""
    at = int(time.time()) if now is None else now
    with write(db):
        draft = get(db, draft_id, user_id)
        slot = _slot(draft, position, user_id)
        if slot.key is not None:
            raise Conflict("slot_filled", f"slot {position} already holds a key")
        cosigner = read_key(key_text, draft.network, draft.script_type)
        for other in draft.slots:
            if other.key is not None and _cosigner(other.key).identity == cosigner.identity:
                raise InvalidInput("duplicate_cosigner", f"slot {other.position} already holds this key "
                                   f"({cosigner.fingerprint}); each cosigner needs its own key")
        db.execute("UPDATE draft_slots SET key = ?, filled_at = ? WHERE draft_id = ? AND position = ?",
                   [cosigner.key_expression(), at, draft_id, position])
        audit.append(db, setup_chain(draft_id), "slot_filled",
                     {"position": position, "key": cosigner.key_expression()}, f"user:{user_id}", at)
        draft = _load(db, draft_id)
        if all(s.key is not None for s in draft.slots):
            _build(db, draft, at)
        return _load(db, draft_id)


def keep_slot(db: Database, draft_id: int, position: int, key_expression: str, kept_from: dict, at: int) -> None:
    """Fill a successor's slot with the key it keeps (same key, same owner), in the
    caller's transaction; the last filled slot builds the descriptor as fill() does."""
    db.execute("UPDATE draft_slots SET key = ?, filled_at = ? WHERE draft_id = ? AND position = ?",
               [key_expression, at, draft_id, position])
    audit.append(db, setup_chain(draft_id), "slot_filled",
                 {"position": position, "key": key_expression, "kept_from": kept_from}, "system", at)
    draft = _load(db, draft_id)
    if all(s.key is not None for s in draft.slots):
        _build(db, draft, at)


def read_key(text: object, network: str, script_type: str) -> Cosigner:
    """A pasted, uploaded or agent-sent key with its origin, for ``network`` at
    the BIP-48 path of ``script_type`` (m/48'/coin'/account'/script')."""
    match = _KEY.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput("setup_origin_required", "give the key with its origin, "
                           "[fingerprint/48h/1h/0h/2h]tpub... as `huddle agent xpub` prints it")
    origin = KeyOrigin.from_string(match["origin"])
    cosigner = Cosigner.from_parts(origin, match["xpub"])  # SLIP-132 normalised; depth and child checked
    if cosigner.is_test != networks.is_test(network):
        raise InvalidInput("wrong_network", f"this key is for {'test networks' if cosigner.is_test else 'bitcoin'}"
                           f" but the wallet is on {network}")
    coin = HARDENED + (1 if networks.is_test(network) else 0)
    want = (HARDENED + 48, coin, None, HARDENED + BIP48_SCRIPT[script_type])
    path = origin.path
    if len(path) != 4 or any(w is not None and p != w for p, w in zip(path, want)) or path[2] < HARDENED:
        raise InvalidInput("setup_wrong_path", f"the key's path {origin.path_string} is not "
                           f"m/48h/{coin - HARDENED}h/<account>h/{BIP48_SCRIPT[script_type]}h, the BIP-48 "
                           f"path for {script_type} on {network}; export the key for that script type")
    return cosigner


def _cosigner(key_expression: str) -> Cosigner:
    match = _KEY.fullmatch(key_expression)
    return Cosigner.from_parts(KeyOrigin.from_string(match["origin"]), match["xpub"])


def _build(db: Database, draft: Draft, at: int) -> None:
    cosigners = tuple(_cosigner(s.key) for s in draft.slots)
    descriptor = MultisigDescriptor(draft.script_type, draft.threshold, cosigners)
    twin = db.execute("SELECT name FROM wallets WHERE network = ? AND policy_id = ?",
                      [draft.network, descriptor.policy_id]).fetchone()
    if twin:
        raise Conflict("wallet_duplicate", f"these keys make a wallet already stored as {twin[0]!r}")
    text, first = descriptor.to_string(), descriptor.address(0, 0, draft.network)
    db.execute("UPDATE wallet_drafts SET state = ?, descriptor = ?, first_address = ? WHERE id = ?",
               [CONFIRMING, text, first, draft.id])
    audit.append(db, setup_chain(draft.id), "descriptor_built",
                 {"descriptor": text, "policy_id": descriptor.policy_id, "first_address": first}, "system", at)


def confirm(db: Database, draft_id: int, position: int, user_id: int, address: str,
            now: int | None = None, agent_signature: str | None = None, roster_hash: str | None = None,
            rp: RelyingParty = roster.LOCAL_RP) -> Draft:
    """The slot owner registered the descriptor on their device and read its first
    receive address from the screen; a keyholder with an agent key confirms with its
    signature over {draft, roster hash, first address} (purpose ``roster-confirm``),
    after comparing safety codes on the call. The last confirmation activates."""
    at = int(time.time()) if now is None else now
    with write(db):
        draft = get(db, draft_id, user_id)
        slot = _owned_slot(draft, position, user_id)
        if slot.confirmed_address is not None:  # a retry, even after activation: nothing new happens
            _same_address(address, draft.first_address, draft.script_type)
            return draft
        _check_open(draft)
        if draft.state != CONFIRMING:
            raise Conflict("setup_not_ready", "the descriptor is built once every slot holds a key")
        shown = _same_address(address, draft.first_address, draft.script_type)
        body = {"position": position, "address": shown}
        body |= setup_roster.agent_confirmation(db, draft, position, user_id, agent_signature, roster_hash, rp)
        db.execute("UPDATE draft_slots SET confirmed_address = ?, confirmed_at = ? WHERE draft_id = ? "
                   "AND position = ?", [shown, at, draft_id, position])
        audit.append(db, setup_chain(draft_id), "address_confirmed", body, f"user:{user_id}", at)
        draft = _load(db, draft_id)
        if all(s.confirmed_address is not None for s in draft.slots):
            _activate(db, draft, user_id, at, rp)
        return _load(db, draft_id)


def _same_address(address: object, first: str, script_type: str) -> str:
    shown = address.strip() if isinstance(address, str) else ""
    # Bech32 (wsh) is case-insensitive (BIP-173; QR codes use upper case); base58 (sh-wsh) is not.
    same = shown.lower() == first if script_type == "wsh" else shown == first
    if not same:
        raise InvalidInput("setup_address_mismatch", f"your device showed {shown[:90]!r} but the descriptor's "
                           f"first receive address is {first}: the device registered another wallet; "
                           "do not use it, and tell the group", expected=first)
    return first


def _activate(db: Database, draft: Draft, user_id: int, at: int, rp: RelyingParty) -> None:
    """The wallets row, roles (the drafter admin, slot owners keyholders), the wallet
    chain's genesis, committing to the setup chain's head, and the pinned roster. If the
    roster moved since an agent confirmed, that confirmation is withdrawn instead."""
    pinned = setup_roster.draft_roster(db, draft, rp)
    if setup_roster.withdraw_stale(db, draft, pinned, setup_chain(draft.id), at):
        return
    parsed = MultisigDescriptor.from_string(draft.descriptor)
    names = dict(db.execute("SELECT id, name FROM users WHERE id IN (SELECT user_id FROM draft_slots "
                            "WHERE draft_id = ?)", [draft.id]).fetchall())
    cosigners = tuple(Cosigner(c.origin, c.xpub, names[s.user_id]) for c, s in zip(parsed.cosigners, draft.slots))
    wallet = wallets.add(db, draft.name, draft.network, MultisigDescriptor(draft.script_type, draft.threshold,
                                                                           cosigners))
    for owner in {s.user_id for s in draft.slots} - {draft.created_by}:
        roles.grant(db, owner, wallet.id, "keyholder")
    roles.grant(db, draft.created_by, wallet.id, "admin")
    setup_head = audit.head(db, setup_chain(draft.id))
    version = roster.pin(db, wallet.id, pinned, at)
    genesis = audit.append(db, audit.wallet_chain(wallet.id), "wallet_created",
                           {"policy_id": parsed.policy_id, "network": draft.network, "name": draft.name,
                            "setup": {"chain": setup_chain(draft.id), "head": setup_head.to_string()},
                            "roster": {"version": version, "hash": pinned.hash(), "body": pinned.to_dict()}},
                           f"user:{user_id}", at)
    db.execute("UPDATE wallet_drafts SET state = ?, wallet_id = ? WHERE id = ?", [ACTIVE, wallet.id, draft.id])
    audit.append(db, setup_chain(draft.id), "wallet_activated",
                 {"wallet": wallet.id, "policy_id": parsed.policy_id, "genesis": genesis.hash}, "system", at)
    from . import successor  # a successor's activation retires the wallet it succeeds (issue 15)

    successor.activated(db, draft.id, wallet.id, at)


def cancel(db: Database, draft_id: int, user_id: int, now: int | None = None) -> Draft:
    """The drafter abandons an open draft (a wrong key, a mismatched address)."""
    at = int(time.time()) if now is None else now
    with write(db):
        draft = get(db, draft_id, user_id)
        if draft.created_by != user_id:
            raise AccessDenied("forbidden", "only the admin who drafted the wallet may cancel the draft")
        if draft.state in (ACTIVE, CANCELLED):
            raise Conflict("draft_closed", f"the draft is {draft.state}")
        db.execute("UPDATE wallet_drafts SET state = ? WHERE id = ?", [CANCELLED, draft_id])
        audit.append(db, setup_chain(draft_id), "draft_cancelled", {}, f"user:{user_id}", at)
        return _load(db, draft_id)
