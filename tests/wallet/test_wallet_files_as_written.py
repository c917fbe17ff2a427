"""Issue 9: wallet files as the tools really write them.

Each test builds its file from the test keys in the layout a producer
writes (the real files are in test_interop_corpus.py), and fails on the
readers and writers as they were before issue 9.
"""

from __future__ import annotations

import json

import pytest

from coordinator.errors import HuddleError
from coordinator.wallet import checksum
from coordinator.wallet.descriptor import CHANGE, RECEIVE, MultisigDescriptor
from coordinator.wallet.formats import WalletFile, dump, load
from coordinator.wallet.formats.bsms import address_at
from coordinator.wallet.keys import Cosigner, KeyOrigin
from tests import keys
from tests.wallet import caravan_config


def code_of(call) -> str:
    with pytest.raises(HuddleError) as exc:
        call()
    return exc.value.code


def message_of(call) -> str:
    with pytest.raises(HuddleError) as exc:
        call()
    return exc.value.message


def annotated(desc: MultisigDescriptor, branch: int | None, annotations: str) -> str:
    return checksum.add(desc.to_string(branch=branch, checksummed=False) + annotations)


def sparrow_descriptor_export(desc: MultisigDescriptor, change: MultisigDescriptor | None = None,
                              annotations: str = "") -> str:
    """Sparrow's "Output Descriptor" export (io/Descriptor.java): multipath, receive, change."""
    return (f"# Receive and change descriptor:\n{annotated(desc, None, annotations)}\n\n\n"
            f"# Receive descriptor:\n{annotated(desc, RECEIVE, annotations)}\n\n"
            f"# Change descriptor:\n{annotated(change or desc, CHANGE, annotations)}\n")


# -- Sparrow's three-line descriptor export ----------------------------------------------


def test_sparrow_three_line_descriptor_export_imports_as_one_wallet():
    desc = keys.descriptor(2, 3)
    assert load(sparrow_descriptor_export(desc)).descriptor.to_string() == desc.to_string()


def test_three_descriptor_lines_that_describe_two_wallets_are_refused():
    text = sparrow_descriptor_export(keys.descriptor(2, 3), change=keys.descriptor(2, 3, first=1))
    assert code_of(lambda: load(text)) == "descriptors_disagree"
    assert "line 9" in message_of(lambda: load(text))


def test_three_descriptor_lines_with_two_multipath_lines_are_malformed():
    desc = keys.descriptor(2, 3)
    text = "\n".join([desc.to_string(), desc.to_string(), desc.to_string(branch=CHANGE)])
    assert code_of(lambda: load(text)) == "malformed_wallet_file"


# -- Coldcard's pretty descriptor export -------------------------------------------------


def coldcard_pretty(desc: MultisigDescriptor) -> str:
    """shared/descriptor.py pretty_serialize: one key per tab-indented line, comments inside."""
    keys_ = ",\n".join(f"\t{c.key_expression()}/0/*" for c in desc.cosigners)
    inner = f"\t# {desc.threshold} of {desc.n} (threshold)\n\t{desc.threshold},\n{keys_}"
    head, tail = ("wsh(", "))") if desc.script_type == "wsh" else ("sh(wsh(", ")))")
    body = f"{head}sortedmulti(\n{inner}\n{tail}"
    return (f"# Coldcard descriptor export\n# native segwit - p2wsh\n{body}"
            f"#{desc.to_string(branch=RECEIVE).split('#')[1]}\n\n")


@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
def test_coldcard_pretty_multi_line_descriptor_imports(script_type):
    desc = keys.descriptor(2, 3, script_type=script_type)
    assert load(coldcard_pretty(desc)).descriptor.to_string() == desc.to_string()


def test_coldcard_pretty_descriptor_with_a_wrong_checksum_is_refused():
    text = coldcard_pretty(keys.descriptor(2, 3)).replace(")))#", ")))#x").replace("))#", "))#q")
    assert code_of(lambda: load(text)) == "bad_checksum"


