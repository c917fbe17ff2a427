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
