"""Reading a keyholder's multisig key from a QR-only device's export, from real
public vectors (tests/vectors/README.md, "QR-only keyholders"):

- ``crypto-account``: the BCR-2020-015 example (tests/vectors/ur.json);
- ``account-descriptor``: the BCR-2023-019 example from Sparrow's hummingbird tests;
- ``crypto-hdkey`` / ``hdkey``: BCR-2020-007's vectors (hummingbird tests), and the
  BIP-48 key of the account example cut out as a lone hdkey (cbor2 does the cutting);
- Coldcard's multisig xpub export (``ccxp``), Sparrow's two test files, as a file and
  as Coldcard Q's BBQr; Coldcard's generic export (Sparrow's single-sig file, BlueWallet's
  Coldcard Q fixture);
- BlueWallet's tests: a real device's crypto-account that makes a vault with a known
  first address, Cobo's crypto-account, and BBQr of the Cobo/Keystone xpub file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cbor2
import pytest
from embit import bip32, bip39
from embit.bip32 import HDKey

from coordinator.errors import HuddleError
from coordinator.qr import bbqr, bytewords
from coordinator.qr.account_export import read_export
from coordinator.qr.ur import UREncoder
from coordinator.wallet.descriptor import MultisigDescriptor
from coordinator.wallet.keys import Cosigner, parse_xpub

from .. import keys

VECTORS = Path(__file__).parent.parent / "vectors"
UR_KEYS = json.loads((VECTORS / "qr_keys" / "ur_keys.json").read_text())
ACCOUNT = json.loads((VECTORS / "ur.json").read_text())["crypto_account_example"]


def spec_key(script: str) -> str:
    """The BCR-2020-015 example's own descriptor text for a script type, as Huddle writes keys."""
    head = "wsh(cosigner(" if script == "wsh" else "sh(wsh(cosigner("
    text = next(d for d in ACCOUNT["output_descriptors"] if d.startswith(head))
    return text[len(head):].rstrip(")").replace("'", "h")


def refused(payload, network: str, script: str) -> str:
    with pytest.raises(HuddleError) as caught:
        read_export(payload, network, script)
    return caught.value.code


@pytest.mark.parametrize("script", ["wsh", "sh-wsh"])
def test_crypto_account_gives_the_bip48_key_for_the_wallets_script_type(script):
    assert read_export(ACCOUNT["expected_ur"], "bitcoin", script).key_expression() == spec_key(script)


@pytest.mark.parametrize("script", ["wsh", "sh-wsh"])
def test_account_descriptor_gives_the_same_keys_as_the_crypto_account_it_replaces(script):
    vector = UR_KEYS["account_descriptor"]
    assert read_export(vector["ur"], "bitcoin", script).key_expression() == vector["expected"][script]
    assert vector["expected"][script] == spec_key(script)


def test_an_account_for_bitcoin_is_refused_for_a_testnet_wallet():
    assert refused(ACCOUNT["expected_ur"], "testnet", "wsh") == "wrong_network"
    assert refused(UR_KEYS["account_descriptor"]["ur"], "regtest", "sh-wsh") == "wrong_network"


def _hdkey_from_account(purpose: int, script_step: int | None) -> bytes:
    """The crypto-account example's hdkey for one path, as a lone crypto-hdkey body."""
    account = cbor2.loads(bytes.fromhex(ACCOUNT["cbor_hex"]))
    for output in account[2]:
        item = output.value
        while isinstance(item, cbor2.CBORTag) and item.tag != 303:
            item = item.value
        components = item.value[6].value[1]
        if components[0] == purpose and (script_step is None or components[-2] == script_step):
            return cbor2.dumps(item.value)
    raise AssertionError("no such key in the vector")


def test_a_crypto_hdkey_at_the_bip48_path_is_read_with_its_origin():
    ur = UREncoder("crypto-hdkey", _hdkey_from_account(48, 2), 1000).next_part()
    assert read_export(ur, "bitcoin", "wsh").key_expression() == spec_key("wsh")


def test_a_bip84_single_sig_key_is_refused_where_a_multisig_key_is_needed():
    ur = UREncoder("crypto-hdkey", _hdkey_from_account(84, None), 1000).next_part()
    assert refused(ur, "bitcoin", "wsh") == "key_export_wrong_script"


def test_a_bip48_key_for_the_other_script_type_is_refused():
    ur = UREncoder("crypto-hdkey", _hdkey_from_account(48, 1), 1000).next_part()
    assert refused(ur, "bitcoin", "wsh") == "key_export_wrong_script"
    assert read_export(ur, "bitcoin", "sh-wsh").key_expression() == spec_key("sh-wsh")


