"""Wallet files: descriptor text, Coldcard, BSMS, Caravan and Specter/Sparrow.

Real exports from the tools (``tests/vectors/wallet_exports``) must import
to the wallet ``expected.json`` describes; every format Huddle writes must read
back to the same wallet; every broken file fails with its own error code.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import bdkpython as bdk
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coordinator.errors import InvalidInput, Unsupported
from coordinator.wallet import formats
from coordinator.wallet.descriptor import MultisigDescriptor
from coordinator.wallet.formats import FORMATS, WalletFile, detect, dump, load
from tests import keys

# file -> (format, network the file says or implies)
VECTOR_FILES = {
    "coldcard-multisig-2of4-p2wsh-testnet.txt": ("coldcard", None),
    "coldcard-multisig-2of4-p2wsh-testnet.descriptor.txt": ("descriptor", None),
    "caravan-2of2-p2wsh-testnet.json": ("caravan", "testnet"),
    "caravan-2of2-p2wsh-testnet.coldcard.txt": ("coldcard", None),
    "specter-desktop-multisig-1of2-testnet.json": ("specter", None),
    "sparrow-passport-multisig-3of3-p2wsh.txt": ("coldcard", None),
    "bsms-2of2-p2wsh.bsms": ("bsms", "bitcoin"),
}
SCRIPT_TYPES = {"P2WSH": "wsh", "P2SH-P2WSH": "sh-wsh"}
NAMED_FORMATS = ("coldcard", "caravan", "specter")  # formats that carry the wallet name
KEY_EXPRESSION = re.compile(r"\[([0-9a-f]{8})(/[^\]]*)\]([1-9A-HJ-NP-Za-km-z]+)")


@pytest.fixture(scope="module")
def exports(vectors_dir: Path) -> Path:
    return vectors_dir / "wallet_exports"


@pytest.fixture(scope="module")
def expected(exports: Path) -> dict[str, dict]:
    data = json.loads((exports / "expected.json").read_text())
    return {entry["file"]: entry for entry in data["files"]}


def read(exports: Path, name: str) -> str:
    return (exports / name).read_text()


def code_of(call) -> str:
    with pytest.raises(InvalidInput) as exc:
        call()
    return exc.value.code


def message_of(call) -> str:
    with pytest.raises(InvalidInput) as exc:
        call()
    return exc.value.message


def facts(entry: dict, by_file: dict[str, dict]) -> dict:
    """What expected.json says about a file, gathered from its parsed/expected blocks."""
    parsed, exp = entry.get("parsed", {}), entry.get("expected", {})
    twin = by_file.get(entry["file"].replace(".descriptor.txt", ".txt"), {})
    if not parsed and twin is not entry:
        parsed = twin.get("parsed", {})  # the descriptor twin of a Coldcard file
        exp = exp or twin.get("expected", {})
    cosigners = parsed.get("cosigners") or exp.get("cosigners") or _template_keys(parsed)
    return {
        "threshold": exp.get("threshold", parsed.get("m")),
        "n": exp.get("num_signers", parsed.get("n")),
        "script_type": SCRIPT_TYPES[exp.get("script_type", parsed.get("format"))],
        "fingerprints": exp.get("key_fingerprints_in_order") or [c["xfp"].lower() for c in cosigners],
        "paths": [c.get("derivation", c.get("path")) for c in cosigners],
        "xpubs": [c["xpub"] for c in cosigners],
        "name": exp.get("name", exp.get("wallet_name", parsed.get("name", ""))),
    }


def _template_keys(parsed: dict) -> list[dict]:
    """The keys of a BSMS descriptor template, in expected.json's cosigner shape."""
    found = KEY_EXPRESSION.findall(parsed.get("descriptor_template", ""))
    return [{"xfp": xfp, "derivation": "m" + path, "xpub": xpub} for xfp, path, xpub in found]


def apostrophes(path: str) -> str:
    return path.replace("h", "'")


def same_wallet(a: MultisigDescriptor, b: MultisigDescriptor) -> None:
    assert a.policy_id == b.policy_id
    assert (a.script_type, a.threshold, a.sorted) == (b.script_type, b.threshold, b.sorted)
    assert [(c.fingerprint, c.origin.path, c.xpub) for c in a.cosigners] == [
        (c.fingerprint, c.origin.path, c.xpub) for c in b.cosigners
    ]


