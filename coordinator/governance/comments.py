"""Comments on a proposal (issue 10, section 4): the group discusses a spend
before approving it. Keyholders and admins comment; every member reads.

Like a memo (DESIGN.md, "The audit log is a hash chain"), the text stays in its
row, where it can be erased, and the wallet's audit chain keeps only its
SHA-256, so the chain still verifies after an erasure.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass

from sqlite_utils import Database

from ..errors import InvalidInput
from ..store.db import write
from . import audit, outbox, proposals
from .events import CommentAdded
from .intent import memo_hash

MAX_TEXT = 2000
_ALLOWED_CONTROLS = {"\n", "\t"}  # line breaks and tabs are prose; other controls hide text


@dataclass(frozen=True)
class Comment:
    id: int
    wallet_id: int
    proposal_id: int
    user_id: int
    text: str | None  # None once erased
    text_hash: str
    created_at: int

    @classmethod
    def from_row(cls, row: dict) -> "Comment":
        return cls(row["id"], row["wallet_id"], row["proposal_id"], row["user_id"], row["text"],
                   row["text_hash"], row["created_at"])

    def to_dict(self) -> dict:
        return {"id": self.id, "proposal": self.proposal_id, "member": f"user:{self.user_id}",
                "text": self.text, "text_hash": self.text_hash, "created_at": self.created_at}


def check_text(text: object) -> str:
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise InvalidInput("bad_comment", f"a comment is 1 to {MAX_TEXT} characters")
    if any(unicodedata.category(c)[0] == "C" and c not in _ALLOWED_CONTROLS for c in text):
        raise InvalidInput("bad_comment", "a comment may not hold control or format characters "
                                          "other than line breaks and tabs")
    return text


def add(db: Database, wallet_id: int, proposal_id: int, user_id: int, text: str,
        now: int | None = None) -> Comment:
    """Store a comment on the wallet's proposal; its hash goes to the audit chain."""
    at = int(time.time()) if now is None else now
    text = check_text(text)
    digest = memo_hash(text)
    with write(db):
        proposals.get(db, wallet_id, proposal_id)
        cursor = db.execute(
            "INSERT INTO proposal_comments (wallet_id, proposal_id, user_id, text, text_hash, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", [wallet_id, proposal_id, user_id, text, digest, at])
        audit.append_to_wallet(db, wallet_id, "comment_added",
                               {"proposal": proposal_id, "comment": cursor.lastrowid, "text_hash": digest},
                               actor=f"user:{user_id}", at=at)
        outbox.record(db, CommentAdded(wallet_id, proposal_id, cursor.lastrowid, user_id), at=at)
    return Comment.from_row(next(db.query("SELECT * FROM proposal_comments WHERE id = ?", [cursor.lastrowid])))


def list_for(db: Database, wallet_id: int, proposal_id: int) -> list[Comment]:
    """The proposal's comments, oldest first."""
    proposals.get(db, wallet_id, proposal_id)
    return [Comment.from_row(r) for r in db.query(
        "SELECT * FROM proposal_comments WHERE wallet_id = ? AND proposal_id = ? ORDER BY id",
        [wallet_id, proposal_id])]