def test_an_account_with_only_single_sig_keys_is_refused_with_what_it_holds():
    account = cbor2.loads(bytes.fromhex(ACCOUNT["cbor_hex"]))
    account[2] = [o for o in account[2] if o.value.tag in (403, 404)]  # pkh, wpkh only
    ur = UREncoder("crypto-account", cbor2.dumps(account), 1000).next_part()
    with pytest.raises(HuddleError) as caught:
        read_export(ur, "bitcoin", "wsh")
    assert caught.value.code == "key_export_wrong_script"
    assert caught.value.details["found"] == "pkh, wpkh"


@pytest.mark.parametrize("vector", UR_KEYS["hdkey_vectors"], ids=lambda v: v["name"])
def test_bcr_hdkey_vectors_without_a_usable_origin_or_with_a_private_key_are_refused(vector):
    assert refused(vector["ur"], "testnet", "wsh") == vector["refused"]


def test_a_multipart_account_export_is_reassembled_from_its_fountain_parts():
    encoder = UREncoder("crypto-account", bytes.fromhex(ACCOUNT["cbor_hex"]), 120)
    frames = [encoder.next_part() for _ in range(encoder.seq_len + 3)]
    assert len(frames) > 4
    assert read_export(frames[::-1], "bitcoin", "wsh").key_expression() == spec_key("wsh")


def test_too_few_parts_say_the_export_is_incomplete():
    encoder = UREncoder("crypto-account", bytes.fromhex(ACCOUNT["cbor_hex"]), 120)
    assert refused([encoder.next_part()], "bitcoin", "wsh") == "qr_incomplete"


def _same_key(expression: str, slip132: str) -> bool:
    ours = HDKey.from_string(expression.split("]")[1])
    theirs, _ = parse_xpub(slip132)
    return ours.key.sec() == theirs.key.sec() and ours.chain_code == theirs.chain_code


@pytest.mark.parametrize("name", ["cc-multisig-keystore-1.json", "cc-multisig-keystore-2.json"])
def test_coldcard_multisig_xpub_file_gives_the_key_for_each_script_type(name):
    text = (VECTORS / "qr_keys" / name).read_text()
    data = json.loads(text)
    xfp = data["xfp"].lower()
    wsh = read_export(text, "testnet", "wsh")
    assert wsh.key_expression().startswith(f"[{xfp}/48h/1h/0h/2h]tpub")
    assert _same_key(wsh.key_expression(), data["p2wsh"])
    nested = read_export(text, "signet", "sh-wsh")
    assert nested.key_expression().startswith(f"[{xfp}/48h/1h/0h/1h]tpub")
    assert _same_key(nested.key_expression(), data["p2wsh_p2sh"])
    assert refused(text, "bitcoin", "wsh") == "wrong_network"


def test_coldcard_q_shows_its_xpub_file_as_bbqr_json():
    text = (VECTORS / "qr_keys" / "cc-multisig-keystore-1.json").read_text()
    series = bbqr.serialize(text.encode(), "J", max_version=5)
    assert len(series.parts) > 1
    assert read_export(list(series.parts), "testnet", "wsh").fingerprint == "0f056943"


def test_a_coldcard_file_with_only_the_bip45_key_is_refused():
    text = json.dumps({"xfp": "0F056943", "p2sh_deriv": "m/45'", "p2sh": json.loads(
        (VECTORS / "qr_keys" / "cc-multisig-keystore-1.json").read_text())["p2sh"]})
    assert refused(text, "testnet", "wsh") == "key_export_wrong_script"


def test_plain_key_text_with_origin_is_read_and_a_bare_xpub_is_refused():
    mine = keys.cosigner(0, True, "wsh")
    assert read_export(mine.key_expression(), "regtest", "wsh").key_expression() == mine.key_expression()
    assert refused(mine.xpub, "regtest", "wsh") == "key_export_no_origin"


def test_garbage_and_foreign_ur_types_are_refused_as_unreadable():
    assert refused("hello", "bitcoin", "wsh") == "key_export_unreadable"
    psbt_ur = UREncoder("crypto-psbt", cbor2.dumps(b"psbt\xff"), 100).next_part()
    assert refused(psbt_ur, "bitcoin", "wsh") == "key_export_unreadable"
    deep = b"\x81" * 40 + b"\x00"
    deep_ur = f"ur:crypto-account/{bytewords.encode(deep, 'minimal')}"
    assert refused(deep_ur, "bitcoin", "wsh") == "key_export_unreadable"


def test_coldcard_generic_export_with_only_single_sig_accounts_is_refused():
    """Sparrow's cc-singlesig-keystore-1.json: Coldcard's generic JSON export (bip44/49/84 only)."""
    text = (VECTORS / "qr_keys" / "cc-singlesig-keystore-1.json").read_text()
    with pytest.raises(HuddleError) as caught:
        read_export(text, "testnet", "wsh")
    assert (caught.value.code, caught.value.details["found"]) == ("key_export_wrong_script", "bip44, bip49, bip84")