# -- BIP-393 annotations -----------------------------------------------------------------


def test_annotated_descriptor_keeps_its_birth_height_and_ignores_unknown_keys():
    desc = keys.descriptor(2, 3)
    loaded = load(annotated(desc, None, "?bh=850000&gl=40&zz=1"))
    assert loaded.descriptor.to_string() == desc.to_string()
    assert loaded.birth_height == 850000


def test_sparrow_export_with_birth_heights_keeps_the_earliest():
    desc = keys.descriptor(2, 3)
    text = sparrow_descriptor_export(desc, annotations="?bh=850000").replace("bh=850000", "bh=849990", 1)
    text = "\n".join(checksum.add(line.split("#")[0]) if line.startswith("wsh(") else line
                     for line in text.splitlines())
    assert load(text).birth_height == 849990


@pytest.mark.parametrize("annotations", ["?bh=01", "?bh=", "?Bh=1", "?bh=1&bh=2", "?bh=1?gl=2", "?", "?bh=1&"])
def test_annotation_that_breaks_bip393_is_refused(annotations):
    text = annotated(keys.descriptor(2, 3), None, annotations)
    assert code_of(lambda: load(text)) == "malformed_descriptor"


def test_bsms_and_specter_files_keep_an_annotated_birth_height():
    desc = keys.descriptor(2, 3, is_test=False)
    template = desc.to_string(checksummed=False).replace("/<0;1>/*", "/**") + "?bh=700000"
    record = f"BSMS 1.0\n{checksum.add(template)}\n/0/*,/1/*\n{desc.address(RECEIVE, 0, 'bitcoin')}\n"
    specter = json.dumps({"label": "v", "descriptor": annotated(desc, RECEIVE, "?bh=700001")})
    assert load(record).birth_height == 700000
    assert load(specter).birth_height == 700001


def test_specter_blockheight_is_the_birth_height_and_is_written_back():
    desc = keys.descriptor(2, 3)
    loaded = load(json.dumps({"label": "v", "blockheight": 655372, "descriptor": desc.to_string(branch=RECEIVE)}))
    assert loaded.birth_height == 655372
    assert json.loads(dump(loaded, "specter", "testnet"))["blockheight"] == 655372


# -- keys without a child path (Sparrow's "Specter Desktop" export) ------------------------


def bare(desc: MultisigDescriptor) -> str:
    body = ",".join(c.key_expression() for c in desc.cosigners)
    return checksum.add(f"wsh({'sortedmulti' if desc.sorted else 'multi'}({desc.threshold},{body}))")


def test_specter_keys_without_a_child_path_mean_receive_and_change():
    desc = keys.descriptor(2, 3)
    loaded = load(json.dumps({"label": "v", "blockheight": 0, "descriptor": bare(desc)}))
    assert loaded.descriptor.to_string() == desc.to_string()
    assert loaded.descriptor.address(CHANGE, 0, "testnet") == desc.address(CHANGE, 0, "testnet")


def test_keys_without_a_child_path_stay_refused_in_a_plain_descriptor_file():
    assert code_of(lambda: load(bare(keys.descriptor(2, 3)))) == "bad_derivation"


# -- Caravan keys typed in as text -------------------------------------------------------


def caravan_text_key(desc: MultisigDescriptor, text_keys: set[int], network: str = "testnet") -> str:
    """Caravan's download (selectors/wallet.ts) where some keys were typed in as text."""
    config = json.loads(dump(WalletFile("v", desc, network), "caravan", network))
    for i in text_keys:
        config["extendedPublicKeys"][i].update(bip32Path=caravan_config.UNKNOWN_PATH, xfp="00000000", method="text")
    return json.dumps(config)


def option(cosigner: Cosigner) -> KeyOrigin:
    return KeyOrigin.from_option(f"{cosigner.fingerprint}:{cosigner.origin.path_string}")


