"""A production stack on loopback: `huddle serve` (gunicorn) behind nginx from
Debian, configured by docs/deploy/nginx.conf itself, with TLS from a
self-signed certificate; and members that speak to it over HTTPS."""

from __future__ import annotations

import datetime
import getpass
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import requests
import socketio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ..authenticator import SoftAuthenticator
from ..conftest import REPO_ROOT

HUDDLE = Path(sys.executable).parent / "huddle"
NGINX_CONF = REPO_ROOT / "docs" / "deploy" / "nginx.conf"
MAIN_CONF = """user {user};
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include {prefix}/huddle.conf;
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx() -> str:
    exe = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
    if exe is None:
        pytest.fail("nginx is not installed: `./dev test` installs it (Debian's nginx package)")
    return exe


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost (P-256, one day) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def site_config(app_port: int, http_port: int, https_port: int, cert: Path, key: Path, webroot: Path) -> str:
    """docs/deploy/nginx.conf with this run's ports, certificate and host; each
    replaced text must be there, so the file and the test cannot drift apart."""
    text = NGINX_CONF.read_text(encoding="utf-8")
    for old, new in [("server 127.0.0.1:5000;", f"server 127.0.0.1:{app_port};"),
                     ("listen 80;", f"listen 127.0.0.1:{http_port};"),
                     ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
                     ("/etc/letsencrypt/live/huddle.example.org/fullchain.pem", str(cert)),
                     ("/etc/letsencrypt/live/huddle.example.org/privkey.pem", str(key)),
                     ("/var/www/letsencrypt", str(webroot)),
                     ("server_name huddle.example.org;", "server_name localhost;")]:
        assert old in text, f"docs/deploy/nginx.conf no longer has {old!r}"
        text = text.replace(old, new)
    return text


def wait_for(probe, proc: subprocess.Popen, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            probe()
            return
        except (OSError, httpx.HTTPError, ssl.SSLError):
            if proc.poll() is not None:
                pytest.fail(f"{what} exited with {proc.returncode}")
            time.sleep(0.05)
    proc.kill()
    pytest.fail(f"{what} did not answer within {seconds} s")


@dataclass
class Stack:
    """`huddle serve` under gunicorn on app_port, nginx on https_port (and http_port)."""

    folder: Path
    graceful_timeout: int = 20
    env: dict = field(default_factory=dict)
    app_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    https_port: int = field(default_factory=free_port)

    @property
    def origin(self) -> str:
        return f"https://localhost:{self.https_port}"

    @property
    def database(self) -> Path:
        return self.folder / "data" / "huddle.sqlite3"

    def start(self) -> "Stack":
        self.cert, key = self_signed(self.folder)
        self.tls = ssl.create_default_context(cafile=str(self.cert))
        self._start_huddle()
        self._start_nginx(key)
        return self

    def _start_huddle(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
        env.update(HUDDLE_DATA=str(self.folder / "data"), HUDDLE_NETWORK="regtest", HUDDLE_ORIGIN=self.origin,
                   HUDDLE_TRUSTED_PROXIES="1", **self.env)
        self.out, self.err = self.folder / "huddle.out", self.folder / "huddle.err"
        with self.out.open("w") as out, self.err.open("w") as err:
            self.huddle = subprocess.Popen([str(HUDDLE), "serve", "--port", str(self.app_port),
                                            "--graceful-timeout", str(self.graceful_timeout)],
                                           env=env, stdout=out, stderr=err)
        direct = f"http://127.0.0.1:{self.app_port}/healthz"
        wait_for(lambda: httpx.get(direct, timeout=1).raise_for_status(), self.huddle, "huddle serve")

    def _start_nginx(self, key: Path) -> None:
        prefix = self.folder / "nginx"
        for sub in ("tmp", "www"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        (prefix / "huddle.conf").write_text(site_config(self.app_port, self.http_port, self.https_port,
                                                        self.cert, key, prefix / "www"))
        (prefix / "nginx.conf").write_text(MAIN_CONF.format(user=getpass.getuser(), prefix=prefix))
        self.nginx_log = prefix / "error.log"
        self.nginx = subprocess.Popen([nginx(), "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                                       "-e", str(self.nginx_log)],
                                      stdout=subprocess.DEVNULL, stderr=(prefix / "stderr.log").open("w"))
        wait_for(lambda: self.get("/healthz").raise_for_status(), self.nginx, "nginx")

    def get(self, path: str, **kw) -> httpx.Response:
        return httpx.get(self.origin + path, verify=self.tls, timeout=10, **kw)

    def setup_token(self) -> str:
        line = next(line for line in self.out.read_text().splitlines() if "/setup#" in line)
        return line.split("#", 1)[1].strip()

    def worker_pid(self) -> int:
        booted = [line["event"] for line in self.log_lines() if line["event"].startswith("Booting worker")]
        return int(booted[-1].rsplit(" ", 1)[1])

    def log_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.err.read_text().splitlines()]

    def request_logged(self, request_id: str) -> dict:
        """The request's log line; gunicorn writes it just after the answer has gone."""
        deadline = time.monotonic() + 10
        while True:
            found = [line for line in self.log_lines() if line.get("request_id") == request_id]
            if found or time.monotonic() > deadline:
                assert len(found) == 1, f"request {request_id}: {found}"
                return found[0]
            time.sleep(0.05)

    def stop(self) -> None:
        for proc in (getattr(self, "nginx", None), getattr(self, "huddle", None)):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=self.graceful_timeout + 10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@dataclass
class Member:
    """One member's browser over HTTPS: cookies, the CSRF token, a passkey."""

    stack: Stack
    csrf: str = "none-yet"
    body: dict = field(default_factory=dict)
    recovery_codes: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.stack.origin + "/api/v1", verify=self.stack.tls, timeout=20,
                                 headers={"Origin": self.stack.origin})
        self.passkey = SoftAuthenticator(self.stack.origin, "localhost")

    def post(self, path: str, json: object = None) -> httpx.Response:
        return self.http.post(path, json={} if json is None else json, headers={"X-Huddle-CSRF": self.csrf})

    def signed_in(self, response: httpx.Response) -> "Member":
        assert response.status_code == 201, response.text
        self.body = response.json()
        self.csrf = self.body["csrf_token"]
        self.recovery_codes = self.body.get("recovery_codes", self.recovery_codes)
        return self

    def register(self, prefix: str, **fields) -> "Member":
        options = self.post(f"{prefix}/options", fields)
        assert options.status_code == 200, options.text
        self.credential = self.passkey.create(options.json())
        final = "/setup" if prefix == "/setup" else "/invites/accept"
        return self.signed_in(self.post(final, {**fields, "credential": self.credential}))

    def login(self) -> "Member":
        options = self.post("/session/options").json()
        self.assertion = self.passkey.get(options)
        return self.signed_in(self.post("/session", {"credential": self.assertion}))

    def token(self, scopes: list[str]) -> str:
        made = self.post("/tokens", {"scopes": scopes})
        assert made.status_code == 201, made.text
        return made.json()["secret"]


def socket_client(stack: Stack, token: str, transports: tuple = ("websocket",)) -> socketio.Client:
    """A python-socketio client through nginx: the WebSocket transport only, or
    long-polling first and then the upgrade, as browsers do."""
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment wins over verify
    session.verify = str(stack.cert)
    client = socketio.Client(reconnection=False, http_session=session,
                             websocket_extra_options={"suppress_origin": True})
    client.connect(stack.origin, namespaces=["/wallets"], auth={"token": token},
                   headers={"Origin": stack.origin}, transports=list(transports), wait_timeout=10)
    return client
