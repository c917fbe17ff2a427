"""Browser tests of the PWA: Playwright driving Debian's Chromium against a real
server on loopback, reached as http://localhost:PORT (passkeys need a domain;
DESIGN "Passkey approvals"), with passkeys from Chromium's virtual WebAuthn
authenticator (the CDP WebAuthn domain).

One browser per session; each test gets its own server (a fresh database) and
its own browser context."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from coordinator.accounts import roles, setup
from coordinator.governance import audit
from coordinator.store import open_database, wallets
from coordinator.store.db import write
from coordinator.web import WebConfig, create_app

from .. import keys
from ..conftest import CHROMIUM, CHROMIUM_ARGS as ARGS  # noqa: F401  (the browser fixture lives there too)

WALLET_TEXT = keys.descriptor(2, 3).to_string()


@dataclass
class Server:
    config: WebConfig
    url: str

    def setup_link(self) -> str:
        """What `huddle serve` prints on the first run."""
        db = open_database(self.config.database)
        try:
            return f"{self.url}/setup#{setup.issue_token(db)}"
        finally:
            db.close()

    def db(self):
        return open_database(self.config.database)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(folder: Path):
    """The app from the factory behind werkzeug's threaded server on loopback."""
    # bound to a port of the kernel's choosing first, then given the app (whose origin names
    # the port): a port picked, freed and bound again may be taken meanwhile by a parallel test
    http = make_server("127.0.0.1", 0, lambda environ, start_response: [], threaded=True)
    origin = f"http://localhost:{http.server_port}"
    config = WebConfig(folder / "huddle.sqlite3", "s" * 32, origin, network="regtest", rate_limits=False)
    http.app = create_app(config)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(config, origin)
    finally:
        http.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def module_page(browser, tmp_path_factory):
    """load(name) -> a page where window[name] is pwa/js/<name>.js, imported
    as the app imports it (one server and page for the whole session)."""
    with serving(tmp_path_factory.mktemp("modules")) as server:
        context = browser.new_context()
        page = context.new_page()
        page.goto(server.url + "/signin")

        def load(name: str):
            page.evaluate("async (name) => { window[name] = await import(document.querySelector("
                          "'script[type=module]').src.replace('app.js', `js/${name}.js`)); }", name)
            return page

        yield load
        context.close()


@pytest.fixture
def huddle_serve(tmp_path):
    """The real `huddle serve` script on loopback; yields the setup link it prints."""
    with running_huddle(tmp_path) as link:
        yield link


@contextmanager
def running_huddle(tmp_path, chain_url: str | None = None):
    """`huddle serve` with its data in tmp_path/data, and a chain backend when given."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
    env.update(HUDDLE_DATA=str(tmp_path / "data"), HUDDLE_NETWORK="regtest")
    if chain_url:
        env.update(HUDDLE_CHAIN=f"esplora:{chain_url}", HUDDLE_WATCH_INTERVAL="1")
    # A short grace: gunicorn otherwise waits up to 30 s for the browser's open long-poll.
    command = [str(Path(sys.executable).parent / "huddle"), "serve", "--port", str(port), "--graceful-timeout", "1"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        link = next((line.strip() for line in proc.stdout if "/setup#" in line), None)
        if link is None:
            pytest.fail("huddle serve printed no setup link")
        _wait_until_listening(port, proc)
        yield link
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_until_listening(port: int, proc) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            pytest.fail("huddle serve exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            threading.Event().wait(0.1)
    pytest.fail("huddle serve did not start listening")


@pytest.fixture
def sandbox(monkeypatch):
    """A sandbox chain that stays up, as the server's chain backend (HUDDLE_CHAIN is read
    at each broadcast and fee estimate)."""
    from ..sessions.ceremony_env import start_sandbox

    chain = start_sandbox()
    monkeypatch.setenv("HUDDLE_CHAIN", f"esplora:{chain.url}")
    yield chain
    chain.stop()


@pytest.fixture
def server(tmp_path):
    with serving(tmp_path) as found:
        yield found


class Page:
    """One member's tab: a Playwright page with a virtual passkey authenticator
    and a record of every CSP violation and console error it saw."""

    def __init__(self, context, server: Server) -> None:
        self.context, self.server = context, server
        self.page = context.new_page()
        self.violations: list[str] = []
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))
        self.page.expose_function("__huddleViolation", lambda text: self.violations.append(text))
        self.page.add_init_script(
            "document.addEventListener('securitypolicyviolation', e => "
            "window.__huddleViolation(e.violatedDirective + ' ' + e.blockedURI));")
        self.cdp = context.new_cdp_session(self.page)
        self.cdp.send("WebAuthn.enable")  # first: without it, create() hangs forever
        self.authenticator = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
            "hasUserVerification": True, "isUserVerified": True}})["authenticatorId"]

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.violations.append(message.text)
        elif message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)  # a 401 before sign-in is an answer, not a fault

    def goto(self, path: str):
        return self.page.goto(self.server.url + path)

    def credentials(self) -> list[dict]:
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator})["credentials"]


@pytest.fixture
def new_tab(browser):
    """Open another member's browser (a new context) on a server: new_tab(server, width)."""
    contexts = []

    def open_tab(server: Server, width: int = 390) -> Page:
        contexts.append(browser.new_context(viewport={"width": width, "height": 844}))
        return Page(contexts[-1], server)

    yield open_tab
    for context in contexts:
        context.close()


@pytest.fixture
def tab(new_tab, server):
    return new_tab(server)


def set_up_admin(tab: Page, name: str = "Ada") -> None:
    """The first run, as the admin does it: the setup link, a name, a passkey."""
    tab.page.goto(tab.server.setup_link())
    tab.page.get_by_label("Your name").fill(name)
    tab.page.get_by_role("button", name="Create my passkey").click()
    tab.page.locator("#recovery-codes").wait_for()
    tab.page.locator("#continue").click()
    tab.page.locator("main[data-view='/wallets']").wait_for()


def import_wallet(server: Server, admin_id: int = 1, name: str = "Co-op vault") -> int:
    """The admin's wallet, imported as POST /wallets/import does it."""
    db = server.db()
    try:
        with write(db):
            wallet = wallets.import_text(db, WALLET_TEXT, "regtest", name)
            roles.grant(db, admin_id, wallet.id, "admin")
            audit.start_wallet_chain(db, wallet.id, actor=f"user:{admin_id}")
        return wallet.id
    finally:
        db.close()
