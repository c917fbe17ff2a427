"""The agent's pairing with a server: where it is, and the agent's API token.

``huddle agent pair`` redeems a pairing code made in the web UI (accounts/pairing)
for an ``agent``-scoped token of the member who made it, and keeps it in the
agent's private directory (``server.json``, 0600, files.write_json). The server is
reached over HTTPS only; plain http is allowed for loopback, where nothing
crosses a network. The code may come inside a pairing link (pair_uri.py), whose
server must be the URL the user gave, or be confirmed by them (``target``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import httpx

from ..errors import (CODES, AccessDenied, Conflict, Gone, HuddleError, InvalidInput, NotFound, RateLimited,
                      StorageError, Unauthenticated, Unavailable)
from ..accounts import errors as _server_codes  # noqa: F401  (the server's codes, to pass its refusals on)
from . import errors as _codes  # noqa: F401  (registers the agent's codes)
from . import files
from .pair_uri import PairUri, is_pair_uri

FILE = "server.json"
TIMEOUT = 20.0
_BY_STATUS = {400: InvalidInput, 401: Unauthenticated, 403: AccessDenied, 404: NotFound, 409: Conflict,
              410: Gone, 429: RateLimited}


@dataclass(frozen=True)
class Link:
    url: str
    token: str
    token_id: str
    user_id: int
    user_name: str
    paired_at: str

    def to_dict(self) -> dict:
        return {"version": 1, "url": self.url, "token": self.token, "token_id": self.token_id,
                "user": {"id": self.user_id, "name": self.user_name}, "paired_at": self.paired_at}

    @classmethod
    def from_dict(cls, data: object, where: Path) -> "Link":
        try:
            return cls(data["url"], data["token"], data["token_id"], int(data["user"]["id"]),
                       str(data["user"]["name"]), data["paired_at"])
        except (KeyError, TypeError, ValueError) as err:
            raise StorageError("agent_dir_error", f"{where} is not an agent pairing file ({err})") from None


def check_url(url: str) -> str:
    """The server's base URL, refused unless https (or http to loopback)."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput("insecure_server_url", f"{url!r} is not a server URL like https://huddle.example")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise InvalidInput("insecure_server_url",
                           "the server must be reached over https:// (plain http only for localhost); "
                           "the token would cross the network in the clear")
    if "@" in parts.netloc:  # https://huddle.example@evil.example goes to evil.example
        raise InvalidInput("bad_server_url", f"{url!r} has a user name in it; the server is {parts.hostname}, "
                                             "not what comes before the @")
    try:
        parts.port
    except ValueError:
        raise InvalidInput("insecure_server_url", f"{url!r} has no valid port") from None
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def same_server(a: str, b: str) -> bool:
    """Whether two checked URLs name one server: scheme, host, port (default or not) and path."""
    def key(url: str) -> tuple:
        p = urllib.parse.urlsplit(url)
        return p.scheme, (p.hostname or "").rstrip("."), p.port or {"https": 443, "http": 80}[p.scheme], \
            p.path.rstrip("/")
    return key(a) == key(b)


@dataclass(frozen=True)
class Target:
    url: str
    code: str
    confirm: bool  # the URL came only from a pairing link: the user confirms its host first


def target(given_url: str | None, text: str) -> Target:
    """Where to redeem what the user gave: a code (with ``given_url``) or a pairing link.

    A link made by another site can name any server (a phishing page's own, say):
    one that differs from the URL the user typed is refused, and one that came
    alone is confirmed at the terminal (docs/agent.md, "The pairing link")."""
    url = check_url(given_url) if given_url is not None else None
    if not is_pair_uri(text):
        if url is None:
            raise InvalidInput("pair_url_missing", "a pairing code alone does not say which server made it: "
                                                   "huddle agent pair URL, or paste the whole huddle-pair: link")
        return Target(url, text.strip(), False)
    link = PairUri.from_string(text)
    if url is None:
        return Target(link.server, link.code, True)
    if not same_server(url, link.server):
        raise InvalidInput("pair_server_mismatch", f"the pairing link is for {link.server}, not {url}; "
                                                   "pair only with the server whose web UI you use")
    return Target(url, link.code, False)


def check_unpaired(directory: Path) -> None:
    existing = load(directory, missing_ok=True)
    if existing is not None:
        raise Conflict("already_paired", f"this agent is already paired with {existing.url} as "
                                         f"{existing.user_name}; run huddle agent unpair first")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def call(method: str, url: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    """One API call; the server's error comes back as the same HuddleError."""
    headers = {"X-Huddle-CSRF": "agent"}  # any value without a session (docs/api.md, "CSRF")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = httpx.request(method, f"{url}/api/v1{path}", json=body, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as err:
        raise Unavailable("server_unreachable", f"cannot reach {url}: {err}") from None
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise Unavailable("server_refused", f"{url} answered HTTP {response.status_code} without Huddle's JSON; "
                                            "is this the Huddle server's address?")
    if response.is_success:
        return data
    raise _server_error(response.status_code, data, url)


def _server_error(status: int, data: dict, url: str) -> HuddleError:
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    code, message = error.get("code"), str(error.get("message", ""))
    if code not in CODES:
        return Unavailable("server_refused", f"{url} answered HTTP {status}: {message or 'no Huddle error'}")
    return _BY_STATUS.get(status, Unavailable)(code, f"the server says: {message}")


def pair(directory: Path, url: str, code: str, label: str) -> Link:
    """Redeem ``code`` at ``url`` and keep the token; refuses to replace a pairing."""
    url = check_url(url)
    check_unpaired(directory)
    answer = call("POST", url, "/agent/pairings/redeem", {"code": code, "label": label})
    try:
        link = Link(url, answer["secret"], answer["token"]["id"], int(answer["user"]["id"]),
                    str(answer["user"]["name"]), dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    except (KeyError, TypeError, ValueError):
        raise Unavailable("server_refused", f"{url} answered the pairing without a token") from None
    files.write_json(directory / FILE, link.to_dict())
    return link


def load(directory: Path, missing_ok: bool = False) -> Link | None:
    path = directory / FILE
    if not path.exists():
        if missing_ok:
            return None
        raise NotFound("not_paired", "this agent is not paired with a server yet: huddle agent pair URL")
    return Link.from_dict(files.read_json(path), path)


def unpair(directory: Path) -> tuple[Link, HuddleError | None]:
    """Revoke the token on the server if it answers, and forget the pairing either way."""
    link = load(directory)
    problem = None
    try:
        call("DELETE", link.url, "/agent/token", token=link.token)
    except HuddleError as err:
        problem = err
    try:
        (directory / FILE).unlink()
    except OSError as err:
        raise StorageError("agent_dir_error", f"cannot remove {directory / FILE}: {err.strerror}") from None
    return link, problem
