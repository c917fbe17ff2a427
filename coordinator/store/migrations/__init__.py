"""Versioned schema migrations (sqlite-utils ``Migrations``).

One module per era; the imports at the bottom register the migrations, so
their order there is the order they run in. Append new migrations at the end
(in the last module, or a new one imported last); never edit one that has shipped.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from ...errors import StorageError

MIGRATIONS = Migrations("huddle")


def check_not_newer(db: Database) -> None:
    """Refuse a database written by a newer Huddle: its schema is unknown to us."""
    known = {m.name for m in MIGRATIONS.pending(Database(memory=True))}  # all we ship
    unknown = [m.name for m in MIGRATIONS.applied(db) if m.name not in known]
    if unknown:
        raise StorageError(
            "database_error",
            f"the database was migrated by a newer Huddle ({unknown[-1]}); upgrade Huddle",
        )


# Registration order is run order: m001-m004, m005, m006-m010, m011-m012, m013-m014, m015,
# then each later module in its own range (ledger m016-, replacements m020-, roster m025-,
# ceremony m030-, realtime m040-, successor m045-, push m050-, address_checks m055-, coins m060-, agent_presence m065-); a module's migrations depend only on the ones before it in this line.
from . import wallets, accounts, governance, setup, group, agent  # noqa: E402,F401  (registers them)
from . import ledger, replacements, roster, ceremony, realtime, successor, push, address_checks, coins, agent_presence  # noqa: E402,F401
