"""The PWA (pwa/, docs/pwa.md): its pages, versioned static assets, manifest
and service worker, under a strict Content-Security-Policy.

Static files are read once at start-up. Their combined hash is the asset
version: files are served under ``/v/<version>/...`` and cached for a year
(``immutable``), while the pages, the manifest and ``/sw.js`` are revalidated
on every load, so a new version reaches browsers on their next visit. The
folder is the repository's ``pwa/`` (installs are editable; self-hosters run
from a clone), or ``HUDDLE_PWA_DIR``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.exceptions import NotFound

from ..errors import InvalidInput

ENV = "HUDDLE_PWA_DIR"
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "pwa"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; media-src 'self' blob:; worker-src 'self'; manifest-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
PERMISSIONS = "camera=(self), microphone=(), geolocation=(), payment=()"
# RFC 9239 names text/javascript; a .webmanifest is application/manifest+json (W3C appmanifest).
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".html": "text/html",
         ".svg": "image/svg+xml", ".png": "image/png", ".webmanifest": "application/manifest+json"}
PAGES = ("/", "/setup", "/join", "/signin", "/wallets", "/wallets/<path:rest>", "/members", "/settings")
SUBSTITUTED = (".html", ".webmanifest")  # they name versioned URLs
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
ON_DEMAND = ("vendor/jsqr/", "js/scan-worker.js")  # jsQR is 250 KB; most visits never scan

bp = Blueprint("pwa", __name__)


class Bundle:
    """The PWA's served files in memory, with their version."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
                      if p.is_file() and p.suffix in TYPES}
        digest = hashlib.sha256()
        for name, data in self.files.items():
            digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        self.version = digest.hexdigest()[:12]
        self._zipped: dict[str, bytes] = {}
        if "index.html" not in self.files or "sw.js" not in self.files:
            raise InvalidInput("bad_config", f"{ENV}: {folder} is not the PWA's folder (no index.html and sw.js)")

    def text(self, name: str) -> bytes:
        """A file that names versioned URLs, with ``__VERSION__`` filled in."""
        return self.files[name].replace(b"__VERSION__", self.version.encode())

    def zipped(self, name: str, body: bytes) -> bytes:
        """``body`` (the served form of ``name``) gzipped, once per start-up."""
        if name not in self._zipped:
            self._zipped[name] = gzip.compress(body, 9, mtime=0)
        return self._zipped[name]

    def assets(self) -> list[str]:
        """What the service worker precaches: every versioned file but itself, and
        but the camera scanner, which loads (and is cached) only when someone scans."""
        return [f"/v/{self.version}/{name}" for name in self.files
                if name not in ("index.html", "sw.js", "manifest.webmanifest") and not name.startswith(ON_DEMAND)]


def bundle() -> Bundle:
    return current_app.extensions["huddle_pwa"]


def _send(body: bytes, name: str, cache: str) -> Response:
    """The file, gzipped for a browser that takes it (PNGs are compressed already):
    phones on slow links load the app shell in about a third of the bytes."""
    mimetype = TYPES[Path(name).suffix]
    textual = mimetype != "image/png"
    zipped = textual and request.accept_encodings["gzip"] > 0
    response = Response(bundle().zipped(name, body) if zipped else body, mimetype=mimetype)
    if mimetype.startswith("text/") or mimetype.endswith("json"):
        response.charset = "utf-8"
    if zipped:
        response.headers["Content-Encoding"] = "gzip"
    if textual:
        response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = cache
    return response


def _page() -> Response:
    return _send(bundle().text("index.html"), "index.html", REVALIDATE)


for _number, _rule in enumerate(PAGES):
    bp.add_url_rule(_rule, f"page{_number}", lambda **_: _page(), methods=["GET"])


@bp.get("/v/<version>/<path:name>")
def asset(version: str, name: str):
    found = bundle()
    if version != found.version or name not in found.files or name == "sw.js":
        raise NotFound("no such file in this version of the app")
    body = found.text(name) if name.endswith(SUBSTITUTED) else found.files[name]
    return _send(body, name, IMMUTABLE)


@bp.get("/manifest.webmanifest")
def manifest():
    return _send(bundle().text("manifest.webmanifest"), "manifest.webmanifest", REVALIDATE)


@bp.get("/sw.js")
def service_worker():
    found = bundle()
    body = found.files["sw.js"].replace(b"__VERSION__", found.version.encode()).replace(
        b"__ASSETS__", json.dumps(found.assets()).encode())
    response = _send(body, "sw.js", REVALIDATE)
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.after_request
def headers(response: Response) -> Response:
    """The PWA's CSP is stricter than the API's default (security.py keeps
    whatever a response already has)."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Permissions-Policy"] = PERMISSIONS
    return response


def init_app(app: Flask) -> None:
    app.extensions["huddle_pwa"] = Bundle(Path(os.environ.get(ENV) or DEFAULT_DIR))
    app.register_blueprint(bp)
