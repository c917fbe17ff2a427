"""The group's governance: the audit log now; proposals, approvals, comments,
the ledger and labels later (issue 10). Plain data over SQLite, no Flask."""