# -- the real files ---------------------------------------------------------------


def test_every_vector_file_is_covered(exports: Path, expected: dict):
    on_disk = {p.name for p in exports.iterdir() if p.is_file() and p.name != "expected.json"}  # corpus/: test_interop
    assert on_disk == set(VECTOR_FILES) == set(expected)


@pytest.mark.parametrize("name", sorted(VECTOR_FILES))
def test_vector_file_is_detected_as_its_format(exports, name):
    assert detect(read(exports, name)) == VECTOR_FILES[name][0]


@pytest.mark.parametrize("name", sorted(VECTOR_FILES))
def test_vector_file_imports_as_the_wallet_expected_json_describes(exports, expected, name):
    want = facts(expected[name], expected)
    wallet = load(read(exports, name))
    desc = wallet.descriptor
    assert desc.threshold == want["threshold"]
    assert desc.n == want["n"]
    assert desc.script_type == want["script_type"]
    assert [c.fingerprint for c in desc.cosigners] == want["fingerprints"]
    if want["paths"]:
        assert [apostrophes(c.origin.path_string) for c in desc.cosigners] == want["paths"]
        assert [c.xpub for c in desc.cosigners] == want["xpubs"]
    assert wallet.name == (want["name"] if VECTOR_FILES[name][0] in NAMED_FORMATS else "")
    assert wallet.network == VECTOR_FILES[name][1]


@pytest.mark.parametrize("name", sorted(VECTOR_FILES))
def test_vector_file_loads_the_same_with_its_format_named(exports, name):
    text = read(exports, name)
    assert load(text, VECTOR_FILES[name][0]) == load(text)


def test_specter_devices_become_the_cosigners_labels_and_device_kinds(exports, expected):
    name = "specter-desktop-multisig-1of2-testnet.json"
    wallet = load(read(exports, name))
    want = expected[name]["expected"]["cosigner_types"]
    assert [(c.label, c.device) for c in wallet.descriptor.cosigners] == [
        (d["label"], d["type"]) for d in want
    ]
    assert wallet.descriptor.to_string(branch=0, checksummed=False) == (
        expected[name]["expected"]["descriptor_without_checksum"]
    )


def test_caravan_key_names_become_cosigner_labels(exports):
    wallet = load(read(exports, "caravan-2of2-p2wsh-testnet.json"))
    assert [c.label for c in wallet.descriptor.cosigners] == ["osw", "three"]


def test_bsms_first_address_is_the_wallets_first_receive_address(exports, expected):
    name = "bsms-2of2-p2wsh.bsms"
    wallet = load(read(exports, name))
    want = expected[name]["expected"]
    assert wallet.descriptor.address(0, 0, "bitcoin") == want["first_receive_address"]
    for branch, text in enumerate(want["expanded_descriptors"]):
        assert wallet.descriptor.to_string(branch, checksummed=False) == text.replace("'", "h")


def test_bsms_record_with_a_tampered_first_address_is_rejected(exports):
    wallet = load(read(exports, "bsms-2of2-p2wsh.bsms"))
    other = wallet.descriptor.address(0, 1, "bitcoin")  # a real address of the wallet, but not the first
    lines = read(exports, "bsms-2of2-p2wsh.bsms").splitlines()
    lines[3] = other
    assert code_of(lambda: load("\n".join(lines))) == "address_mismatch"


def test_bsms_record_whose_address_is_for_another_network_is_rejected(exports):
    text = read(exports, "bsms-2of2-p2wsh.bsms")
    testnet = keys.descriptor(2, 2, is_test=True).address(0, 0, "testnet")
    lines = text.splitlines()
    lines[3] = testnet
    assert code_of(lambda: load("\n".join(lines))) == "wrong_network"


def test_bsms_first_address_in_upper_case_bech32_is_accepted(exports):
    lines = read(exports, "bsms-2of2-p2wsh.bsms").splitlines()
    lines[3] = lines[3].upper()
    assert load("\n".join(lines)).network == "bitcoin"


def test_caravan_json_and_its_coldcard_twin_are_the_same_wallet(exports):
    caravan = load(read(exports, "caravan-2of2-p2wsh-testnet.json"))
    coldcard = load(read(exports, "caravan-2of2-p2wsh-testnet.coldcard.txt"))
    same_wallet(caravan.descriptor, coldcard.descriptor)


