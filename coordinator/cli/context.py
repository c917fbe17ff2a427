"""What commands need from the environment: settings and the database."""

from __future__ import annotations

from sqlite_utils import Database

from .. import config
from ..store import open_database


def settings() -> config.Settings:
    return config.load()


def database(cfg: config.Settings | None = None) -> tuple[config.Settings, Database]:
    cfg = cfg or settings()
    return cfg, open_database(cfg.database)


def backend(cfg: config.Settings):
    """The configured chain backend (HUDDLE_CHAIN), or a clear error."""
    from ..chain.config import from_url  # only commands that touch the chain load httpx
    from ..errors import InvalidInput

    if not cfg.chain:
        raise InvalidInput("bad_config", "no chain backend is set: set HUDDLE_CHAIN to "
                           "esplora:https://... or core:http://... (see docs/chain.md)")
    return from_url(cfg.chain, cfg.network, proxy=cfg.tor_proxy or None)
