"""Wallet sync from the regtest sandbox: Huddle's Esplora client against BDK's.

Builds a 2-of-3 wallet with ``--addresses`` used addresses (70% receive, 30%
change) and ``--txs`` transactions: faucet payments, plus one real signed
spend with change per 15 transactions, mined in blocks of 50. Then, several
times each and alternating, syncs it from scratch with:

- Huddle: ``sync_wallet`` into a fresh SQLite file (EsploraClient, 4 connections);
- BDK: bdkpython's ``EsploraClient.full_scan(stop_gap=20, parallel_requests=4)``
  and ``apply_update`` on an in-memory wallet;

and prints wall time and HTTP requests (counted by the sandbox server) side by
side, with medians. Both must find the same balance, or the run fails.

    PYTHONPATH=. python bench/sync.py [--runs 5] [--addresses 1000] [--txs 3000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bdkpython as bdk  # noqa: E402

from coordinator.chain.esplora import EsploraClient  # noqa: E402
from coordinator.chain.model import WalletUtxo  # noqa: E402
from coordinator.chain.sandbox import faucet  # noqa: E402
from coordinator.chain.sandbox import store as chain_store  # noqa: E402
from coordinator.chain.sandbox.chain import Chain  # noqa: E402
from coordinator.chain.sandbox.server import serve  # noqa: E402
from coordinator.chain.sync import sync_wallet  # noqa: E402
from coordinator.store import wallets  # noqa: E402
from coordinator.store.db import open_database  # noqa: E402
from tests.chain.spend import send_back  # noqa: E402
from tests.keys import descriptor  # noqa: E402

DESC = descriptor(2, 3)
OUTSIDE = bytes.fromhex("0014" + "42" * 20)
GAP, PARALLEL, BLOCK_EVERY, SPEND_EVERY = 20, 4, 50, 15


def build_chain(n_addresses: int, n_txs: int) -> Chain:
    chain = Chain()
    receive = n_addresses * 7 // 10
    positions = [(0, i) for i in range(receive)] + [(1, i) for i in range(n_addresses - receive)]
    coins: list[tuple[str, int, int, int]] = []  # (txid, vout, branch, index) of faucet payments
    for n in range(n_txs):
        if n % SPEND_EVERY == SPEND_EVERY - 1 and coins:
            _spend_one(chain, coins.pop(0), positions[n % len(positions)])
        else:
            branch, index = positions[n % len(positions)]
            txid = faucet.pay(chain, DESC.script_pubkey(branch, index).data, 50_000 + n)
            coins.append((txid, branch, index, 50_000 + n))
        if n % BLOCK_EVERY == BLOCK_EVERY - 1:
            chain.mine(1)
    chain.mine(1)
    return chain


def _spend_one(chain: Chain, paid: tuple[str, int, int, int], change_to: tuple[int, int]) -> None:
    txid, branch, index, value = paid
    tx = chain.confirmed[txid][0] if txid in chain.confirmed else chain.mempool[txid].tx
    vout = next(n for n, o in enumerate(tx.vout) if o.value == value)
    utxo = WalletUtxo(txid, vout, value, branch, index, None)
    change_index = change_to[1] if change_to[0] == 1 else 0
    chain.submit(send_back(DESC, utxo, tx.serialize(), OUTSIDE, fee=600, change_index=change_index))


def run_huddle(sandbox) -> tuple[float, int, int, int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Path(tmp) / "bench.sqlite3")
        wallet = wallets.add(db, "bench", "regtest", DESC)
        sandbox.reset_counts()
        cpu = sandbox.cpu_seconds()
        start = time.perf_counter()
        with EsploraClient(sandbox.url, "regtest", concurrency=PARALLEL) as client:
            result = sync_wallet(db, wallet, client, gap=GAP)
        elapsed = time.perf_counter() - start
        db.conn.close()
    return elapsed, sandbox.requests, result.balance.total, len(result.history), sandbox.cpu_seconds() - cpu


def run_bdk(sandbox) -> tuple[float, int, int, int, float]:
    kind = bdk.NetworkKind.TEST
    wallet = bdk.Wallet(bdk.Descriptor(DESC.to_string(branch=0), kind), bdk.Descriptor(DESC.to_string(branch=1), kind),
                        bdk.Network.REGTEST, bdk.Persister.new_in_memory())
    sandbox.reset_counts()
    cpu = sandbox.cpu_seconds()
    start = time.perf_counter()
    client = bdk.EsploraClient(sandbox.url)
    wallet.apply_update(client.full_scan(wallet.start_full_scan().build(), GAP, PARALLEL))
    elapsed = time.perf_counter() - start
    return (elapsed, sandbox.requests, wallet.balance().total.to_sat(), len(wallet.transactions()),
            sandbox.cpu_seconds() - cpu)


class RemoteSandbox:
    """The sandbox server in its own process, as a real Esplora server would be:
    the clients' work then does not compete with the server's for one GIL."""

    def __init__(self, chain_file: Path) -> None:
        cmd = [sys.executable, __file__, "--serve", str(chain_file)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     stderr=subprocess.DEVNULL)
        self.url = self._ask("")

    def _ask(self, line: str) -> str:
        if line:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def reset_counts(self) -> None:
        self._ask("reset")

    @property
    def requests(self) -> int:
        return int(self._ask("count"))

    def cpu_seconds(self) -> float:
        """The server process's CPU time so far (Linux /proc; 0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def serve_file(chain_file: str) -> None:
    """Child mode: serve the saved chain; answer 'reset' and 'count' on stdin."""
    with serve(Chain(path=chain_file)) as sandbox:
        print(sandbox.url, flush=True)
        for line in sys.stdin:
            if line.strip() == "reset":
                sandbox.reset_counts()
                print("ok", flush=True)
            elif line.strip() == "count":
                print(sandbox.requests, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--addresses", type=int, default=1000)
    parser.add_argument("--txs", type=int, default=3000)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve_file(args.serve)
    start = time.perf_counter()
    chain = build_chain(args.addresses, args.txs)
    print(f"chain: height {chain.height}, {len(chain.confirmed) + len(chain.mempool)} transactions, "
          f"built in {time.perf_counter() - start:.1f} s")
    rows = {"huddle": [], "bdk": []}
    with tempfile.TemporaryDirectory() as tmp:
        chain_file = Path(tmp) / "chain.json"
        chain_store.save(chain, chain_file)
        sandbox = RemoteSandbox(chain_file)
        try:
            for _ in range(args.runs):
                rows["huddle"].append(run_huddle(sandbox))
                rows["bdk"].append(run_bdk(sandbox))
        finally:
            sandbox.close()
    _report(rows)


def _report(rows: dict) -> None:
    print(f"{'client':8} {'median s':>9} {'runs (s)':<32} {'requests':>9} {'server cpu s':>13} {'txs':>6}"
          f" {'balance sat':>14}")
    for name, runs in rows.items():
        times = " ".join(f"{r[0]:.2f}" for r in runs)
        print(f"{name:8} {statistics.median(r[0] for r in runs):9.2f} {times:<32} "
              f"{int(statistics.median(r[1] for r in runs)):9d} {statistics.median(r[4] for r in runs):13.2f}"
              f" {runs[0][3]:6d} {runs[0][2]:14d}")
    print("server cpu s: CPU time of the (single-process, Python) sandbox server during the sync;"
          " close to the wall time means the server, not the client, sets the pace.")
    if {r[2] for r in rows["huddle"]} != {r[2] for r in rows["bdk"]}:
        raise SystemExit("the two clients disagree on the balance")


if __name__ == "__main__":
    main()