def test_coldcard_file_and_its_descriptor_twin_are_the_same_wallet(exports, expected):
    coldcard = load(read(exports, "coldcard-multisig-2of4-p2wsh-testnet.txt"))
    desc = load(read(exports, "coldcard-multisig-2of4-p2wsh-testnet.descriptor.txt"))
    same_wallet(coldcard.descriptor, desc.descriptor)
    receive = expected["coldcard-multisig-2of4-p2wsh-testnet.txt"]["expected"]["descriptor_receive"]
    assert coldcard.descriptor.to_string(branch=0) == receive


def test_coldcard_export_uses_coldcards_own_layout(exports):
    original = read(exports, "coldcard-multisig-2of4-p2wsh-testnet.txt")
    exported = dump(load(original), "coldcard", "testnet")
    # Identical after the header comment, which names the exporting device.
    assert exported.splitlines()[2:] == original.splitlines()[2:]


# -- round trips ------------------------------------------------------------------

EXPORTABLE = FORMATS  # every format, Specter/Sparrow JSON included


@pytest.mark.parametrize("fmt", EXPORTABLE)
@pytest.mark.parametrize("script_type", ["wsh", "sh-wsh"])
@pytest.mark.parametrize("m,n", [(2, 3), (3, 5)])
@pytest.mark.parametrize("network", ["bitcoin", "testnet"])
def test_exported_wallet_reads_back_as_the_same_wallet(fmt, script_type, m, n, network):
    desc = keys.descriptor(m, n, is_test=network != "bitcoin", script_type=script_type)
    wallet = WalletFile("Co-op vault", desc, network)
    text = dump(wallet, fmt, network)
    assert detect(text) == fmt
    back = load(text, fmt)
    same_wallet(back.descriptor, desc)
    if fmt in NAMED_FORMATS:
        assert back.name == "Co-op vault"


@pytest.mark.parametrize("network", ["bitcoin", "testnet", "testnet4", "regtest"])  # signet: see test_interop
def test_caravan_export_names_the_network_so_it_reads_back(network):
    desc = keys.descriptor(2, 3, is_test=network != "bitcoin")
    back = load(dump(WalletFile("x", desc, None), "caravan", network))
    # Caravan has no testnet4; its testnet has the same addresses.
    assert back.network == {"testnet4": "testnet"}.get(network, network)


@pytest.mark.parametrize("network,script_type,named", [
    ("bitcoin", "wsh", "bitcoin"), ("bitcoin", "sh-wsh", "bitcoin"),
    ("regtest", "wsh", "regtest"),
    ("regtest", "sh-wsh", None),  # 2... addresses are shared with testnet and signet
    ("testnet", "wsh", None), ("signet", "sh-wsh", None),
])
def test_bsms_export_reports_the_network_its_first_address_names(network, script_type, named):
    desc = keys.descriptor(2, 3, is_test=network != "bitcoin", script_type=script_type)
    assert load(dump(WalletFile("", desc, None), "bsms", network)).network == named


def test_bsms_export_first_address_matches_bdk():
    desc = keys.descriptor(2, 3, is_test=True)
    text = dump(WalletFile("", desc, None), "bsms", "regtest")
    receive = bdk.Descriptor(desc.to_string(branch=0), bdk.NetworkKind.TEST)
    assert text.splitlines()[3] == str(receive.derive_address(0, bdk.Network.REGTEST))


def test_round_trip_keeps_labels_and_devices_in_specter_json():
    desc = keys.descriptor(2, 3)
    people = tuple(replace(c, label=f"member {i}", device="coldcard") for i, c in enumerate(desc.cosigners))
    wallet = WalletFile("vault", replace(desc, cosigners=people), None)
    back = load(dump(wallet, "specter", "testnet"))
    assert [(c.label, c.device) for c in back.descriptor.cosigners] == [
        (c.label, c.device) for c in people
    ]


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    fmt=st.sampled_from(EXPORTABLE),
    script_type=st.sampled_from(["wsh", "sh-wsh"]),
    is_test=st.booleans(),
)
def test_any_m_of_n_from_the_test_keys_survives_every_format(data, fmt, script_type, is_test):
    n = data.draw(st.integers(2, 15), label="n")
    m = data.draw(st.integers(1, n), label="m")
    first = data.draw(st.integers(0, len(keys.MNEMONICS) - n), label="first key")
    desc = keys.descriptor(m, n, is_test=is_test, script_type=script_type, first=first)
    test_networks = ["testnet", "regtest"] + ([] if fmt == "caravan" else ["signet"])  # Caravan has no signet
    network = data.draw(st.sampled_from(test_networks if is_test else ["bitcoin"]))
    back = load(dump(WalletFile("prop", desc, None), fmt, network))
    same_wallet(back.descriptor, desc)


