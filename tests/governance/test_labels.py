"""BIP-329 labels: the BIP's own example imports whole; export, import, export is
the identity; a bad file names its line and changes nothing; memos are never
rewritten by an import and export as tx labels."""

from __future__ import annotations

import datetime
import hashlib
import json

import pytest
from embit.networks import NETWORKS
from embit.psbt import PSBT
from embit.script import Script
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordinator.accounts import users
from coordinator.chain.sync import sync_wallet
from coordinator.errors import InvalidInput
from coordinator.governance import audit, labels, ledger, proposals
from coordinator.psbt.model import Recipient as Payment
from coordinator.store import open_database, wallets

from .. import keys
from ..chain.walletenv import OUTSIDE, chain, client, pay, sandbox, wallet  # noqa: F401  (fixtures)
from .test_ledger import _broadcast
from ..psbt.chain import sign

TXID = "f91d0a8a78462bc59398f2c5d7a84fcff491c26ba54c4833478b202796c8aafd"


@pytest.fixture
def mainnet(db):
    return wallets.add(db, "vault", "bitcoin", keys.descriptor(2, 3, is_test=False))


def _rows(db, wallet_id: int) -> tuple[int, int]:
    count = db.execute("SELECT count(*) FROM wallet_labels WHERE wallet_id = ?", [wallet_id]).fetchone()[0]
    return count, audit.head(db, audit.wallet_chain(wallet_id)).seq


def test_the_bips_example_file_imports_whole_and_exports_back(db, mainnet, vectors_dir):
    text = (vectors_dir / "bip329.jsonl").read_text(encoding="utf-8")
    upstream = [json.loads(line) for line in text.splitlines()]

    result = labels.import_labels(db, mainnet.id, "bitcoin", text, actor=1)
    exported = [json.loads(line) for line in labels.export(db, mainnet.id).splitlines()]

    assert result.to_dict() == {"records": 8, "applied": 8, "unchanged": 0}
    assert sorted(exported, key=json.dumps) == sorted(upstream, key=json.dumps)
    assert [r["type"] for r in exported] == ["tx", "tx", "addr", "pubkey", "input", "output", "xpub", "spscan"]


def test_an_import_is_recorded_in_the_audit_chain_with_the_files_hash(db, mainnet, vectors_dir):
    text = (vectors_dir / "bip329.jsonl").read_text(encoding="utf-8")

    labels.import_labels(db, mainnet.id, "bitcoin", text, actor=7)
    entry = audit.entries(db, audit.wallet_chain(mainnet.id))[-1]

    assert entry.type == "labels_imported" and entry.actor == "user:7"
    assert entry.body == {"records": 8, "applied": 8, "sha256": hashlib.sha256(text.encode()).hexdigest()}


# -- round trip -----------------------------------------------------------------

_hex = st.binary(min_size=32, max_size=32).map(bytes.hex)
_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_refs = {
    "tx": _hex,
    "input": st.tuples(_hex, st.integers(0, 2**32 - 1)).map(lambda t: f"{t[0]}:{t[1]}"),
    "output": st.tuples(_hex, st.integers(0, 2**32 - 1)).map(lambda t: f"{t[0]}:{t[1]}"),
    "addr": st.binary(min_size=20, max_size=20).map(
        lambda h: Script(b"\x00\x14" + h).address(NETWORKS["regtest"])),
    "pubkey": st.tuples(st.sampled_from(["02", "03"]), _hex).map("".join),
    "xpub": st.integers(0, 15).map(keys.xpub),
}


@st.composite
def _records(draw) -> list[dict]:
    out, seen = [], set()
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(sorted(_refs)))
        ref = draw(_refs[kind])
        if (kind, ref) in seen:
            continue
        seen.add((kind, ref))
        record = {"type": kind, "ref": ref, "label": draw(_text)}
        if draw(st.booleans()):
            record["origin"] = draw(st.sampled_from(["wsh([d34db33f/48'/1'/0'/2'])", "wpkh([73c5da0a/84h/1h/0h])"]))
        if kind == "output" and draw(st.booleans()):
            record["spendable"] = draw(st.booleans())
        out.append(record)
    return out


