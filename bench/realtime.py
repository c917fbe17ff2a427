"""Real-time delivery under load: threads (simple-websocket) against gevent, side by side.

Builds one database with ``--ceremonies`` wallets (2-of-3), each with ``--clients``
members (an agent token each) and one open proposal. For each async mode it copies
that database, starts the server under gunicorn in its own process (threading: the
gthread worker with a thread per socket; gevent: the gevent worker), and starts the
clients in another process (DESIGN.md, "Speed"): ``--clients`` python-socketio
clients per ceremony, joined to its ceremony room over WebSocket. Each ceremony's
three cosigners then submit their real signatures through the REST API, about
``--pause`` seconds apart, all ceremonies at once (``--submit comments``: ``--rounds``
comments each, joined to the wallet's room). For each submission it measures the
time from just before the POST to the moment the last of the ceremony's clients has
the event. A first row runs one ceremony alone, as the baseline.

Prints, per mode: p50/p99/max latency, submissions and deliveries per second, the
server worker's peak RSS (VmHWM) and most threads, the POST's own median, and any lost, duplicated
or missing event. Goals on a 2-core machine: p99 < 100 ms, RSS < 150 MB
(docs/scaling.md has the figures).

    PYTHONPATH=. python bench/realtime.py [--ceremonies 100] [--clients 5] [--pause 5] [--submit signatures|comments]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ORIGIN = "http://localhost:5000"
SECRET = "b" * 32
MODES = ("threading", "gevent")


# -- the database -------------------------------------------------------------------

def build_database(path: Path, ceremonies: int, clients: int) -> list[dict]:
    """``ceremonies`` funded 2-of-3 wallets, ``clients`` members each, one proposal each."""
    from base64 import b64encode
    from itertools import combinations

    from embit.psbt import PSBT

    from embit.networks import NETWORKS
    from embit.script import Script

    from coordinator.accounts import api_tokens, roles, users
    from coordinator.chain.esplora import EsploraClient
    from coordinator.chain.sandbox import faucet
    from coordinator.chain.sandbox.chain import Chain
    from coordinator.chain.sandbox.server import serve
    from coordinator.chain.sync import sync_wallet
    from coordinator.governance import audit, proposals
    from coordinator.psbt.model import Recipient
    from coordinator.store import open_database, wallets
    from coordinator.wallet.descriptor import MultisigDescriptor
    from tests import keys
    from tests.psbt.chain import sign

    db, server = open_database(path), serve(Chain())
    pay_to = Script(bytes.fromhex("0014" + "42" * 20)).address(NETWORKS["regtest"])
    plan, trios, seeds = [], combinations(range(len(keys.MNEMONICS)), 3), {}
    made = []
    for c in range(ceremonies):
        trio = next(trios)
        desc = MultisigDescriptor("wsh", 2, tuple(keys.cosigner(i) for i in trio))
        wallet = wallets.add(db, f"group {c}", "regtest", desc)
        seeds[wallet.id] = trio
        members = [users.create(db, f"member {c}.{m}") for m in range(clients)]
        for m, user in enumerate(members):
            roles.grant(db, user.id, wallet.id, "keyholder" if m else "admin")
        audit.start_wallet_chain(db, wallet.id, actor=f"user:{members[0].id}")
        faucet.pay(server.chain, desc.script_pubkey(0, 0).data, 100_000)
        made.append((wallet, members))
    server.chain.mine(1)
    with EsploraClient(server.url, "regtest", retries=1) as backend:
        for wallet, members in made:
            sync_wallet(db, wallets.get(db, wallet.name), backend)
            proposal = proposals.create(db, wallets.get(db, wallet.name), members[-1].id,
                                        [Recipient(pay_to, 20_000)], "bench", 2_000)
            tokens = [api_tokens.create(db, u.id, ["agent"])[1] for u in members]
            signed = [(b64encode(sign(PSBT.from_string(proposal.psbt), [i]).serialize()).decode(), keys.fingerprint(i))
                      for i in seeds[wallet.id]]
            plan.append({"wallet_id": wallet.id, "proposal_id": proposal.id, "tokens": tokens, "signed": signed})
    server.stop()
    db.close()
    return plan


# -- the server process -------------------------------------------------------------

def run_server(mode: str, database: str, port: int, sockets: int) -> None:
    """gunicorn, one worker, in this process (``--role serve``). Threads: exactly what
    ``huddle serve`` runs (web/production.py), with ``--threads`` raised so every socket
    gets a thread and the API keeps its reserve (web/socket_budget.py), as docs/scaling.md
    advises; gevent: the same options with gevent's worker."""
    if mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    from coordinator.web import WebConfig, create_app, production

    config = WebConfig(Path(database), SECRET, ORIGIN, "regtest", rate_limits=False, async_mode=mode)
    if mode == "threading":
        from coordinator.web.socket_budget import threads_for

        return production.serve(lambda: create_app(config), "127.0.0.1", port, threads=threads_for(sockets + 8),
                                graceful_timeout=2)
    options = {**production.options("127.0.0.1", port, graceful_timeout=2),
               "worker_class": "gevent", "worker_connections": sockets + 200}
    production.Server(lambda: create_app(config), options).run()