# -- descriptor text --------------------------------------------------------------


def test_descriptor_comments_and_blank_lines_are_ignored():
    desc = keys.descriptor(2, 3)
    text = f"# exported by a tool\n\n   {desc.to_string()}  \n\n# end\n"
    same_wallet(load(text).descriptor, desc)


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_receive_and_change_descriptor_lines_make_one_wallet(order):
    desc = keys.descriptor(2, 3)
    text = "\n".join(desc.to_string(branch=b) for b in order)
    wallet = load(text, "descriptor")
    same_wallet(wallet.descriptor, desc)
    assert wallet.name == "" and wallet.network is None


def test_receive_only_descriptor_implies_change_branch():
    desc = keys.descriptor(2, 3)
    same_wallet(load(desc.to_string(branch=0)).descriptor, desc)


def test_descriptor_export_is_one_multipath_line_with_checksum():
    desc = keys.descriptor(2, 3)
    text = dump(WalletFile("", desc, None), "descriptor", "testnet")
    assert text == desc.to_string() + "\n"
    assert "/<0;1>/*" in text and "#" in text


def test_two_receive_descriptor_lines_are_rejected():
    line = keys.descriptor(2, 3).to_string(branch=0)
    assert code_of(lambda: load(f"{line}\n{line}")) == "malformed_wallet_file"


def test_receive_and_change_lines_of_different_wallets_are_rejected():
    receive = keys.descriptor(2, 3).to_string(branch=0)
    change = keys.descriptor(2, 3, first=1).to_string(branch=1)
    assert code_of(lambda: load(f"{receive}\n{change}")) == "descriptors_disagree"


def test_receive_and_change_lines_with_different_thresholds_are_rejected():
    receive = keys.descriptor(2, 3).to_string(branch=0)
    change = keys.descriptor(1, 3).to_string(branch=1)
    assert code_of(lambda: load(f"{receive}\n{change}")) == "descriptors_disagree"


def test_three_descriptor_lines_are_rejected():
    desc = keys.descriptor(2, 3)
    text = "\n".join(desc.to_string(branch=b) for b in (0, 1, 0))
    assert code_of(lambda: load(text)) == "malformed_wallet_file"


def test_change_descriptor_alone_is_rejected():
    assert code_of(lambda: load(keys.descriptor(2, 3).to_string(branch=1))) == "bad_derivation"


def test_descriptor_file_with_only_comments_is_rejected():
    assert code_of(lambda: load("# nothing here\n\n", "descriptor")) == "malformed_wallet_file"


def test_descriptor_error_names_the_line():
    good = keys.descriptor(2, 3).to_string(branch=0)
    bad = keys.descriptor(2, 3).to_string(branch=1)[:-1] + "x"  # checksum broken
    call = lambda: load(f"# header\n{good}\n{bad}")  # noqa: E731
    assert code_of(call) == "bad_checksum"
    assert message_of(call).startswith("line 3: ")


def test_taproot_descriptor_is_unsupported():
    with pytest.raises(Unsupported) as exc:
        load("tr(xpub661MyMwAqRbcF/0/*)", "descriptor")
    assert exc.value.code == "unsupported_descriptor"


# -- Coldcard ---------------------------------------------------------------------


def coldcard_file(desc: MultisigDescriptor, name: str = "Vault", fmt: str = "P2WSH",
                  policy: str | None = None, lower: bool = False) -> str:
    lines = [f"Name: {name}", f"Policy: {policy or f'{desc.threshold} of {desc.n}'}"]
    if fmt:
        lines.append(f"Format: {fmt}")
    lines.append(f"Derivation: {desc.cosigners[0].origin.path_string}")
    for c in desc.cosigners:
        xfp = c.fingerprint if lower else c.fingerprint.upper()
        lines.append(f"{xfp}: {c.xpub}")
    return "\n".join(lines) + "\n"