def test_caravan_key_typed_in_as_text_is_a_missing_origin():
    text = caravan_text_key(keys.descriptor(2, 3), {1})
    assert code_of(lambda: load(text)) == "missing_origin"
    assert "--origin" in message_of(lambda: load(text))


def test_caravan_key_with_only_the_zero_fingerprint_is_a_missing_origin():
    config = json.loads(caravan_text_key(keys.descriptor(2, 3), set()))
    config["extendedPublicKeys"][0]["xfp"] = "00000000"
    assert code_of(lambda: load(json.dumps(config))) == "missing_origin"


def test_supplied_origins_complete_the_caravan_keys_in_file_order():
    desc = keys.descriptor(2, 3)
    text = caravan_text_key(desc, {0, 2})
    loaded = load(text, None, (option(desc.cosigners[0]), option(desc.cosigners[2])))
    assert loaded.descriptor.to_string() == desc.to_string()


def test_supplied_origin_with_another_fingerprint_than_the_file_is_refused():
    desc = keys.descriptor(2, 3)
    config = json.loads(caravan_text_key(desc, {1}))
    config["extendedPublicKeys"][1]["xfp"] = desc.cosigners[1].fingerprint  # path unknown, fingerprint known
    wrong = KeyOrigin.from_option(f"{desc.cosigners[0].fingerprint}:{desc.cosigners[1].origin.path_string}")
    assert code_of(lambda: load(json.dumps(config), None, (wrong,))) == "origin_mismatch"


def test_supplied_origin_that_does_not_fit_the_key_is_refused():
    desc = keys.descriptor(2, 3)
    wrong = KeyOrigin.from_option(f"{desc.cosigners[1].fingerprint}:m/48'/1'/0'/1'")
    assert code_of(lambda: load(caravan_text_key(desc, {1}), None, (wrong,))) == "origin_mismatch"


def test_origin_no_key_needs_is_refused():
    desc = keys.descriptor(2, 3)
    spare = option(desc.cosigners[0])
    assert code_of(lambda: load(caravan_text_key(desc, set()), None, (spare,))) == "origin_not_needed"
    assert code_of(lambda: load(desc.to_string(), None, (spare,))) == "origin_not_needed"


@pytest.mark.parametrize("text", ["0f056943", "0f05694:m/48'", "0f056943:m/48x"])
def test_origin_option_that_does_not_parse_is_malformed(text):
    assert code_of(lambda: KeyOrigin.from_option(text)) == "malformed_origin"


# -- Caravan export --------------------------------------------------------------------


def with_devices(desc: MultisigDescriptor, devices: list[str]) -> MultisigDescriptor:
    cosigners = tuple(Cosigner.from_parts(c.origin, c.xpub, f"k{i}", d)
                      for i, (c, d) in enumerate(zip(desc.cosigners, devices)))
    return MultisigDescriptor(desc.script_type, desc.threshold, cosigners, desc.sorted)


def test_caravan_export_writes_no_method_without_a_device_so_caravan_keeps_the_path():
    desc = with_devices(keys.descriptor(2, 3), ["", "other", "coldcard"])
    config = json.loads(dump(WalletFile("v", desc, "testnet"), "caravan", "testnet"))
    assert ["method" in k for k in config["extendedPublicKeys"]] == [False, False, True]
    again = caravan_config.download(caravan_config.imported(config))
    assert [k["bip32Path"] for k in again] == ["m/48'/1'/0'/2'"] * 3


def test_caravan_method_text_loses_the_path_in_caravan():
    # Why the export must not write "text": Caravan's next download forgets the path.
    config = json.loads(dump(WalletFile("v", keys.descriptor(2, 3), "testnet"), "caravan", "testnet"))
    config["extendedPublicKeys"][0]["method"] = "text"
    assert caravan_config.download(caravan_config.imported(config))[0]["bip32Path"] == caravan_config.UNKNOWN_PATH