@given(records=_records())
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_export_then_import_then_export_is_the_same_file(tmp_path_factory, records):
    db = open_database(tmp_path_factory.mktemp("labels") / "h.sqlite3")
    wallet = wallets.add(db, "co-op", "regtest", keys.descriptor(2, 3))
    labels.import_labels(db, wallet.id, "regtest", "\n".join(json.dumps(r) for r in records), actor=1)

    first = labels.export(db, wallet.id)
    again = labels.import_labels(db, wallet.id, "regtest", first, actor=1)
    second = labels.export(db, wallet.id)

    assert second == first and again.applied == 0
    canonical = lambda r: json.dumps(r, sort_keys=True)  # noqa: E731
    assert sorted(canonical(json.loads(line)) for line in first.splitlines()) == sorted(map(canonical, records))
    db.close()


# -- refusals ---------------------------------------------------------------------

GOOD = json.dumps({"type": "tx", "ref": TXID, "label": "fine"})
BAD_LINES = [
    ("{not json", "labels_malformed"),
    ("[1, 2]", "labels_malformed"),
    ('{"type": "tx", "type": "tx", "ref": "%s"}' % TXID, "labels_malformed"),
    ('{"type": "tx", "ref": "%s", "label": NaN}' % TXID, "labels_malformed"),
    ('{"type": "txn", "ref": "%s", "label": "x"}' % TXID, "label_bad_type"),
    ('{"ref": "%s", "label": "x"}' % TXID, "label_bad_type"),
    ('{"type": "tx", "ref": "%s", "label": "x"}' % TXID[:-1], "label_bad_ref"),
    ('{"type": "tx", "ref": 5, "label": "x"}', "label_bad_ref"),
    ('{"type": "output", "ref": "%s:01", "label": "x"}' % TXID, "label_bad_ref"),
    ('{"type": "input", "ref": "%s:4294967296", "label": "x"}' % TXID, "label_bad_ref"),
    ('{"type": "addr", "ref": "bc1q34aq5drpuwy3wgl9lhup9892qp6svr8ldzyy7c", "label": "x"}', "label_bad_ref"),
    ('{"type": "addr", "ref": "not an address", "label": "x"}', "label_bad_ref"),
    ('{"type": "pubkey", "ref": "05%s", "label": "x"}' % ("00" * 32), "label_bad_ref"),
    ('{"type": "xpub", "ref": "%s", "label": "x"}' % keys.root(0).to_base58(), "label_bad_ref"),
    ('{"type": "xpub", "ref": "%s", "label": "x"}' % keys.xpub(0, is_test=False), "label_bad_ref"),
    ('{"type": "spscan", "ref": "spscan1qqqqqqqqqq", "label": "x"}', "label_bad_ref"),
    ('{"type": "tx", "ref": "%s", "label": "x", "colour": "red"}' % TXID, "label_bad_field"),
    ('{"type": "tx", "ref": "%s", "label": %s}' % (TXID, json.dumps("x" * 1001)), "label_bad_field"),
    ('{"type": "tx", "ref": "%s", "label": 12}' % TXID, "label_bad_field"),
    ('{"type": "tx", "ref": "%s", "label": "\\ud800"}' % TXID, "label_bad_field"),
    ('{"type": "tx", "ref": "%s", "label": "x", "spendable": false}' % TXID, "label_bad_field"),
    ('{"type": "output", "ref": "%s:1", "spendable": "false"}' % TXID, "label_bad_field"),
    ('{"type": "tx", "ref": "%s", "label": "x", "origin": "wpkh([d34db33f/84\'/0\'/0\'])#abcdefgh"}' % TXID,
     "label_bad_field"),
    (GOOD.replace("fine", "again"), "label_duplicate"),
]


@pytest.mark.parametrize("line,code", BAD_LINES, ids=[f"{c}-{i}" for i, (_, c) in enumerate(BAD_LINES)])
def test_a_bad_line_is_named_and_nothing_is_written(db, wallet, line, code):
    text = "\n".join([GOOD, json.dumps({"type": "output", "ref": f"{TXID}:0", "label": "coin"}), line])
    before = _rows(db, wallet.id)

    with pytest.raises(InvalidInput) as refused:
        labels.import_labels(db, wallet.id, "regtest", text, actor=1)

    assert refused.value.code == code and refused.value.details["line"] == 3 and "line 3" in refused.value.message
    assert _rows(db, wallet.id) == before