def test_coldcard_fingerprints_may_be_lower_case():
    desc = keys.descriptor(2, 3)
    same_wallet(load(coldcard_file(desc, lower=True)).descriptor, desc)


@pytest.mark.parametrize("spelling", ["P2SH-P2WSH", "P2WSH-P2SH", "p2sh-p2wsh"])
def test_coldcard_nested_segwit_spellings_all_read_as_sh_wsh(spelling):
    desc = keys.descriptor(2, 3, script_type="sh-wsh")
    same_wallet(load(coldcard_file(desc, fmt=spelling)).descriptor, desc)


def test_coldcard_derivation_applies_to_the_keys_after_it():
    first = keys.cosigner(0)
    second = keys.descriptor(2, 3, script_type="sh-wsh").cosigners[1]  # another account path
    third = keys.cosigner(2)
    text = "\n".join([
        "Name: Mixed", "Policy: 2 of 3", "Format: P2WSH",
        f"Derivation: {first.origin.path_string}", f"{first.fingerprint}: {first.xpub}",
        f"Derivation: {second.origin.path_string}", f"{second.fingerprint}: {second.xpub}",
        f"Derivation: {third.origin.path_string}", f"{third.fingerprint}: {third.xpub}",
    ])
    desc = load(text).descriptor
    assert [c.origin for c in desc.cosigners] == [first.origin, second.origin, third.origin]
    exported = dump(WalletFile("Mixed", desc, None), "coldcard", "testnet")
    assert exported.count("Derivation:") == 3
    same_wallet(load(exported).descriptor, desc)


def test_coldcard_name_with_a_numbered_hash_is_kept():
    desc = keys.descriptor(2, 3)
    assert load(coldcard_file(desc, name="Team #2")).name == "Team #2"


def test_coldcard_inline_comment_is_ignored():
    desc = keys.descriptor(2, 3)
    text = coldcard_file(desc).replace("Format: P2WSH", "Format: P2WSH   # native segwit")
    same_wallet(load(text).descriptor, desc)


def test_coldcard_policy_that_disagrees_with_key_count_is_rejected():
    desc = keys.descriptor(2, 3)
    assert code_of(lambda: load(coldcard_file(desc, policy="2 of 4"))) == "malformed_wallet_file"


def test_coldcard_policy_that_does_not_parse_is_rejected():
    desc = keys.descriptor(2, 3)
    call = lambda: load(coldcard_file(desc, policy="two of three"))  # noqa: E731
    assert code_of(call) == "malformed_wallet_file"
    assert message_of(call).startswith("line 2: ")


def test_coldcard_threshold_above_key_count_is_rejected():
    desc = keys.descriptor(2, 3)
    assert code_of(lambda: load(coldcard_file(desc, policy="4 of 3"))) == "threshold_above_n"


def test_coldcard_legacy_p2sh_is_unsupported():
    desc = keys.descriptor(2, 3)
    with pytest.raises(Unsupported) as exc:
        load(coldcard_file(desc, fmt="P2SH"))
    assert exc.value.code == "unsupported_descriptor"


def test_coldcard_file_without_format_means_legacy_p2sh_and_is_unsupported():
    desc = keys.descriptor(2, 3)
    assert code_of(lambda: load(coldcard_file(desc, fmt=""), "coldcard")) == "unsupported_descriptor"


def test_coldcard_unknown_format_is_rejected():
    desc = keys.descriptor(2, 3)
    assert code_of(lambda: load(coldcard_file(desc, fmt="P2TR"))) == "malformed_wallet_file"


def test_coldcard_key_before_any_derivation_is_missing_its_origin():
    c = keys.cosigner(0)
    text = f"Name: x\nPolicy: 1 of 1\nFormat: P2WSH\n{c.fingerprint}: {c.xpub}\n"
    assert code_of(lambda: load(text, "coldcard")) == "missing_origin"


def test_coldcard_unknown_field_is_rejected():
    desc = keys.descriptor(2, 3)
    text = coldcard_file(desc).replace("Policy:", "Polcy:")
    assert code_of(lambda: load(text)) == "malformed_wallet_file"