def test_caravan_export_uses_caravans_device_names():
    desc = with_devices(keys.descriptor(3, 3), ["jade", "bitbox02", "ledger"])
    config = json.loads(dump(WalletFile("v", desc, "testnet"), "caravan", "testnet"))
    assert [k["method"] for k in config["extendedPublicKeys"]] == ["jade", "bitbox", "ledger"]
    assert caravan_config.validate(config) == ""


def test_caravan_export_of_a_signet_wallet_is_refused():
    assert not caravan_config.derives("signet")  # Caravan: "Signet is not supported yet"
    call = lambda: dump(WalletFile("v", keys.descriptor(2, 3), "signet"), "caravan", "signet")  # noqa: E731
    assert code_of(call) == "unsupported_network"


# -- Jade's Sorted: False ------------------------------------------------------------------


def jade_file(desc: MultisigDescriptor, sorted_line: str) -> str:
    """main/multisig.c multisig_create_export_file: Derivation before each key."""
    lines = ["# Exported by Blockstream Jade", "Name: jade", f"Policy: {desc.threshold} of {desc.n}", "Format: P2WSH"]
    lines += [sorted_line] if sorted_line else []
    for c in desc.cosigners:
        lines += [f"Derivation: {c.origin.path_string.replace('h', chr(39))}", f"{c.fingerprint}: {c.xpub}"]
    return "\n".join(lines) + "\n"


def test_jade_sorted_false_line_means_multi_with_the_key_order_kept():
    desc = keys.descriptor(2, 3)
    loaded = load(jade_file(desc, "Sorted: False"))
    assert loaded.descriptor.sorted is False
    assert [c.xpub for c in loaded.descriptor.cosigners] == [c.xpub for c in desc.cosigners]
    assert code_of(lambda: dump(loaded, "coldcard", "testnet")) == "unsupported_descriptor"


@pytest.mark.parametrize("line,sorted_", [("Sorted: True", True), ("", True)])
def test_jade_file_that_is_sorted_reads_as_sortedmulti(line, sorted_):
    assert load(jade_file(keys.descriptor(2, 3), line)).descriptor.sorted is sorted_


def test_jade_sorted_flag_that_is_neither_true_nor_false_is_refused():
    assert code_of(lambda: load(jade_file(keys.descriptor(2, 3), "Sorted: Maybe"))) == "malformed_wallet_file"


def test_bluewallet_per_key_derivation_comment_gives_that_key_its_path():
    # class/wallets/multisig-hd-wallet.ts writes a cosigner's own path as "# derivation:".
    a, b = keys.cosigner(0), keys.cosigner(1)
    other = Cosigner.create(keys.xpub(2, account=1), keys.fingerprint(2), keys.path(True, "wsh", account=1))
    text = ("# BlueWallet Multisig setup file\n#\nName: bw\nPolicy: 2 of 3\nDerivation: m/48'/1'/0'/2'\n"
            f"Format: P2WSH\n\n{a.fingerprint}: {a.xpub}\n\n{b.fingerprint}: {b.xpub}\n\n"
            f"# derivation: m/48'/1'/1'/2'\n{other.fingerprint}: {other.xpub}\n")
    assert [c.origin.path_string for c in load(text).descriptor.cosigners] == [
        "m/48h/1h/0h/2h", "m/48h/1h/0h/2h", "m/48h/1h/1h/2h"]


def test_coldcard_key_line_without_its_key_is_malformed():
    text = "Name: k\nPolicy: 1 of 2\nFormat: P2WSH\nDerivation: m/48'/1'/0'/2'\n"
    text += f"{keys.fingerprint(0)}:\n{keys.xpub(0)}\n{keys.fingerprint(1)}: {keys.xpub(1)}\n"
    assert code_of(lambda: load(text)) == "malformed_wallet_file"


# -- BSMS records with no path restrictions -------------------------------------------------


