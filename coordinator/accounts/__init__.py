"""Accounts and access (issue 10): users, the one-time admin setup, invites,
per-wallet roles, passkeys, recovery codes, API tokens and login sessions.

Plain functions over SQLite, no Flask: the web layer is a thin adapter over
them. Every secret handed out is random (``tokens.new_secret``) and stored only
as its SHA-256 hash; times are UTC seconds, passed in as ``now`` for tests.
"""

from . import errors  # noqa: F401  (registers the codes before any are raised)