def test_coldcard_second_policy_line_is_rejected():
    desc = keys.descriptor(2, 3)
    text = coldcard_file(desc) + "Policy: 3 of 3\n"
    assert code_of(lambda: load(text)) == "malformed_wallet_file"


def test_coldcard_file_without_keys_is_rejected():
    assert code_of(lambda: load("Name: x\nPolicy: 2 of 3\nFormat: P2WSH\n")) == "malformed_wallet_file"


def test_coldcard_file_without_policy_is_rejected():
    desc = keys.descriptor(2, 3)
    text = coldcard_file(desc).replace("Policy: 2 of 3\n", "")
    assert code_of(lambda: load(text)) == "malformed_wallet_file"


def test_coldcard_line_without_a_colon_is_rejected():
    desc = keys.descriptor(2, 3)
    assert code_of(lambda: load(coldcard_file(desc) + "stray words\n")) == "malformed_wallet_file"


def test_coldcard_broken_key_names_its_line():
    desc = keys.descriptor(2, 3)
    text = coldcard_file(desc).replace(desc.cosigners[1].xpub, desc.cosigners[1].xpub[:-1] + "x")
    call = lambda: load(text)  # noqa: E731
    assert code_of(call) == "malformed_key"
    assert message_of(call).startswith("line 6: ")


def test_coldcard_bad_derivation_line_is_rejected():
    desc = keys.descriptor(2, 3)
    text = coldcard_file(desc).replace("Derivation: m/48h", "Derivation: m/4x8h")
    assert code_of(lambda: load(text)) == "malformed_origin"


@pytest.mark.parametrize("name", ["A name longer than twenty", "Café", "Vault #1", " Vault", "tab\there"])
def test_coldcard_export_refuses_a_name_coldcard_would_reject_or_change(name):
    wallet = WalletFile(name, keys.descriptor(2, 3), None)
    assert code_of(lambda: dump(wallet, "coldcard", "testnet")) == "bad_wallet_name"


def test_coldcard_export_accepts_a_twenty_character_name():
    wallet = WalletFile("x" * 20, keys.descriptor(2, 3), None)
    assert load(dump(wallet, "coldcard", "testnet")).name == "x" * 20


def test_coldcard_export_of_an_unnamed_wallet_uses_coldcards_default_name():
    wallet = WalletFile("", keys.descriptor(2, 3), None)
    assert load(dump(wallet, "coldcard", "testnet")).name == "2-of-3"


def test_coldcard_export_of_an_unsorted_multi_wallet_is_unsupported():
    wallet = WalletFile("x", replace(keys.descriptor(2, 3), sorted=False), None)
    assert code_of(lambda: dump(wallet, "coldcard", "testnet")) == "unsupported_descriptor"


def test_coldcard_export_refuses_two_cosigners_with_one_fingerprint():
    same_seed = (keys.cosigner(0), keys.cosigner(1), keys.descriptor(2, 3, script_type="sh-wsh").cosigners[0])
    desc = MultisigDescriptor("wsh", 2, same_seed)
    assert code_of(lambda: dump(WalletFile("x", desc, None), "coldcard", "testnet")) == "unsupported_descriptor"


# -- Caravan ----------------------------------------------------------------------


def caravan(exports: Path, change) -> str:
    data = json.loads(read(exports, "caravan-2of2-p2wsh-testnet.json"))
    change(data)
    return json.dumps(data)


def test_caravan_legacy_p2sh_is_unsupported(exports):
    text = caravan(exports, lambda d: d.update(addressType="P2SH"))
    assert code_of(lambda: load(text)) == "unsupported_descriptor"


def test_caravan_unknown_address_type_is_rejected(exports):
    text = caravan(exports, lambda d: d.update(addressType="P2TR-ish"))
    assert code_of(lambda: load(text)) == "malformed_wallet_file"


def test_caravan_total_signers_that_disagrees_with_key_count_is_rejected(exports):
    text = caravan(exports, lambda d: d["quorum"].update(totalSigners=3))
    assert code_of(lambda: load(text)) == "malformed_wallet_file"


def test_caravan_unknown_key_path_is_a_missing_origin(exports):
    text = caravan(exports, lambda d: d["extendedPublicKeys"][1].update(bip32Path="Unknown"))
    assert code_of(lambda: load(text)) == "missing_origin"


