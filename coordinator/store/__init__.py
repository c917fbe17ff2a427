"""SQLite storage through sqlite-utils: connection, migrations, tables."""

from .db import open_database, write

__all__ = ["open_database", "write"]
