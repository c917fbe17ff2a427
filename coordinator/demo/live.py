"""``huddle demo``: start everything on loopback, print the URL and what to do, wait for Ctrl-C.

Nothing here is a server setting: the server is the ordinary ``huddle serve``, on
regtest, on a throwaway data directory, on loopback. What is fake is the chain
(the regtest sandbox) and the keys (public test mnemonics, people.py); see
docs/demo.md.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import InvalidInput
from . import flow, people, stack
from .stack import Child, start_sandbox, start_server

DEFAULT_PORT = 5000
DEFAULT_SANDBOX_PORT = 0  # any free port (18443 is bitcoind regtest RPC's); the URL is printed
DEFAULT_BLOCK_INTERVAL = 10  # seconds between sandbox blocks


@dataclass
class Options:
    port: int = DEFAULT_PORT
    sandbox_port: int = DEFAULT_SANDBOX_PORT
    block_interval: float = DEFAULT_BLOCK_INTERVAL
    keep: Path | None = None
    agent: Path | None = None  # the signer agent's own install (requirements/agent.lock)


def run(options: Options, say: Callable[[str], None]) -> None:
    """Start the demo, print how to use it, and block until Ctrl-C (or SIGTERM); then stop all."""
    agent_command = stack.agent_command(options.agent)  # before anything starts
    data_dir = _data_dir(options.keep)
    children: list[Child] = []
    sandbox = miner = None
    # Explicit: a shell's background job inherits SIGINT ignored, and Python then keeps it so.
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        say(f"Huddle demo: regtest sandbox, throwaway data directory {data_dir}")
        say(f"{people.LABEL}: the demo signers hold public BIP-39 test mnemonics. Never send real bitcoin here.")
        sandbox, miner = start_sandbox(options.sandbox_port, options.block_interval)
        members = flow.make_members(data_dir / "huddle.sqlite3", data_dir, agent_command)
        children.append(start_server(data_dir, options.port, sandbox.url, None))
        base, origin = f"http://127.0.0.1:{options.port}", f"http://localhost:{options.port}"
        flow.sign_in(members, base, origin)
        wallet_id = flow.set_up_wallet(members, base, say)
        flow.fund(members[0], wallet_id, sandbox, data_dir / "huddle.sqlite3")
        proposal = flow.propose(members, wallet_id, say)
        flow.run_agents(members, say, children)
        _instructions(say, origin, sandbox.url, members, wallet_id, proposal, children, options)
        stop = threading.Event()
        while not stop.wait(0.5):  # timed: a signal another thread received is handled within 0.5 s
            pass
    except KeyboardInterrupt:
        say("Stopping the demo ...")
    finally:
        for sig in previous:  # a second Ctrl-C must not cut the clean-up short (each child is bounded)
            signal.signal(sig, signal.SIG_IGN)
        for child in reversed(children):  # agents first, then the server
            child.stop()
        if miner is not None:
            miner.stop()
        if sandbox is not None:
            sandbox.stop()
        if options.keep is None:
            shutil.rmtree(data_dir, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        say("Stopped; the demo's data directory was removed." if options.keep is None
            else f"Stopped; the demo's data is kept in {data_dir}.")


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _data_dir(keep: Path | None) -> Path:
    if keep is None:
        return Path(tempfile.mkdtemp(prefix="huddle-demo-"))
    if keep.exists() and any(keep.iterdir()):
        raise InvalidInput("bad_config", f"--keep {keep}: the directory is not empty; name a new one")
    keep.mkdir(mode=0o700, parents=True, exist_ok=True)
    return keep


def _instructions(say, origin, sandbox_url, members, wallet_id, proposal, children, options) -> None:
    url = f"{origin}/wallets/{wallet_id}/proposals/{proposal}"
    bob, carol = members[1], members[2]
    mining = (f"a block every {options.block_interval:g} s" if options.block_interval > 0 else "no timer")
    lines = [
        "",
        f"Huddle demo is ready at {origin}  ({people.LABEL})",
        f"  Wallet {people.WALLET!r} (2-of-3, funded), proposal {proposal}: {people.MEMO!r}",
        "  Sign in without a passkey, with a one-time recovery code (each works once):",
        *[f"    {m.name} (user {m.id}): {'  '.join(m.codes[:flow.CODES_SHOWN])}" for m in members],
        f"  Sandbox chain: {sandbox_url} ({mining}; mine now: curl -X POST {sandbox_url}/sandbox/mine)",
        f"  Data directory: " + ("removed on exit" if options.keep is None
                                                     else str(options.keep)),
        f"  Processes: {', '.join(f'{c.name} pid {c.proc.pid}' for c in children)}",
        "",
        f"1. Open {origin}/signin, open 'Use a recovery code' and paste Ada's first code.",
        f"2. Open the proposal: {url}",
        f"3. Ask Bob (user {bob.id}) to sign: his demo agent checks the spend and signs.",
        f"4. Ask Carol (user {carol.id}) to sign: 2 of 3 signatures, ready to broadcast.",
        "5. Broadcast, then watch it confirm (the sandbox mines blocks by itself).",
        "Press Ctrl-C to stop everything.",
    ]
    for line in lines:
        say(line)