def test_caravan_key_without_fingerprint_is_a_missing_origin(exports):
    text = caravan(exports, lambda d: d["extendedPublicKeys"][0].pop("xfp"))
    call = lambda: load(text)  # noqa: E731
    assert code_of(call) == "missing_origin"
    assert "extendedPublicKeys[0]" in message_of(call)


def test_caravan_network_that_disagrees_with_the_keys_is_rejected(exports):
    text = caravan(exports, lambda d: d.update(network="mainnet"))
    assert code_of(lambda: load(text)) == "wrong_network"


def test_caravan_unknown_network_is_rejected(exports):
    text = caravan(exports, lambda d: d.update(network="moonnet"))
    assert code_of(lambda: load(text)) == "unknown_network"


def test_caravan_file_without_quorum_is_rejected(exports):
    text = caravan(exports, lambda d: d.pop("quorum"))
    assert code_of(lambda: load(text)) == "malformed_wallet_file"


@pytest.mark.parametrize("value", ["2", True, None, 2.5])
def test_caravan_required_signers_must_be_a_whole_number(exports, value):
    text = caravan(exports, lambda d: d["quorum"].update(requiredSigners=value))
    assert code_of(lambda: load(text)) == "malformed_wallet_file"


def test_caravan_key_that_is_not_an_object_is_rejected(exports):
    text = caravan(exports, lambda d: d["extendedPublicKeys"].__setitem__(0, "tpub..."))
    assert code_of(lambda: load(text)) == "malformed_wallet_file"


def test_caravan_negative_starting_index_is_rejected(exports):
    text = caravan(exports, lambda d: d.update(startingAddressIndex=-1))
    assert code_of(lambda: load(text)) == "malformed_wallet_file"


def test_caravan_device_method_becomes_the_cosigners_device(exports):
    text = caravan(exports, lambda d: d["extendedPublicKeys"][0].update(method="trezor"))
    assert [c.device for c in load(text).descriptor.cosigners] == ["trezor", ""]


def test_caravan_export_writes_the_wallet_shape_caravan_reads():
    desc = keys.descriptor(2, 3, is_test=False, script_type="sh-wsh")
    data = json.loads(dump(WalletFile("Vault", desc, None), "caravan", "bitcoin"))
    assert data["addressType"] == "P2SH-P2WSH"
    assert data["network"] == "mainnet"
    assert data["quorum"] == {"requiredSigners": 2, "totalSigners": 3}
    assert data["client"] == {"type": "public"}
    assert data["extendedPublicKeys"][0]["bip32Path"] == "m/48'/0'/0'/1'"
    assert data["startingAddressIndex"] == 0


def test_broken_json_is_a_malformed_wallet_file(exports):
    text = read(exports, "caravan-2of2-p2wsh-testnet.json")[:-20]
    assert code_of(lambda: load(text)) == "malformed_wallet_file"
    assert code_of(lambda: load(text, "caravan")) == "malformed_wallet_file"


def test_json_that_is_not_an_object_is_rejected():
    assert code_of(lambda: load("[1, 2]", "caravan")) == "malformed_wallet_file"


def test_deeply_nested_json_is_rejected_not_crashed():
    assert code_of(lambda: load("[" * 100_000, "specter")) == "malformed_wallet_file"


# -- Specter / Sparrow JSON ---------------------------------------------------------


def specter(exports: Path, change) -> str:
    data = json.loads(read(exports, "specter-desktop-multisig-1of2-testnet.json"))
    change(data)
    return json.dumps(data)


def test_specter_devices_that_disagree_with_key_count_are_rejected(exports):
    text = specter(exports, lambda d: d["devices"].pop())
    assert code_of(lambda: load(text)) == "malformed_wallet_file"


def test_specter_file_without_descriptor_is_rejected(exports):
    text = specter(exports, lambda d: d.pop("descriptor"))
    assert code_of(lambda: load(text, "specter")) == "malformed_wallet_file"


def test_specter_device_that_is_not_an_object_is_rejected(exports):
    text = specter(exports, lambda d: d["devices"].__setitem__(0, "coldcard"))
    assert code_of(lambda: load(text)) == "malformed_wallet_file"


def test_specter_descriptor_error_is_located(exports):
    text = specter(exports, lambda d: d.update(descriptor=d["descriptor"][:-1] + "q"))
    call = lambda: load(text)  # noqa: E731
    assert code_of(call) == "bad_checksum"
    assert message_of(call).startswith("descriptor: ")


