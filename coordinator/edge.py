"""Where errors meet the outside world: the one mapping from error kind to
CLI exit code and HTTP status. Every edge (CLI now, HTTP and Socket.IO later)
uses this table and ``HuddleError.to_dict`` for the JSON shape."""

from __future__ import annotations

from .errors import (
    AccessDenied,
    Conflict,
    Gone,
    HuddleError,
    InvalidInput,
    NotFound,
    RateLimited,
    StorageError,
    Unauthenticated,
    Unavailable,
    Unprocessable,
    Unsupported,
)

# Most specific class first. Exit code 2 is kept for a wrong command line (USAGE_EXIT).
_TABLE: tuple[tuple[type[HuddleError], int, int], ...] = (
    (Unsupported, 3, 422),
    (Unprocessable, 3, 422),
    (InvalidInput, 3, 400),
    (NotFound, 4, 404),
    (Gone, 5, 410),
    (Conflict, 5, 409),
    (StorageError, 6, 503),
    (RateLimited, 7, 429),
    (Unavailable, 7, 502),
    (Unauthenticated, 8, 401),
    (AccessDenied, 8, 403),
)
USAGE_EXIT = 2  # the `usage` code: click's and the shells' convention (docs/cli.md)
INTERNAL_EXIT = 70  # EX_SOFTWARE: a bug, not the user's fault
INTERNAL_STATUS = 500


def exit_code(err: HuddleError) -> int:
    for cls, code, _ in _TABLE:
        if isinstance(err, cls):
            return code
    return INTERNAL_EXIT


def http_status(err: HuddleError) -> int:
    for cls, _, status in _TABLE:
        if isinstance(err, cls):
            return status
    return INTERNAL_STATUS
