"""A backup taken while another process submits real signatures about 100 times a
second, through the same core function the REST route calls, restores whole: the
restored database is sound, holds exactly the first signatures the writer had
acknowledged (a prefix: no gap, nothing half-written), and its combined PSBTs
verify every one of them (docs/server.md, "Backups"; issue 14)."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from embit.ec import PublicKey, Signature
from embit.psbt import PSBT

from coordinator.accounts import roles, users
from coordinator.chain.esplora import EsploraClient
from coordinator.chain.sandbox import faucet
from coordinator.chain.sync import sync_wallet
from coordinator.governance import audit, proposals
from coordinator.psbt import codec
from coordinator.psbt.model import Recipient
from coordinator.sessions import signatures
from coordinator.store import open_database, wallets

from .. import keys
from ..psbt.chain import sign
from ..sessions.ceremony_env import start_sandbox
from ..web.funding import faucet_address

HUDDLE = Path(sys.executable).parent / "huddle"
WALLET = "Co-op vault"
COINS, COIN = 180, 10_000  # sat each
PROPOSALS, PAYMENT = 24, 60_000  # each spends about seven coins
RATE = 100  # submissions a second

# One signature per submission, paced to RATE; a line is logged only once submit()
# has returned, i.e. after its transaction committed: the writer's acknowledgement.
WRITER = """
import json, sys, time
from coordinator.governance import proposals
from coordinator.sessions import signatures
from coordinator.store import open_database, wallets
database, jobs, log, user, rate = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
db = open_database(database)
wallet = wallets.get(db, %r)
work = json.load(open(jobs))
cache = {}
start = time.time()
with open(log, "a") as out:
    for seq, job in enumerate(work):
        pause = start + seq / rate - time.time()
        if pause > 0:
            time.sleep(pause)
        proposal = cache.get(job["proposal"]) or proposals.get(db, wallet.id, job["proposal"])
        cache[proposal.id] = proposal
        done = signatures.submit(db, wallet, proposal, job["psbt"], user, "upload")
        out.write(f"{seq} {job['proposal']} {job['input']} {job['pubkey']} {done.added} {time.time():.6f}\\n")
        out.flush()
db.close()
""" % WALLET


def _funded_wallet(database: Path, sandbox):
    """A 2-of-3 wallet with many small confirmed coins (all at one address: one sync), and a keyholder."""
    db = open_database(database)
    wallet = wallets.add(db, WALLET, "regtest", keys.descriptor(2, 3))
    bob = users.create(db, "Bob").id
    roles.grant(db, bob, wallet.id, "keyholder")
    script = wallet.descriptor.script_pubkey(0, 0).data
    for _ in range(COINS):
        faucet.pay(sandbox.chain, script, COIN, confirm=True)
    with EsploraClient(sandbox.url, "regtest", retries=1) as backend:
        sync_wallet(db, wallet, backend)
    return db, wallet, bob


def _jobs(db, wallet, bob) -> list[dict]:
    """Every (proposal, input, key) signature, each alone in its own signed PSBT, interleaved."""
    made = [proposals.create(db, wallet, bob, [Recipient(faucet_address(), PAYMENT)], f"rent {n}", 2_000)
            for n in range(PROPOSALS)]
    jobs = []
    for signer in (0, 1, 2):
        for proposal in made:
            signed = sign(PSBT.from_string(proposal.psbt), [signer])
            for i, scope in enumerate(signed.inputs):
                alone = PSBT.parse(signed.serialize())
                for j, other in enumerate(alone.inputs):
                    if j != i:
                        other.partial_sigs.clear()
                (pub,) = scope.partial_sigs
                jobs.append({"proposal": proposal.id, "input": i, "pubkey": pub.sec().hex(),
                             "psbt": base64.b64encode(alone.serialize()).decode()})
    return jobs


def _huddle(data: Path, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
    env.update(HUDDLE_DATA=str(data), HUDDLE_NETWORK="regtest")
    done = subprocess.run([str(HUDDLE), *args, "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _acknowledged(log: Path) -> list[tuple]:
    lines = [line.split() for line in log.read_text().splitlines()] if log.exists() else []
    return [(int(p), int(i), pub, int(added), float(t)) for _, p, i, pub, added, t in lines]


def _signed_correctly(psbt: PSBT) -> int:
    """Each partial signature checked with embit's own segwit sighash (BIP-143), not ours; their count."""
    count = 0
    for i, scope in enumerate(psbt.inputs):
        for pub, sig in scope.partial_sigs.items():
            digest = psbt.sighash_segwit(i, scope.witness_script, scope.utxo.value, sighash=sig[-1])
            assert PublicKey.verify(pub, Signature.parse(sig[:-1]), digest), (i, pub.sec().hex())
            count += 1
    return count


def test_a_backup_taken_while_another_process_submits_100_signatures_a_second_restores_every_one(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    database = data / "huddle.sqlite3"
    sandbox = start_sandbox()
    try:
        db, wallet, bob = _funded_wallet(database, sandbox)
    finally:
        sandbox.stop()
    jobs = _jobs(db, wallet, bob)
    db.close()
    assert len(jobs) >= 400  # enough distinct signatures for several seconds at RATE
    work, log = tmp_path / "jobs.json", tmp_path / "acknowledged.log"
    work.write_text(json.dumps(jobs))

    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(database), str(work), str(log), str(bob),
                               str(RATE)])
    try:
        deadline = time.monotonic() + 60
        while len(_acknowledged(log)) < len(jobs) // 4 and time.monotonic() < deadline and writer.poll() is None:
            time.sleep(0.05)
        before = len(_acknowledged(log))
        saved = _huddle(data, "backup", str(tmp_path / "off-site.sqlite3"))["backup"]
        after = len(_acknowledged(log))
    finally:
        assert writer.wait(timeout=180) == 0
    acked = _acknowledged(log)
    rate = (len(acked) - 1) / (acked[-1][4] - acked[0][4])
    elsewhere = tmp_path / "new-server"
    restored = _huddle(elsewhere, "restore", saved)

    assert restored["kept"] is None
    conn = sqlite3.connect(elsewhere / "huddle.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = set(conn.execute("SELECT proposal_id, input, pubkey FROM signatures").fetchall())
    conn.close()
    print(f"\nwriter: {len(acked)} signatures acknowledged at {rate:.0f}/s; backup started after {before}, "
          f"returned after {after}; the restored database holds the first {len(rows)}")
    assert len(acked) == len(jobs) and all(a[3] == 1 for a in acked)  # each one new, each one acknowledged
    # One consistent moment: exactly the first len(rows) acknowledged, however many were mid-flight.
    assert before <= len(rows) < len(acked)
    assert rows == {(p, i, pub) for p, i, pub, _, _ in acked[:len(rows)]}

    db = open_database(elsewhere / "huddle.sqlite3")
    wallet = wallets.get(db, WALLET)
    entries = [e.body for e in audit.entries(db, f"wallet:{wallet.id}") if e.type == "signature_added"]
    assert {(e["proposal"], e["input"], e["pubkey"]) for e in entries} == rows and len(entries) == len(rows)
    verified = 0
    for proposal in proposals.list_for(db, wallet.id):
        psbt = signatures.combined(db, wallet, proposal)
        mine = {(proposal.id, r.input, r.pubkey) for r in signatures.verified(wallet, proposal,
                                                                              codec.to_base64(psbt))}
        assert mine == {r for r in rows if r[0] == proposal.id}  # the merge verifies each one again
        verified += _signed_correctly(PSBT.parse(psbt.serialize()))
    db.close()
    assert verified == len(rows)
