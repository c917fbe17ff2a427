"""What commands need from the environment: settings and the database.

The core is imported inside each function, not at the top: ``huddle --help``
must not pay for sqlite-utils, embit and the rest (bench/cli_start.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database

    from ..config import Settings


def settings() -> Settings:
    from .. import config

    return config.load()


def database(cfg: Settings | None = None) -> tuple[Settings, Database]:
    from ..store import open_database

    cfg = cfg or settings()
    return cfg, open_database(cfg.database)


def backend(cfg: Settings):
    """The configured chain backend (HUDDLE_CHAIN), or a clear error."""
    from ..chain.config import from_url  # only commands that touch the chain load httpx
    from ..errors import InvalidInput

    if not cfg.chain:
        raise InvalidInput("bad_config", "no chain backend is set: set HUDDLE_CHAIN to "
                           "esplora:https://... or core:http://... (see docs/chain.md)")
    return from_url(cfg.chain, cfg.network, proxy=cfg.tor_proxy or None)
