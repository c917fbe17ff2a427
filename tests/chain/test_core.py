"""The Bitcoin Core client against a loopback JSON-RPC server that answers with
Core's documented shapes (see fake_core.py for the version and source of each)."""

from __future__ import annotations

import socket
from decimal import Decimal

import httpx
import pytest
from embit.descriptor.checksum import checksum
from embit.script import Script
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from coordinator.chain.backend import (
    BackendError,
    Rejected,
    Timeout,
    TxNotFound,
    Unreachable,
)
from coordinator.chain.core import (
    CoreClient,
    CoreError,
    CoreWarmingUp,
    core_wallet_name,
    default_cookie_path,
    to_sats,
)
from coordinator.errors import InvalidInput

from ..keys import descriptor
from .fake_core import NOT_LOADED, FakeCore, Wallet

DESC = descriptor(2, 3)
BIRTH = 1_700_000_000
NAME = core_wallet_name("Co-op fund 2024.1")  # spaces and dots: the wallet path is URL-quoted
STRANGER = Script(b"\x00\x14" + bytes(20))


@pytest.fixture
def core(tmp_path):
    with FakeCore(tmp_path, rpcauth=("alice", "correct horse battery")) as fake:
        yield fake


def connect(core, **kw) -> CoreClient:
    kw = {"cookie_path": core.cookie_path, "timeout": 5.0, "retries": 1, "retry_delay": 0.01, **kw}
    return CoreClient(core.url, "regtest", **kw)


@pytest.fixture
def client(core):
    c = connect(core)
    yield c
    c.close()


@pytest.fixture
def wallet(core, client):
    client.ensure_wallet(NAME, DESC, BIRTH)
    return NAME


def spend(outpoints, outputs) -> bytes:
    vin = [TransactionInput(bytes.fromhex(txid), vout) for txid, vout in outpoints]
    return Transaction(vin=vin, vout=[TransactionOutput(v, s) for s, v in outputs]).serialize()


# -- connecting and authenticating -------------------------------------------------


def test_cookie_auth_reads_the_cookie_file(core, client):
    assert client.tip() == (0, core.blocks[0][0])


def test_user_and_password_come_from_the_core_url(core):
    port = core.url.rsplit(":", 1)[1]
    c = CoreClient.from_spec(f"core:http://alice:correct%20horse%20battery@127.0.0.1:{port}", "regtest")
    core.mine(2)
    assert c.tip() == (2, core.blocks[2][0])
    assert "horse" not in repr(c) and c.url == f"http://127.0.0.1:{port}"


def test_cookie_path_comes_from_the_environment_or_the_network_default(core, tmp_path):
    c = CoreClient.from_spec(core.url, "regtest", env={"HUDDLE_CORE_COOKIE": str(core.cookie_path)})
    assert c.tip()[0] == 0
    assert default_cookie_path("regtest", tmp_path) == tmp_path / ".bitcoin" / "regtest" / ".cookie"
    assert default_cookie_path("bitcoin", tmp_path) == tmp_path / ".bitcoin" / ".cookie"
    assert default_cookie_path("testnet", tmp_path) == tmp_path / ".bitcoin" / "testnet3" / ".cookie"


def test_a_malformed_core_url_is_a_config_error():
    with pytest.raises(InvalidInput) as err:
        CoreClient.from_spec("core:127.0.0.1:8332", "regtest")
    assert err.value.code == "bad_config"


def test_wrong_password_is_a_clear_error_that_never_shows_the_secret(core):
    c = CoreClient(core.url, "regtest", user="alice", password="Tr0ub4dor&3", retries=0)
    with pytest.raises(BackendError) as err:
        c.tip()
    text = f"{err.value} {err.value.to_dict()} {c!r}"
    assert err.value.code == "backend_error" and "HTTP 401" in text and "user and password" in text
    assert "Tr0ub4dor" not in text


def test_a_stale_cookie_names_the_file_but_not_its_secret(core, tmp_path):
    stale = tmp_path / "old.cookie"
    stale.write_text("__cookie__:deadbeefcafef00d")
    with pytest.raises(BackendError) as err:
        connect(core, cookie_path=stale).tip()
    assert "HTTP 401" in str(err.value) and str(stale) in str(err.value)
    assert "deadbeefcafef00d" not in f"{err.value} {err.value.to_dict()}"


def test_a_new_cookie_after_a_node_restart_is_picked_up(core, client):
    client.tip()
    core.cookie_path.write_text("__cookie__:" + "ab" * 32)  # bitcoind restarted
    assert client.tip()[0] == 0


def test_a_missing_cookie_file_says_what_to_do(core, tmp_path):
    with pytest.raises(BackendError) as err:
        connect(core, cookie_path=tmp_path / "nope").tip()
    assert "HUDDLE_CORE_COOKIE" in str(err.value) and "is bitcoind running" in str(err.value)