def record(desc: MultisigDescriptor, suffix: str, paths: str, address: str) -> str:
    body = ",".join(f"{c.key_expression()}{suffix}" for c in desc.cosigners)
    return f"BSMS 1.0\n{checksum.add(f'wsh(sortedmulti({desc.threshold},{body}))')}\n{paths}\n{address}\n"


def test_nunchuk_bsms_record_with_wildcard_keys_imports():
    # src/utils/bsms.hpp: keys /*, "No path restrictions", the address of /0/* index 0.
    desc = keys.descriptor(2, 3, is_test=False)
    loaded = load(record(desc, "/*", "No path restrictions", desc.address(RECEIVE, 0, "bitcoin")))
    assert loaded.descriptor.to_string() == desc.to_string() and loaded.network == "bitcoin"


@pytest.mark.parametrize("paths", ["No path restrictions", ""])
def test_bsms_template_without_path_restrictions_imports(paths):
    desc = keys.descriptor(2, 3, is_test=False)
    assert load(record(desc, "/**", paths, desc.address(RECEIVE, 0, "bitcoin"))).descriptor.to_string() == desc.to_string()


def test_bsms_record_whose_address_is_on_the_change_branch_names_the_mismatch():
    desc = keys.descriptor(2, 3, is_test=False)
    text = record(desc, "/**", "/0/*,/1/*", desc.address(CHANGE, 0, "bitcoin"))
    assert code_of(lambda: load(text)) == "address_mismatch"
    assert "address at /1/0, not at /0/0" in message_of(lambda: load(text))


def test_nunchuk_style_record_whose_address_is_the_one_chain_address_names_the_mismatch():
    desc = keys.descriptor(2, 3, is_test=False)
    one_chain = address_at(desc, (0,), "bitcoin")  # what the keys' own /* says is first
    text = record(desc, "/*", "No path restrictions", one_chain)
    assert code_of(lambda: load(text)) == "address_mismatch"
    assert "/0 of the keys' own /* chain, not at /0/0" in message_of(lambda: load(text))


def test_bsms_record_with_keys_fixed_at_one_change_address_checks_that_address():
    desc = keys.descriptor(2, 3, is_test=False)
    assert load(record(desc, "/1/3", "No path restrictions", desc.address(CHANGE, 3, "bitcoin"))).descriptor.to_string() == desc.to_string()
    text = record(desc, "/1/3", "No path restrictions", desc.address(RECEIVE, 3, "bitcoin"))
    assert "address at /0/3, not at /1/3" in message_of(lambda: load(text))


@pytest.mark.parametrize("suffix", ["/5/7", "/0", "/1/*"])
def test_bsms_keys_off_the_receive_and_change_branches_are_refused(suffix):
    desc = keys.descriptor(2, 3, is_test=False)
    assert code_of(lambda: load(record(desc, suffix, "No path restrictions", desc.address(0, 0, "bitcoin")))) \
        == "bad_derivation"


def test_bsms_last_line_that_only_starts_like_a_testnet_address_is_malformed():
    desc = keys.descriptor(2, 3, is_test=False)
    assert code_of(lambda: load(record(desc, "/**", "/0/*,/1/*", "not-an-address"))) == "malformed_wallet_file"


# -- true messages ---------------------------------------------------------------------


def test_origin_with_the_wrong_child_number_names_the_child_number():
    xpub = keys.xpub(0)  # m/48'/1'/0'/2'
    text = f"wsh(sortedmulti(1,[{keys.fingerprint(0)}/48h/1h/0h/1h]{xpub}/<0;1>/*,{keys.cosigner(1).key_expression()}/<0;1>/*))"
    message = message_of(lambda: load(text))
    assert "is child 2h of its parent" in message and "ends in 1h" in message
    assert "depth" not in message


def test_nested_segwit_single_sig_is_called_single_sig():
    text = f"sh(wpkh({keys.cosigner(0).key_expression()}/0/*))"
    message = message_of(lambda: load(text))
    assert "single-sig" in message and "legacy" not in message