def test_the_size_limits_are_refused_before_anything_is_read(db, wallet):
    too_many = "\n".join([GOOD.replace(TXID, f"{i:064x}") for i in range(labels.MAX_LINES + 1)])
    long_line = json.dumps({"type": "tx", "ref": TXID, "label": "x", "fee": "9" * labels.MAX_LINE_BYTES})

    codes = []
    for text in (too_many, long_line, "x" * (labels.MAX_BYTES + 1), b"\xff\xfe"):
        with pytest.raises(InvalidInput) as refused:
            labels.import_labels(db, wallet.id, "regtest", text, actor=1)
        codes.append(refused.value.code)

    assert codes == ["labels_too_large", "labels_too_large", "labels_too_large", "labels_malformed"]
    assert _rows(db, wallet.id) == (0, 0)


def test_an_omitted_label_or_spendable_leaves_the_stored_one(db, wallet):
    ref = f"{TXID}:1"
    labels.import_labels(db, wallet.id, "regtest", json.dumps({"type": "output", "ref": ref, "label": "cold"}), 1)

    labels.import_labels(db, wallet.id, "regtest", json.dumps({"type": "output", "ref": ref, "spendable": False}), 1)
    labels.import_labels(db, wallet.id, "regtest", json.dumps({"type": "output", "ref": ref}), 1)

    assert labels.stored(db, wallet.id) == [labels.Label("output", ref, "cold", None, False)]


def test_windows_line_ends_a_byte_order_mark_and_upper_case_hex_are_read(db, wallet):
    text = "\ufeff" + GOOD.replace(TXID, TXID.upper()) + "\r\n\r\n"

    labels.import_labels(db, wallet.id, "regtest", text, actor=1)

    assert labels.stored(db, wallet.id) == [labels.Label("tx", TXID, "fine")]


# -- memos ---------------------------------------------------------------------------

@pytest.fixture
def spent(db, wallet, chain, client):
    """A proposal with a memo, signed, broadcast and synced: its tx is in the ledger."""
    pay(chain, 0, 0, 100_000, confirm=True)
    sync_wallet(db, wallet, client)
    bob = users.create(db, "Bob")
    made = proposals.create(db, wallet, bob.id, [Payment(Script(OUTSIDE).address(NETWORKS["regtest"]), 30_000)],
                            "new roof", 2_000)
    _broadcast(client, sign(PSBT.from_base64(made.psbt), [0, 1]).to_base64())
    sync_wallet(db, wallet, client)
    return made, ledger.build(db, wallet.id).entries[-1].txid


def test_a_memo_exports_as_its_transactions_label_with_what_the_chain_says(db, wallet, spent, chain, client):
    _, txid = spent
    pending = ledger.build(db, wallet.id).entries[-1]

    exported = [json.loads(line) for line in labels.export(db, wallet.id).splitlines()]
    chain.mine(6)
    sync_wallet(db, wallet, client)
    deep = json.loads(labels.export(db, wallet.id))

    assert exported == [{"type": "tx", "ref": txid, "label": "new roof", "fee": pending.fee, "value": pending.net}]
    mined = ledger.build(db, wallet.id).entries[-1]
    block_time = datetime.datetime.fromtimestamp(mined.time, datetime.timezone.utc)
    assert deep == {**exported[0], "height": mined.height, "time": block_time.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert labels.import_labels(db, wallet.id, "regtest", labels.export(db, wallet.id), actor=1).applied == 0


def test_an_import_never_rewrites_a_memo(db, wallet, spent):
    made, txid = spent
    other = json.dumps({"type": "tx", "ref": txid, "label": "roof (from Sparrow)"})

    labels.import_labels(db, wallet.id, "regtest", other, actor=1)
    entry = ledger.build(db, wallet.id).entries[-1]

    assert proposals.get(db, wallet.id, made.id).memo == "new roof"
    assert entry.memo == "new roof" and entry.label == "roof (from Sparrow)"
    assert json.loads(labels.export(db, wallet.id))["label"] == "new roof"


def test_the_memo_coming_back_in_an_import_is_not_stored_as_a_label(db, wallet, spent):
    first = labels.export(db, wallet.id)

    result = labels.import_labels(db, wallet.id, "regtest", first, actor=1)

    assert result.to_dict() == {"records": 1, "applied": 0, "unchanged": 1}
    assert labels.stored(db, wallet.id) == [] and labels.export(db, wallet.id) == first