def worker_pid(master: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise SystemExit("gunicorn started no worker")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def most_threads(pid: int, stop) -> list[int]:
    """The worker's thread count, sampled every 0.2 s until ``stop`` is set: the most it had
    (each open socket holds several threads; docs/scaling.md)."""
    import threading

    seen = [0]

    def sample() -> None:
        while not stop.wait(0.2):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:  # the worker is gone
                return
            for line in status.splitlines():
                if line.startswith("Threads:"):
                    seen[0] = max(seen[0], int(line.split()[1]))

    threading.Thread(target=sample, daemon=True).start()
    return seen


def wait_http(url: str, proc: subprocess.Popen) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited with {proc.returncode}")
        time.sleep(0.2)
    raise SystemExit("the server did not start")


# -- the clients process ------------------------------------------------------------

def run_clients(url: str, plan_file: str, clients: int, rounds: int, pause: float, submit: str) -> None:
    """All the members' sockets and the submissions, as greenlets (``--role clients``);
    prints the measurements as JSON."""
    from gevent import monkey

    monkey.patch_all()
    import gevent
    import gevent.pool
    import requests
    import socketio

    plan = json.loads(Path(plan_file).read_text())
    seen: dict[tuple[int, int], list[float]] = {}
    done: dict[tuple[int, int], gevent.event.Event] = {}
    per_client: list[list[int]] = []

    def member(ceremony: dict, token: str) -> socketio.Client:
        seqs: list[int] = []
        per_client.append(seqs)
        sio = socketio.Client(reconnection=False, websocket_extra_options={"suppress_origin": True})

        def got(envelope: dict) -> None:
            seqs.append(envelope["seq"])
            if envelope["type"] in ("comment_added", "signature_added"):
                data = envelope["data"]
                key = (ceremony["wallet_id"], data.get("comment") or data.get("fingerprint"))
                seen.setdefault(key, []).append(time.monotonic())
                if len(seen[key]) == clients:
                    done.setdefault(key, gevent.event.Event()).set()

        sio.on("event", got, namespace="/wallets")
        sio.on("disconnect", lambda *_: errors.__setitem__("disconnected", errors.get("disconnected", 0) + 1),
               namespace="/wallets")
        sio.connect(url, namespaces=["/wallets"], auth={"token": token}, headers={"Origin": ORIGIN},
                    transports=["websocket"], wait_timeout=30)
        room = {"wallet_id": ceremony["wallet_id"]} if submit == "comments" else \
            {"wallet_id": ceremony["wallet_id"], "proposal_id": ceremony["proposal_id"]}
        for _ in range(5):
            answer = sio.call("join" if submit == "comments" else "join_ceremony", room, namespace="/wallets",
                              timeout=30)
            if "events" in answer:
                break
            code = answer.get("error", {}).get("code", "join_refused")
            errors[f"join: {code}"] = errors.get(f"join: {code}", 0) + 1
            gevent.sleep(1)
        seqs[:0] = [e["seq"] for e in answer.get("events", [])]
        return sio

    errors: dict[str, int] = {}
    pool = gevent.pool.Pool(50)  # connect in waves, not one storm
    sockets = pool.map(lambda pair: member(*pair), [(c, t) for c in plan for t in c["tokens"][:clients]])
    latencies: list[float] = []
    answered: list[float] = []
    lost = 0

    def ceremony(c: dict) -> None:
        nonlocal lost
        http = requests.Session()  # a new connection per POST: no race with the server's keep-alive close
        http.headers.update({"Authorization": f"Bearer {c['tokens'][-1]}", "Connection": "close"})
        base = f"{url}/api/v1/wallets/{c['wallet_id']}/proposals/{c['proposal_id']}"
        target, bodies = (f"{base}/comments", [{"text": f"round {r}"} for r in range(rounds)]) if submit == "comments" \
            else (f"{base}/signatures", [{"psbt": psbt, "channel": "upload"} for psbt, _ in c["signed"]])
        draw = random.Random(c["wallet_id"])
        for n, body in enumerate(bodies):
            gevent.sleep(pause * draw.uniform(0.5, 1.5))  # a member's think time; 0: back to back
            start = time.monotonic()
            try:
                answer = http.post(target, json=body, timeout=30)
            except requests.RequestException as err:
                errors[type(err).__name__] = errors.get(type(err).__name__, 0) + 1
                continue
            if answer.status_code != 201:
                code = answer.json().get("error", {}).get("code", str(answer.status_code))
                errors[code] = errors.get(code, 0) + 1
                continue
            answered.append(time.monotonic() - start)
            key = (c["wallet_id"], answer.json()["comment"]["id"] if submit == "comments" else c["signed"][n][1])
            if done.setdefault(key, gevent.event.Event()).wait(timeout=10):
                latencies.append(max(seen[key]) - start)
            else:
                lost += 1

    began = time.monotonic()
    gevent.joinall([gevent.spawn(ceremony, c) for c in plan], raise_error=True)
    wall = time.monotonic() - began
    gevent.sleep(0.5)  # a late duplicate would land now
    result = {"latencies": latencies, "answered": answered, "wall": wall, "lost": lost, "errors": dict(errors),
              "duplicates": sum(len(s) - len(set(s)) for s in per_client),
              "gaps": sum(max(s) - min(s) + 1 - len(set(s)) for s in per_client if s),
              "deliveries": sum(len(v) for v in seen.values()), "submissions": len(latencies) + lost}
    for sio in sockets:  # after the figures: these disconnects are ours
        sio.disconnect()
    print(json.dumps(result))


# -- the run ------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(mode: str, template: Path, plan_file: Path, args) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"bench-rt-{mode}-"))
    database = work / "huddle.sqlite3"
    shutil.copy(template, database)
    port = free_port()
    me = [sys.executable, str(Path(__file__).resolve())]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}, "PYTHONPATH": str(ROOT)}
    log = (work / "server.log").open("w")
    stop = threading.Event()
    server = subprocess.Popen([*me, "--role", "serve", "--mode", mode, "--db", str(database), "--port", str(port),
                               "--sockets", str(args.ceremonies * args.clients)], env=env, stderr=log)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(url, server)
        worker = worker_pid(server.pid)
        threads = most_threads(worker, stop)
        out = subprocess.run([*me, "--role", "clients", "--url", url, "--plan", str(plan_file),
                              "--clients", str(args.clients), "--rounds", str(args.rounds),
                              "--pause", str(args.pause), "--submit", args.submit],
                             env=env, capture_output=True, text=True, timeout=1800)
        if out.returncode != 0:
            server_log = (work / "server.log").read_text()[-3000:]
            raise SystemExit(f"the clients failed under {mode}:\n{out.stderr[-3000:]}\nserver:\n{server_log}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["rss"], result["threads"] = peak_rss_mb(worker), threads[0]
        return result
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def report(mode: str, r: dict) -> str:
    ms = [v * 1000 for v in r["latencies"]]
    return (f"{mode:<10} {percentile(ms, 50):>8.1f} {percentile(ms, 99):>8.1f} {max(ms, default=0):>8.1f} "
            f"{r['submissions'] / r['wall']:>9.1f} {r['deliveries'] / r['wall']:>10.1f} {r['rss']:>8.1f} {r['threads']:>7} "
            f"{r['lost']:>5} {r['duplicates']:>5} {r['gaps']:>5} {percentile(r['answered'], 50) * 1000:>8.1f} "
            f"{r['errors'] or ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ceremonies", type=int, default=100)
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--submit", choices=("signatures", "comments"), default="signatures",
                        help="signatures: each cosigner's, 3 per ceremony; comments: --rounds each")
    parser.add_argument("--pause", type=float, default=5.0,
                        help="mean seconds between a ceremony's submissions (0: back to back)")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--role", choices=("run", "serve", "clients"), default="run")
    parser.add_argument("--mode"), parser.add_argument("--db"), parser.add_argument("--port", type=int)
    parser.add_argument("--sockets", type=int), parser.add_argument("--url"), parser.add_argument("--plan")
    args = parser.parse_args()
    if args.role == "serve":
        return run_server(args.mode, args.db, args.port, args.sockets)
    if args.role == "clients":
        return run_clients(args.url, args.plan, args.clients, args.rounds, args.pause, args.submit)
    work = Path(tempfile.mkdtemp(prefix="bench-rt-"))
    began = time.monotonic()
    plan = build_database(work / "template.sqlite3", args.ceremonies, args.clients)
    (work / "plan.json").write_text(json.dumps(plan))
    (work / "alone.json").write_text(json.dumps(plan[:1]))
    what = f"{args.rounds} comments" if args.submit == "comments" else "3 signatures (one per cosigner)"
    print(f"{args.ceremonies} ceremonies x {args.clients} clients, {what} each, "
          f"{args.pause} s apart on average "
          f"(set up in {time.monotonic() - began:.0f} s); {os.cpu_count()} CPUs")
    print(f"{'mode':<10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'submit/s':>9} {'deliver/s':>10} "
          f"{'RSS MB':>8} {'threads':>7} {'lost':>5} {'dups':>5} {'gaps':>5} {'POST p50':>8} errors")
    template = work / "template.sqlite3"
    print(report("baseline", measure("threading", template, work / "alone.json", args)) + " (one ceremony alone)",
          flush=True)
    for mode in args.modes.split(","):
        print(report(mode, measure(mode, template, work / "plan.json", args)), flush=True)
    print("goals: p99 < 100 ms, server RSS < 150 MB; latency: just before the POST to the last client's receipt")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