def test_specter_file_without_devices_still_imports(exports):
    wallet = load(specter(exports, lambda d: d.pop("devices")))
    assert [c.label for c in wallet.descriptor.cosigners] == ["", ""]


# -- BSMS ---------------------------------------------------------------------------


def bsms_lines(exports: Path) -> list[str]:
    return read(exports, "bsms-2of2-p2wsh.bsms").splitlines()


def test_bsms_other_version_is_rejected(exports):
    lines = bsms_lines(exports)
    lines[0] = "BSMS 2.0"
    assert code_of(lambda: load("\n".join(lines))) == "malformed_wallet_file"


def test_bsms_record_with_missing_line_is_rejected(exports):
    assert code_of(lambda: load("\n".join(bsms_lines(exports)[:3]))) == "malformed_wallet_file"


@pytest.mark.parametrize("paths", ["/0/*", "/2/*,/3/*", "/0/*,/1/*,/2/*"])
def test_bsms_path_restrictions_other_than_receive_and_change_are_unsupported(exports, paths):
    lines = bsms_lines(exports)
    lines[2] = paths
    assert code_of(lambda: load("\n".join(lines))) == "unsupported_descriptor"


def test_bsms_descriptor_that_is_not_a_template_is_rejected(exports):
    lines = bsms_lines(exports)
    lines[1] = lines[1].replace("/**", "/0/*")
    assert code_of(lambda: load("\n".join(lines))) == "malformed_wallet_file"


def test_bsms_template_with_explicit_multipath_is_accepted(exports):
    lines = bsms_lines(exports)
    lines[1] = lines[1].replace("/**", "/<0;1>/*")
    assert load("\n".join(lines)).network == "bitcoin"


def test_bsms_last_line_that_is_not_an_address_is_rejected(exports):
    lines = bsms_lines(exports)
    lines[3] = "hello"
    assert code_of(lambda: load("\n".join(lines))) == "malformed_wallet_file"


def test_bsms_export_writes_a_template_with_checksum():
    desc = keys.descriptor(2, 3, is_test=False)
    lines = dump(WalletFile("", desc, None), "bsms", "bitcoin").splitlines()
    assert lines[0] == "BSMS 1.0"
    assert lines[1].count("/**") == 3 and "#" in lines[1]
    assert lines[2] == "/0/*,/1/*"
    assert lines[3] == desc.address(0, 0, "bitcoin")


# -- detection and dispatch ---------------------------------------------------------


def test_unrecognised_text_is_an_unknown_format():
    assert code_of(lambda: detect("hello world\n")) == "unknown_format"


def test_json_of_another_tool_is_an_unknown_format():
    assert code_of(lambda: detect('{"wallet_type": "2of3"}')) == "unknown_format"


def test_encrypted_bsms_record_is_explained():
    call = lambda: detect("ab" * 200)  # noqa: E731
    assert code_of(call) == "unknown_format"
    assert "encrypted BSMS" in message_of(call)


def test_unknown_format_name_is_rejected():
    assert code_of(lambda: load("x", "electrum")) == "unknown_format"
    wallet = WalletFile("", keys.descriptor(2, 3), None)
    assert code_of(lambda: dump(wallet, "electrum", "testnet")) == "unknown_format"


def test_byte_order_mark_is_ignored(exports):
    text = "\ufeff" + read(exports, "coldcard-multisig-2of4-p2wsh-testnet.txt")
    assert load(text).name == "CC-2-of-4"


def test_export_for_a_network_the_keys_do_not_fit_is_rejected():
    wallet = WalletFile("x", keys.descriptor(2, 3, is_test=False), None)
    for fmt in FORMATS:
        assert code_of(lambda: dump(wallet, fmt, "testnet")) == "wrong_network"


def test_export_for_an_unknown_network_is_rejected():
    wallet = WalletFile("x", keys.descriptor(2, 3), None)
    assert code_of(lambda: dump(wallet, "bsms", "moonnet")) == "unknown_network"


def test_every_format_module_has_parse_and_serialize():
    for fmt in FORMATS:
        module = getattr(formats, fmt)
        assert callable(module.parse) and callable(module.serialize)
