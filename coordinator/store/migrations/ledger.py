"""The group ledger's labels (BIP-329) and ledger views (issue 10, docs/ledger.md): migrations m016-m019.

Never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database

from . import MIGRATIONS


@MIGRATIONS()
def m016_wallet_labels(db: Database) -> None:
    """BIP-329 labels a group imported, one per (type, ref) in a wallet. A memo
    is not a label: it stays in its proposal (the audit chain commits to its
    hash) and an import never rewrites it. ``label`` or ``spendable`` NULL means
    the file did not say (BIP-329: an omitted field leaves the value alone)."""
    db.execute("""
        CREATE TABLE wallet_labels (
            wallet_id INTEGER NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
            type TEXT NOT NULL CHECK (type IN ('tx', 'addr', 'pubkey', 'input', 'output', 'xpub', 'spscan')),
            ref TEXT NOT NULL,
            label TEXT,
            origin TEXT,
            spendable INTEGER CHECK (spendable IS NULL OR (spendable IN (0, 1) AND type = 'output')),
            updated_by INTEGER,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (wallet_id, type, ref),
            CHECK (label IS NOT NULL OR spendable IS NOT NULL)
        )""")