def test_tip_refuses_a_node_on_another_network(core):
    with pytest.raises(BackendError, match="runs regtest"):
        CoreClient(core.url, "testnet", cookie_path=core.cookie_path).tip()


# -- failures of the node or the network --------------------------------------------


def test_connection_refused_is_unreachable(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cookie = tmp_path / ".cookie"
    cookie.write_text("__cookie__:00")
    c = CoreClient(f"http://127.0.0.1:{port}", "regtest", cookie_path=cookie, retries=1, retry_delay=0.01)
    with pytest.raises(Unreachable) as err:
        c.tip()
    assert err.value.code == "backend_unreachable" and str(port) in str(err.value)


def test_a_slow_node_is_a_timeout(core):
    core.delay = 1.0
    with pytest.raises(Timeout) as err:
        connect(core, timeout=0.2, retries=0).tip()
    assert err.value.code == "backend_timeout"


def test_warmup_is_retried_and_then_answers(core, client):
    core.warmup_calls = 1
    assert client.tip()[0] == 0


def test_a_long_warmup_is_unreachable_so_callers_retry_later(core, client):
    core.warmup_calls = 5
    with pytest.raises(CoreWarmingUp) as err:
        client.tip()
    assert isinstance(err.value, Unreachable) and "Loading block index" in str(err.value)


def test_legacy_json_rpc_replies_with_http_500_are_understood(core, client):
    core.legacy_only = True  # Core <= 27 ignores "jsonrpc": "2.0"
    assert client.tip()[0] == 0
    with pytest.raises(CoreError) as err:
        client.list_unspent("not-loaded")
    assert err.value.rpc_code == -18 and "does not exist or is not loaded" in str(err.value)


def test_the_fake_answers_with_cores_envelopes(core):
    """What the client must handle: legacy errors with HTTP 500 and both keys, 2.0 errors with
    HTTP 200 and only "error", and a bodiless 401 (httprpc.cpp, v28)."""
    auth = tuple(core.cookie_path.read_text().split(":", 1))
    legacy = httpx.post(core.url + "/wallet/x", auth=auth,
                        json={"id": 1, "method": "listunspent", "params": []})
    assert legacy.status_code == 500
    assert legacy.json() == {"result": None, "error": {"code": -18, "message": NOT_LOADED}, "id": 1}
    v2 = httpx.post(core.url + "/wallet/x", auth=auth,
                    json={"jsonrpc": "2.0", "id": 2, "method": "listunspent", "params": []})
    assert v2.status_code == 200
    assert v2.json() == {"jsonrpc": "2.0", "error": {"code": -18, "message": NOT_LOADED}, "id": 2}
    unknown = httpx.post(core.url, auth=auth, json={"id": 3, "method": "dumpprivkey", "params": []})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == -32601
    denied = httpx.post(core.url, auth=("__cookie__", "nope"), json={"id": 4, "method": "getblockcount"})
    assert denied.status_code == 401 and denied.content == b""
    assert denied.headers["WWW-Authenticate"] == 'Basic realm="jsonrpc"'


def test_json_rpc_2_errors_come_with_http_200(core, client):
    with pytest.raises(CoreError) as err:
        client.block_hash(99)
    assert (err.value.rpc_code, err.value.rpc_message) == (-8, "Block height out of range")


# -- the Core wallet ---------------------------------------------------------------


def test_a_fresh_wallet_is_created_watch_only_blank_and_loaded_on_startup(core, client):
    setup = client.ensure_wallet(NAME, DESC, BIRTH)
    assert (setup.created, setup.imported) == (True, True)
    create = next(args for _, m, args in core.calls if m == "createwallet")
    assert create == {"wallet_name": NAME, "disable_private_keys": True, "blank": True, "descriptors": True,
                      "load_on_startup": True}
    assert core.methods() == ["createwallet", "importdescriptors"]


def test_importdescriptors_carries_both_branches_exactly(core, client):
    client.ensure_wallet(NAME, DESC, BIRTH)
    wallet, _, args = next(call for call in core.calls if call[1] == "importdescriptors")
    assert wallet == NAME
    receive, change = args["requests"]
    assert receive == {"desc": DESC.to_string(branch=0), "active": True, "range": [0, 999],
                       "timestamp": BIRTH, "internal": False}
    assert change == {"desc": DESC.to_string(branch=1), "active": True, "range": [0, 999],
                      "timestamp": BIRTH, "internal": True}
    for request, suffix in ((receive, "/0/*"), (change, "/1/*")):
        body, _, given = request["desc"].partition("#")
        assert given == checksum(body) and body.count(suffix) == 3 and "<0;1>" not in body


def test_an_existing_wallet_is_loaded_and_not_imported_again(core, client):
    client.ensure_wallet(NAME, DESC, BIRTH)
    core.loaded.clear()  # bitcoind restarted without loading it
    core.calls.clear()
    setup = client.ensure_wallet(NAME, DESC, BIRTH)
    assert (setup.created, setup.imported) == (False, False)
    assert core.methods() == ["createwallet", "loadwallet", "listdescriptors"]
    assert NAME in core.loaded


def test_an_already_loaded_wallet_is_fine(core, client):
    client.ensure_wallet(NAME, DESC, BIRTH)
    core.calls.clear()
    setup = client.ensure_wallet(NAME, DESC, BIRTH)
    assert (setup.created, setup.imported) == (False, False)
    assert core.methods() == ["createwallet", "loadwallet", "listdescriptors"]  # -4, then -35


def test_an_existing_wallet_without_our_descriptors_gets_them(core, client):
    core.wallets[NAME] = Wallet(NAME)
    setup = client.ensure_wallet(NAME, DESC, BIRTH)
    assert (setup.created, setup.imported) == (False, True)
    assert len(core.wallets[NAME].descriptors) == 2


def test_a_failed_import_surfaces_cores_message(core, client):
    core.wallets[NAME] = Wallet(NAME, private_keys=True)  # someone made it by hand, with keys
    with pytest.raises(BackendError) as err:
        client.ensure_wallet(NAME, DESC, BIRTH)
    reason = "Cannot import descriptor without private keys to a wallet with private keys enabled"
    assert reason in str(err.value) and err.value.details["reason"] == reason
    assert "receive descriptor" in str(err.value)


def test_wallet_rpcs_on_an_unloaded_wallet_say_so(client):
    with pytest.raises(CoreError) as err:
        client.list_transactions("huddle-nobody")
    assert err.value.rpc_code == -18


# -- coins, fees, history ---------------------------------------------------------------


def test_listunspent_amounts_are_converted_to_exact_satoshis(core, client, wallet):
    smallest = core.fund(wallet, DESC.script_pubkey(0, 0), 1)
    largest = core.fund(wallet, DESC.script_pubkey(0, 1), 2_099_999_997_690_000)  # 20999999.97690000 BTC
    pending = core.fund(wallet, DESC.script_pubkey(1, 0), 12_345, confirmed=False)
    coins = {(u.txid, u.vout): u for u in client.list_unspent(wallet)}
    assert coins[smallest].value == 1 and coins[largest].value == 2_099_999_997_690_000
    assert coins[pending].confirmations == 0 and not coins[pending].safe
    assert coins[smallest].script_pubkey == DESC.script_pubkey(0, 0).data
    assert coins[smallest].confirmations == 4 and coins[smallest].address.startswith("bcrt1q")


def test_amounts_finer_than_a_satoshi_or_not_decimal_are_refused():
    assert to_sats(Decimal("20999999.97690000"), "amount") == 2_099_999_997_690_000
    assert to_sats(Decimal("-0.00000001"), "fee", signed=True) == -1
    for bad in (Decimal("0.000000001"), 0.1, "1", True, Decimal("-1"), Decimal("21000000.00000001")):
        with pytest.raises(BackendError):
            to_sats(bad, "amount")


def test_fee_estimates_are_exact_sat_per_kvb_and_skip_targets_without_data(core, client):
    core.fee_rates = {1: 20_001, 2: 20_001, 6: 10_000, 144: 1_001, 1008: 1_000}
    assert client.fee_estimates() == {1: 20_001, 2: 20_001, 6: 10_000, 144: 1_001, 1008: 1_000}
    core.fee_rates = {}
    assert client.fee_estimates() == {}


def test_script_history_comes_from_the_wallet_with_prevouts_and_fees(core, core_wallet_client):
    c = core_wallet_client
    receive, change = DESC.script_pubkey(0, 0), DESC.script_pubkey(1, 0)
    coin = core.fund(NAME, receive, 100_000)
    txid = c.broadcast(spend([coin], [(STRANGER, 60_000), (change, 35_000)]))
    core.wallets[NAME].scripts.add(change.data)
    history = c.script_history([receive.data, change.data])
    assert [t.txid for t in history[receive.data]] == [coin[0], txid]
    funding, paid = history[receive.data]
    assert funding.status.confirmed and funding.status.block_height == 2 and funding.fee == 10_000
    assert not paid.status.confirmed and paid.fee == 5_000 and paid.prevouts[0].value == 100_000
    assert history[change.data] == [paid]


def test_utxos_from_history_agree_with_listunspent(core, core_wallet_client):
    c = core_wallet_client
    receive, change = DESC.script_pubkey(0, 0), DESC.script_pubkey(1, 0)
    coin = core.fund(NAME, receive, 100_000)
    core.fund(NAME, receive, 7_000)
    c.broadcast(spend([coin], [(STRANGER, 60_000), (change, 35_000)]))
    core.wallets[NAME].scripts.add(change.data)
    ours = c.utxos([receive.data, change.data])
    listed = {(u.txid, u.vout, u.value) for u in c.list_unspent(NAME)}
    assert {(u.txid, u.vout, u.value) for coins in ours.values() for u in coins} == listed
    assert [u.value for u in ours[change.data]] == [35_000]


def test_a_second_history_round_fetches_only_what_changed(core, core_wallet_client):
    c = core_wallet_client
    receive = DESC.script_pubkey(0, 0)
    coin = core.fund(NAME, receive, 100_000)
    c.script_history([receive.data])
    c.broadcast(spend([coin], [(STRANGER, 90_000)]))
    core.calls.clear()
    history = c.script_history([receive.data])
    fetched = [args for _, method, args in core.calls if method == "getrawtransaction"]
    assert len(history[receive.data]) == 2
    assert len(fetched) == 1  # only the new spend; the confirmed funding came from the cache


def test_list_transactions_has_sends_with_negative_amounts_and_fees(core, core_wallet_client):
    receive = DESC.script_pubkey(0, 0)
    coin = core.fund(NAME, receive, 100_000)
    core_wallet_client.broadcast(spend([coin], [(STRANGER, 90_000)]))
    entries = core_wallet_client.list_transactions(NAME)
    assert [(e.category, e.amount, e.fee) for e in entries] == [("receive", 100_000, None),
                                                                ("send", -90_000, -10_000)]
    assert entries[0].block_height == 2 and entries[1].confirmations == 0


# -- raw transactions and broadcast ---------------------------------------------------------


@pytest.fixture
def core_wallet_client(core, wallet):
    c = connect(core, wallet=wallet)
    yield c
    c.close()


def test_broadcast_runs_testmempoolaccept_before_sendrawtransaction(core, client, wallet):
    coin = core.fund(wallet, DESC.script_pubkey(0, 0), 100_000)
    core.calls.clear()
    raw = spend([coin], [(STRANGER, 95_000)])
    txid = client.broadcast(raw)
    assert core.methods() == ["testmempoolaccept", "sendrawtransaction"]
    assert txid in core.mempool and client.raw_transaction(txid) == raw


def test_a_rejected_testmempoolaccept_never_reaches_sendrawtransaction(core, client, wallet):
    coin = core.fund(wallet, DESC.script_pubkey(0, 0), 100_000)
    core.calls.clear()
    with pytest.raises(Rejected) as err:
        client.broadcast(spend([coin], [(STRANGER, 99_999)]))  # 1 sat of fee
    assert err.value.reason == "min relay fee not met" and err.value.code == "tx_rejected"
    with pytest.raises(Rejected, match="missing-inputs"):
        client.broadcast(spend([("ab" * 32, 0)], [(STRANGER, 1_000)]))
    assert "sendrawtransaction" not in core.methods()


def test_already_in_mempool_or_already_confirmed_count_as_success(core, client, wallet):
    coin = core.fund(wallet, DESC.script_pubkey(0, 0), 100_000)
    raw = spend([coin], [(STRANGER, 95_000)])
    txid = client.broadcast(raw)
    assert client.broadcast(raw) == txid  # txn-already-in-mempool
    core.mine()
    assert client.broadcast(raw) == txid  # txn-already-known
    assert core.methods().count("sendrawtransaction") == 1


@pytest.mark.parametrize("code, message, outcome", [
    (-27, "Transaction outputs already in utxo set", "success"),
    (-27, "Transaction already in block chain", "success"),  # the wording before v28
    (-26, "non-mandatory-script-verify-flag (Signature must be zero for failed CHECK(MULTI)SIG operation)",
     "rejected"),
    (-25, "bad-txns-inputs-missingorspent", "rejected"),
    (-25, "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)", "rejected"),
])
def test_sendrawtransaction_errors_map_to_success_or_rejection(core, client, wallet, code, message, outcome):
    coin = core.fund(wallet, DESC.script_pubkey(0, 0), 100_000)
    raw = spend([coin], [(STRANGER, 95_000)])
    core.send_error = (code, message)
    if outcome == "success":
        assert client.broadcast(raw) == Transaction.parse(raw).txid().hex()
    else:
        with pytest.raises(Rejected) as err:
            client.broadcast(raw)
        assert err.value.reason == message


def test_an_unknown_transaction_is_tx_not_found(core, client, wallet):
    with pytest.raises(TxNotFound):
        client.raw_transaction("ab" * 32)
    txid, _ = core.fund(wallet, DESC.script_pubkey(0, 0), 50_000)
    with pytest.raises(TxNotFound):  # confirmed, and Core runs without -txindex
        client.raw_transaction(txid)
    assert Transaction.parse(connect(core, wallet=wallet).raw_transaction(txid)).txid().hex() == txid
