"""Settings: environment variables over ``huddle.toml`` over defaults.

Every setting is listed in ``SETTINGS`` and documented in
docs/configuration.md (a test checks that).
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import platformdirs

from . import networks
from .errors import InvalidInput, StorageError

# name -> (environment variable, default, meaning)
SETTINGS: dict[str, tuple[str, str, str]] = {
    "data_dir": ("HUDDLE_DATA", "the platform's user data dir", "where Huddle keeps its files"),
    "network": ("HUDDLE_NETWORK", "bitcoin", "bitcoin, testnet, testnet4, signet or regtest"),
    "database": ("HUDDLE_DATABASE", "<data_dir>/huddle.sqlite3", "the SQLite database file"),
    "secret_key": ("HUDDLE_SECRET_KEY", "generated into <data_dir>/secret_key",
                   "signs sessions and tokens; at least 32 characters"),
    "chain": ("HUDDLE_CHAIN", "(none)", "esplora:URL or core:URL; see docs/chain.md"),
    "tor_proxy": ("HUDDLE_TOR_PROXY", "(none)", "SOCKS5 proxy for esplora:, e.g. socks5://127.0.0.1:9050"),
    "trusted_proxies": ("HUDDLE_TRUSTED_PROXIES", "0",
                        "how many reverse proxies in front of `huddle serve` append X-Forwarded-For"),
    "message_queue": ("HUDDLE_MESSAGE_QUEUE", "(none)",
                      "redis://host:port/db shared by several `huddle serve` processes; see docs/scaling.md"),
    "watch_interval": ("HUDDLE_WATCH_INTERVAL", "30",
                       "seconds between the chain watcher's rounds in `huddle serve` (0: off); see docs/ceremony.md"),
}
MAX_TRUSTED_PROXIES = 5  # more hops than this is a misconfiguration, not a deployment
CONFIG_FILE = "huddle.toml"
SECRET_FILE = "secret_key"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    network: str
    database: Path
    secret_key: str
    chain: str = ""  # "" when no chain backend is configured
    tor_proxy: str = ""
    trusted_proxies: int = 0
    message_queue: str = ""  # "" = one process, no Redis (docs/scaling.md)
    watch_interval: int = 30  # seconds; 0 = no chain watcher (docs/ceremony.md)

    def public(self) -> dict[str, str]:
        """Everything but the secret, for ``huddle config``."""
        return {"data_dir": str(self.data_dir), "network": self.network,
                "database": str(self.database), "secret_key": "(set, hidden)",
                "chain": _without_password(self.chain) or "(none)", "tor_proxy": self.tor_proxy or "(none)",
                "trusted_proxies": str(self.trusted_proxies),
                "message_queue": _without_password(self.message_queue) or "(none)",
                "watch_interval": str(self.watch_interval)}


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Resolve settings and prepare the data directory (mode 0700)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("HUDDLE_DATA") or platformdirs.user_data_dir("huddle")).expanduser()
    _make_private_dir(data_dir)
    file_values = _read_file(data_dir / CONFIG_FILE)
    unknown = set(file_values) - (set(SETTINGS) - {"data_dir"})
    if unknown:
        raise InvalidInput("bad_config", f"{CONFIG_FILE}: unknown setting(s) {', '.join(sorted(unknown))}")

    def value(name: str) -> str | None:
        return env.get(SETTINGS[name][0]) or file_values.get(name)

    network = networks.check(value("network") or "bitcoin")
    database = Path(value("database") or data_dir / "huddle.sqlite3").expanduser()
    secret = value("secret_key") or _secret_from_file(data_dir / SECRET_FILE)
    if len(secret) < 32:
        raise InvalidInput("bad_config", "HUDDLE_SECRET_KEY must be at least 32 characters")
    return Settings(data_dir, network, database, secret,
                    (value("chain") or "").strip(), (value("tor_proxy") or "").strip(),
                    _hops(value("trusted_proxies") or "0"), check_message_queue(value("message_queue") or ""),
                    check_watch_interval(value("watch_interval") or "30"))


def _hops(text: str) -> int:
    """Trusting one hop too many lets a client pick its own address (rate limits)."""
    text = text.strip()
    if not text.isascii() or not text.isdigit() or int(text) > MAX_TRUSTED_PROXIES:
        raise InvalidInput("bad_config", f"HUDDLE_TRUSTED_PROXIES must be a whole number from 0 to "
                           f"{MAX_TRUSTED_PROXIES} (the reverse proxies in front of huddle serve), not {text!r}")
    return int(text)


def check_watch_interval(text: str) -> int:
    """Whole seconds, 0 (no watcher) to 3600: a typo must not silently stop confirmations."""
    text = text.strip()
    if not text.isascii() or not text.isdigit() or int(text) > 3600:
        raise InvalidInput("bad_config", f"HUDDLE_WATCH_INTERVAL is whole seconds from 0 (off) to 3600, not {text!r}")
    return int(text)


def check_message_queue(text: str) -> str:
    """A Redis URL or nothing: a typo must not silently leave processes deaf to each other."""
    text = text.strip()
    if text and not re.fullmatch(r"rediss?://[^\s]+", text):
        raise InvalidInput("bad_config", f"HUDDLE_MESSAGE_QUEUE must be a redis:// or rediss:// URL "
                           f"(docs/scaling.md), not {_without_password(text)!r}")
    return text


def _without_password(url: str) -> str:
    """core:http://user:pass@host -> core:http://user:***@host, for display."""
    return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)  # redis://:pass@host has no user


def _make_private_dir(path: Path) -> None:
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as err:
        raise StorageError("database_error", f"cannot create data directory {path}: {err.strerror}") from None


def _read_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InvalidInput("bad_config", f"{path}: {err}") from None
    bad = [k for k, v in data.items() if not isinstance(v, str)]
    if bad:
        raise InvalidInput("bad_config", f"{path}: {', '.join(bad)} must be strings")
    return data


def _secret_from_file(path: Path) -> str:
    """Read the secret key, creating it once with mode 0600.

    The new key is written to a temporary file and hard-linked into place, so
    a second process starting at the same moment sees either no file or the
    whole key, never an empty one.
    """
    if not path.exists():
        _create_secret(path)
    try:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)  # someone loosened it; a readable secret is a leaked one
        return path.read_text(encoding="ascii").strip()
    except UnicodeDecodeError:
        raise InvalidInput("bad_config", f"{path} must hold the secret key as ASCII text") from None
    except OSError as err:
        raise InvalidInput("bad_config", f"cannot read the secret key {path}: {err.strerror}") from None


def _create_secret(path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".secret-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process won the race; use its key
    except OSError as err:
        raise StorageError("database_error", f"cannot write {path}: {err.strerror}") from None
    finally:
        os.unlink(tmp)