def test_coldcard_generic_export_bip48_entry_takes_the_master_fingerprint_not_the_accounts():
    # The layout of the file above, with the bip48_2 entry newer firmware adds; each
    # entry's own "xfp" is the account key's fingerprint, which must not become the origin.
    account = HDKey.from_string(keys.xpub(0))
    text = json.dumps({"chain": "XTN", "xfp": keys.fingerprint(0).upper(), "bip48_2": {
        "deriv": "m/48'/1'/0'/2'", "xpub": keys.xpub(0), "xfp": account.my_fingerprint.hex().upper()}})
    assert read_export(text, "testnet", "wsh").key_expression() == keys.cosigner(0).key_expression()


BLUEWALLET = json.loads((VECTORS / "qr_keys" / "bluewallet.json").read_text())


def test_a_real_devices_crypto_account_makes_the_vault_bluewallet_shows():
    """BlueWallet's e2e test: a mnemonic key and a scanned crypto-account make a
    2-of-2 whose first receive address the app must show."""
    vault = BLUEWALLET["vault_2of2"]
    scanned = read_export(vault["crypto_account"], "bitcoin", "wsh")
    root = bip32.HDKey.from_seed(bip39.mnemonic_to_seed(vault["mnemonic"]))
    mine = Cosigner.create(root.derive(vault["mnemonic_path"]).to_public().to_base58(),
                           root.my_fingerprint.hex(), vault["mnemonic_path"])
    wallet = MultisigDescriptor("wsh", vault["threshold"], (mine, scanned))
    assert wallet.address(0, 0, "bitcoin") == vault["first_receive_address"]


def test_a_cobo_crypto_account_with_its_coin_type_1_is_read():
    vector = BLUEWALLET["cobo_crypto_account"]
    key = read_export(vector["ur"], "bitcoin", "wsh")
    want = vector["expected_upstream"]
    assert key.key_expression().startswith(f"[{want['fp'].lower()}/48h/0h/0h/2h]")
    assert _same_key(key.key_expression(), want["xpub"])


@pytest.mark.parametrize("vector", BLUEWALLET["cobo_json_bbqr"], ids=lambda v: v["script_type"])
def test_a_keystone_style_xpub_file_as_bbqr_is_read(vector):
    key = read_export(vector["parts"], "bitcoin", vector["script_type"])
    want = vector["expected_upstream"]
    assert key.fingerprint == want["xfp"].lower()
    assert key.origin.path_string.replace("h", "'") == want["path"]
    assert _same_key(key.key_expression(), want["xpub"])
    other = "sh-wsh" if vector["script_type"] == "wsh" else "wsh"
    assert refused(vector["parts"], "bitcoin", other) == "key_export_wrong_script"


@pytest.mark.parametrize("script", ["wsh", "sh-wsh"])
def test_a_coldcard_q_generic_export_gives_its_bip48_keys(script):
    """BlueWallet's fixture of a real Coldcard Q export (bip44/49/84/48_1/48_2/45, h paths)."""
    text = (VECTORS / "qr_keys" / "bluewallet-coldcardQ.json").read_text()
    data = json.loads(text)
    entry = data["bip48_2" if script == "wsh" else "bip48_1"]
    key = read_export(text, "bitcoin", script)
    assert key.key_expression() == f"[b68af6e4/{entry['deriv'][2:]}]{entry['xpub']}"
    assert _same_key(key.key_expression(), entry["_pub"])


def test_a_zero_source_fingerprint_counts_as_no_origin():
    hdkey = cbor2.loads(_hdkey_from_account(48, 2))
    hdkey[6].value[2] = 0  # "unknown" in the registry (hummingbird's zero-fingerprint vector)
    ur = UREncoder("crypto-hdkey", cbor2.dumps(hdkey), 1000).next_part()
    assert refused(ur, "bitcoin", "wsh") == "key_export_no_origin"


def _huddle(*args: str, stdin: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
    env.update(HUDDLE_DATA=str(tmp_path / "data"), HUDDLE_NETWORK="testnet")
    return subprocess.run([str(Path(sys.executable).parent / "huddle"), "descriptor", "key-from-qr", *args],
                          input=stdin, capture_output=True, text=True, env=env, timeout=60)


def test_the_cli_reads_scanned_parts_and_files(tmp_path):
    encoder = UREncoder("crypto-account", bytes.fromhex(ACCOUNT["cbor_hex"]), 120)
    frames = "\n".join(encoder.next_part() for _ in range(encoder.seq_len + 2))
    done = _huddle("--network", "bitcoin", "--json", stdin=frames, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["key"] == spec_key("wsh")

    ccxp = (VECTORS / "qr_keys" / "cc-multisig-keystore-1.json").read_text()
    nested = _huddle("--script-type", "sh-wsh", stdin=ccxp, tmp_path=tmp_path)
    assert nested.returncode == 0 and nested.stdout.startswith("[0f056943/48h/1h/0h/1h]tpub")

    wrong = _huddle(stdin=ACCOUNT["expected_ur"], tmp_path=tmp_path)  # mainnet export, testnet configured
    assert wrong.returncode == 3 and wrong.stderr.strip().endswith("[wrong_network]")
