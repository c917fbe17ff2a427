"""Fee-bump replacements and per-wallet settings (issue 10, docs/proposals.md): migrations m020-m024.

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database

from . import MIGRATIONS


@MIGRATIONS()
def m020_families_of_live_members(db: Database) -> None:
    """A fee bump leaves the member it replaces live (it may still confirm, and
    DESIGN.md marks the others ``replaced`` only when one confirms), so a family
    may hold several open members: the one-open-per-family index goes. The
    family's coin locks (m008) still keep two families off one coin; ``replaces``
    (m009) links each bump to the member it replaces, indexed for the lookup."""
    db.execute("DROP INDEX IF EXISTS proposals_one_open_per_family")
    db.execute("CREATE INDEX proposals_by_replaces ON proposals (replaces) WHERE replaces IS NOT NULL")
    db.execute("CREATE INDEX proposals_by_family ON proposals (family_id)")
