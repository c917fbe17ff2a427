"""Live signing ceremonies (issue 11, docs/ceremony.md): the state machine, typed
events, signature intake, broadcast and the chain watcher. Core: no Flask or
Socket.IO here."""

from . import errors  # noqa: F401  (registers the ceremony's error codes)
