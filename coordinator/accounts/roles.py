"""Roles per wallet: viewer < keyholder < admin.

A user who is not a member of a wallet gets ``wallet_not_found``, the same
answer as for a wallet that does not exist, so membership never leaks names.
"""

from __future__ import annotations

from sqlite_utils import Database

from ..errors import AccessDenied, InvalidInput, NotFound
from ..store.db import write

ROLES = ("viewer", "keyholder", "admin")  # in rising order of what they may do


def check_role(role: object) -> str:
    if role not in ROLES:
        raise InvalidInput("bad_role", f"a role is one of {', '.join(ROLES)}, not {role!r}")
    return role


def grant(db: Database, user_id: int, wallet_id: int, role: str) -> None:
    check_role(role)
    with write(db):
        db.execute("INSERT INTO memberships (user_id, wallet_id, role) VALUES (?, ?, ?) "
                   "ON CONFLICT (user_id, wallet_id) DO UPDATE SET role = excluded.role",
                   [user_id, wallet_id, role])


def role_of(db: Database, user_id: int, wallet_id: int) -> str | None:
    row = db.execute("SELECT role FROM memberships WHERE user_id = ? AND wallet_id = ?",
                     [user_id, wallet_id]).fetchone()
    return row[0] if row else None


def require(db: Database, user_id: int, wallet_id: int, at_least: str) -> str:
    """The user's role in the wallet, if it is ``at_least`` the one given."""
    role = role_of(db, user_id, wallet_id)
    if role is None:
        raise NotFound("wallet_not_found", "no such wallet")
    if ROLES.index(role) < ROLES.index(check_role(at_least)):
        raise AccessDenied("forbidden", f"this needs the {at_least} role in the wallet; you are a {role}")
    return role


def wallets_of(db: Database, user_id: int) -> list[tuple[int, str]]:
    """(wallet id, role) for each wallet the user belongs to."""
    return [(row[0], row[1]) for row in db.execute(
        "SELECT wallet_id, role FROM memberships WHERE user_id = ? ORDER BY wallet_id", [user_id]).fetchall()]
