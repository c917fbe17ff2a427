"""`huddle audit export` and `huddle audit verify`, run as the real script: a
chain verifies; an edited row makes verify fail and name the entry."""

from __future__ import annotations

import json

from coordinator.accounts import invites, setup
from coordinator.store import open_database, wallets

from .. import keys
from ..cli.runner import fails, huddle, ok, run  # noqa: F401  (fixtures)


def _chain(run) -> str:
    run.data_dir.mkdir(parents=True, exist_ok=True)
    db = open_database(run.database)
    admin = setup.complete(db, setup.issue_token(db), "Ada")
    wallet = wallets.add(db, "Co-op vault", "testnet", keys.descriptor(2, 3))
    for role in ("keyholder", "keyholder", "viewer"):
        invites.create(db, wallet.id, role, admin.id)
    db.close()
    return f"wallet:{wallet.id}"


def test_an_exported_chain_verifies(run, tmp_path):
    chain = _chain(run)
    exported = tmp_path / "chain.jsonl"
    exported.write_text(ok(run("audit", "export", chain)))

    out = json.loads(ok(run("audit", "verify", str(exported), "--json")))

    assert out["chain"] == chain and out["entries"] == 4 and out["head"].startswith("4:")


def test_an_edited_row_fails_verify_naming_the_entry(run, tmp_path):
    chain = _chain(run)
    db = open_database(run.database)
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("UPDATE audit_log SET body = replace(body, 'viewer', 'admin') WHERE chain = ? AND seq = 4", [chain])
    db.close()
    exported = tmp_path / "chain.jsonl"
    exported.write_text(ok(run("audit", "export", chain)))

    line = fails(run("audit", "verify", str(exported)), 3, "audit_chain_broken")

    assert "breaks at entry 4" in line


def test_an_entry_cut_from_the_file_is_named(run, tmp_path):
    lines = ok(run("audit", "export", _chain(run))).splitlines()
    exported = tmp_path / "chain.jsonl"
    exported.write_text("\n".join([lines[0], lines[2]]) + "\n")

    assert "breaks at entry 3" in fails(run("audit", "verify", str(exported)), 3, "audit_chain_broken")


def test_a_file_that_is_not_a_chain_is_refused(run, tmp_path):
    junk = tmp_path / "junk.jsonl"
    junk.write_text('{"not": "an entry"}\n')

    fails(run("audit", "verify", str(junk)), 3, "audit_malformed")
