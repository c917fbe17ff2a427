"""The group's governance: the audit log now; proposals, approvals, comments,
the ledger and labels later (issue 10). Plain data over SQLite, no Flask."""

from . import errors  # noqa: F401  (registers the codes before any are raised)
