"""Invites: single-use, stored hashed, expiring, bound to a wallet and a role,
or to the server alone (no wallet, no role): the invitee becomes a plain user,
whom the server's admin can then make a slot owner of a wallet draft."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from ..errors import Gone, InvalidInput, NotFound
from ..governance import audit, outbox
from ..governance.events import InviteCreated, MemberJoined
from ..store.db import write
from . import roles, tokens, users

TTL = 7 * 24 * 3600  # a week: long enough to reach everyone, short enough to expire unused


@dataclass(frozen=True)
class Invite:
    id: int
    wallet_id: int | None  # None with role None: an invite to the server alone
    role: str | None
    created_by: int
    created_at: int
    expires_at: int
    used_at: int | None

    @classmethod
    def from_row(cls, row: dict) -> "Invite":
        return cls(row["id"], row["wallet_id"], row["role"], row["created_by"], row["created_at"],
                   row["expires_at"], row["used_at"])

    def to_dict(self) -> dict:
        return {"id": self.id, "wallet_id": self.wallet_id, "role": self.role,
                "created_at": self.created_at, "expires_at": self.expires_at, "used": self.used_at is not None}


def create(db: Database, wallet_id: int | None, role: str | None, created_by: int, ttl: int = TTL,
           now: int | None = None) -> tuple[Invite, str]:
    """A new invite and its token (shown once; only the hash is stored). With no
    wallet and no role it invites to the server alone; its entry is in the server chain."""
    if (wallet_id is None) != (role is None):
        raise InvalidInput("bad_role", "an invite names both a wallet and a role, or neither")
    if role is not None:
        roles.check_role(role)
    at = tokens.now() if now is None else now
    token = tokens.new_secret()
    with write(db):
        cursor = db.execute(
            "INSERT INTO invites (token_hash, wallet_id, role, created_by, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", [tokens.hash_secret(token), wallet_id, role, created_by, at, at + ttl])
        body, actor = {"invite": cursor.lastrowid, "role": role, "expires_at": at + ttl}, f"user:{created_by}"
        if wallet_id is None:
            audit.append(db, audit.SERVER_CHAIN, "invite_created", body, actor=actor, at=at)
        else:
            audit.append_to_wallet(db, wallet_id, "invite_created", body, actor=actor, at=at)
            outbox.record(db, InviteCreated(wallet_id, cursor.lastrowid, role, at + ttl), at=at)
    return _get(db, cursor.lastrowid), token


def check(db: Database, token: object, now: int | None = None) -> Invite:
    """The usable invite behind ``token``, or why it is not usable."""
    rows = list(db.query("SELECT * FROM invites WHERE token_hash = ?",
                         [tokens.hash_secret(token) if isinstance(token, str) else ""]))
    if not rows:
        raise NotFound("invite_not_found", "no such invite; check the link")
    invite = Invite.from_row(rows[0])
    if invite.used_at is not None:
        raise Gone("invite_used", "this invite was already used; ask for a new one")
    if (tokens.now() if now is None else now) >= invite.expires_at:
        raise Gone("invite_expired", "this invite has expired; ask for a new one")
    return invite


def accept(db: Database, token: str, name: str, now: int | None = None) -> users.User:
    """Spend the invite: a new user, with the invite's role in its wallet if it has one."""
    at = tokens.now() if now is None else now
    with write(db):
        invite = check(db, token, at)
        user = users.create(db, name, now=at)
        db.execute("UPDATE invites SET used_at = ?, used_by = ? WHERE id = ? AND used_at IS NULL",
                   [at, user.id, invite.id])
        body = {"invite": invite.id, "user": user.id, "name": user.name, "role": invite.role}
        if invite.wallet_id is None:
            audit.append(db, audit.SERVER_CHAIN, "user_joined", body, actor=f"user:{user.id}", at=at)
            return user
        roles.grant(db, user.id, invite.wallet_id, invite.role)
        audit.append_to_wallet(db, invite.wallet_id, "member_joined", body, actor=f"user:{user.id}", at=at)
        outbox.record(db, MemberJoined(invite.wallet_id, user.id, user.name, invite.role), at=at)
    return user


def _get(db: Database, invite_id: int) -> Invite:
    return Invite.from_row(next(db.query("SELECT * FROM invites WHERE id = ?", [invite_id])))
