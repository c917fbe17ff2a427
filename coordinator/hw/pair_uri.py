"""The pairing link: a pairing code and the server's URL in one paste or one QR.

    huddle-pair:<CODE>?server=<URL>

An opaque URI (RFC 3986, like BIP-21's ``bitcoin:``): ``CODE`` is the code the web
UI made (20 Crockford base32 characters, dashes optional, any case); ``server`` is
the server's base URL, percent-encoded (``:`` and ``/`` may stay as they are), and
must pass the same check as ``huddle agent pair URL`` (pairing.check_url). Nothing
else is accepted: no other parameter, no fragment, no user name in the URL, only
printable ASCII, at most MAX_LENGTH characters (docs/agent.md, "The pairing link").

The link comes from a web page, and a phishing page can make one that points at
its own server; pairing.py therefore asks the user to confirm the server's host
when the URL came only from a link, and refuses a link whose server differs
from a URL the user typed.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from ..errors import InvalidInput, register

register({
    "bad_pair_uri": "a pairing link that is not huddle-pair:CODE?server=URL (or a QR image that holds none)",
    "bad_server_url": "a server URL with a user name or password in it (user@host disguises the real host)",
    "pair_server_mismatch": "the pairing link is for another server than the URL given on the command line",
    "pair_url_missing": "a bare pairing code without the server's URL; give the URL or paste the whole link",
    "pairing_declined": "not paired: the server's address was not confirmed at the terminal",
    "pair_image_unreadable": "the --qr file is not an image this agent can read (PNG, JPEG, ...)",
    "pair_qr_not_found": "no QR code was found in the --qr image",
    "pair_qr_reader_missing": "reading a QR image needs zxing-cpp and Pillow, which are not installed",
})

SCHEME = "huddle-pair"
MAX_LENGTH = 1024
# Must agree with coordinator/accounts/pairing.py (tests/hw/test_pair_uri.py checks it);
# not imported, so the agent's grammar needs nothing of the server's.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 20
# RFC 3986 characters, less "#" (no fragment), "[" and "]" (escaped in a query),
# and nothing outside printable ASCII.
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~%!$&'()*+,;=:@/?]+")
_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class PairUri:
    code: str  # canonical: XXXXX-XXXXX-XXXXX-XXXXX (upper case)
    server: str  # as pairing.check_url returns it

    def to_string(self) -> str:
        return f"{SCHEME}:{self.code}?server={urllib.parse.quote(self.server, safe=':/')}"

    @classmethod
    def from_string(cls, text: str) -> "PairUri":
        text = text.strip()
        if not is_pair_uri(text):
            raise _bad(f"it does not start with {SCHEME}:")
        if len(text) > MAX_LENGTH or not _URI_CHARS.fullmatch(text):
            raise _bad(f"only printable ASCII without spaces or '#', at most {MAX_LENGTH} characters")
        code, sep, query = text[len(SCHEME) + 1:].partition("?")
        if not sep:
            raise _bad("the server is missing (?server=https://...)")
        return cls(check_code(code), _server(query))


def is_pair_uri(text: str) -> bool:
    """Whether ``text`` is meant as a pairing link (the scheme is case-insensitive, RFC 3986 3.1)."""
    return text.strip()[:len(SCHEME) + 1].lower() == f"{SCHEME}:"


def check_code(text: str) -> str:
    """A code in the link: exactly 20 Crockford characters, dashes anywhere, any case."""
    raw = text.replace("-", "").upper()
    if len(raw) != LENGTH or any(c not in ALPHABET for c in raw):
        raise _bad(f"the code is not {LENGTH} characters of 0-9 A-Z (without I, L, O, U)")
    return "-".join(raw[i:i + 5] for i in range(0, LENGTH, 5))


def _server(query: str) -> str:
    from .pairing import check_url  # pairing imports this module for its codes

    found: dict[str, str] = {}
    for part in query.split("&"):
        name, sep, value = part.partition("=")
        if not sep or name != "server":
            raise _bad(f"unknown parameter {name!r}; the only one is server=")
        if name in found:
            raise _bad("server= is given twice")
        found[name] = value
    value = found["server"]
    if _ESCAPE.search(value):
        raise _bad("a '%' in the server's URL is not followed by two hex digits")
    url = urllib.parse.unquote_to_bytes(value)
    if not url or any(b < 0x21 or b > 0x7E for b in url):
        raise _bad("the server's URL must be printable ASCII (a domain in its xn-- form)")
    text = url.decode("ascii")
    parts = urllib.parse.urlsplit(text)
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise _bad("the server's URL has a query or fragment; it is the server's base URL only")
    return check_url(text)


def _bad(why: str) -> InvalidInput:
    return InvalidInput("bad_pair_uri", f"not a pairing link ({SCHEME}:CODE?server=URL): {why}")
