"""The interop corpus: wallet files as Sparrow, Coldcard, Caravan, Nunchuk,
Jade, BlueWallet, krux, Keystone, BIP-129 and BDK write them
(``tests/vectors/wallet_exports/corpus``, sources in tests/vectors/README.md).

Each file imports with the first address ``corpus.json`` states (checked there
against the upstream test, the record itself, or BDK), or is refused with its
exact code. Every accepted wallet goes through every export format and back;
the Caravan export also passes Caravan's own config rules and keeps every
path through a Caravan upload and download (tests/wallet/caravan_config.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from coordinator.errors import HuddleError
from coordinator.wallet.formats import FORMATS, WalletFile, coldcard, detect, dump, load
from coordinator.wallet.keys import KeyOrigin
from tests.conftest import VECTORS
from tests.wallet import caravan_config

CORPUS = VECTORS / "wallet_exports" / "corpus"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "wallet-formats.md"
ENTRIES = {e["file"]: e for e in json.loads((CORPUS / "corpus.json").read_text())["files"]}
ACCEPTED = sorted(n for n, e in ENTRIES.items() if "imports" in e["expect"])
WITH_ORIGINS = sorted(n for n, e in ENTRIES.items() if "expect_with_origins" in e)
# Exports a format cannot express, and the code that says so.
CANNOT_EXPRESS = {("coldcard", False): "unsupported_descriptor", ("caravan", False): "unsupported_descriptor"}


def text_of(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


def origins_of(name: str) -> tuple[KeyOrigin, ...]:
    return tuple(KeyOrigin.from_option(o) for o in ENTRIES[name].get("expect_with_origins", {}).get("origins", ()))


def loaded(name: str) -> WalletFile:
    return load(text_of(name), None, origins_of(name))


def network_of(wallet: WalletFile) -> str:
    return wallet.network or ("testnet" if wallet.descriptor.is_test else "bitcoin")


def check_import(wallet: WalletFile, want: dict) -> None:
    desc = wallet.descriptor
    assert desc.address(0, 0, network_of(wallet)) == want["first_address"]
    assert (desc.threshold, desc.n, desc.script_type, desc.sorted) == (
        want["threshold"], want["n"], want["script_type"], want["sorted"])
    assert (wallet.network, wallet.name, wallet.birth_height) == (want["network"], want["name"], want["birth_height"])


def coldcard_keeps(name: str) -> bool:
    try:
        coldcard.check_name(name)
    except HuddleError:
        return False
    return True


def same_descriptor(a, b) -> None:
    assert (a.script_type, a.threshold, a.sorted) == (b.script_type, b.threshold, b.sorted)
    assert [(c.fingerprint, c.origin.path, c.xpub) for c in a.cosigners] == [
        (c.fingerprint, c.origin.path, c.xpub) for c in b.cosigners]


def test_corpus_manifest_lists_every_file_with_a_source():
    on_disk = {p.name for p in CORPUS.iterdir() if p.name != "corpus.json"}
    assert on_disk == set(ENTRIES)
    for entry in ENTRIES.values():
        source = entry["source"].get("built_from", entry["source"])
        assert source["repo"] and source["path"] and re.fullmatch(r"[0-9a-f]{40}", source["commit"])
        assert source["license"]
        assert ("built_from" in entry["source"]) == entry["file"].startswith("built-")


def test_corpus_files_are_listed_in_the_vectors_readme():
    readme = (VECTORS / "README.md").read_text()
    missing = [name for name in ENTRIES if f"`corpus/{name}`" not in readme]
    assert not missing, f"add these corpus files to tests/vectors/README.md: {missing}"


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_corpus_file_imports_or_is_refused_with_its_code(name):
    expect = ENTRIES[name]["expect"]
    if "refused" in expect:
        with pytest.raises(HuddleError) as exc:
            load(text_of(name))
        assert exc.value.code == expect["refused"], exc.value.message
        assert exc.value.message  # one line people can act on
    else:
        assert detect(text_of(name)) == ENTRIES[name]["format"]
        check_import(load(text_of(name)), expect["imports"])


@pytest.mark.parametrize("name", WITH_ORIGINS)
def test_corpus_file_with_its_missing_origins_supplied_imports(name):
    check_import(loaded(name), ENTRIES[name]["expect_with_origins"]["imports"])


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", ACCEPTED + WITH_ORIGINS)
def test_accepted_corpus_wallet_exports_to_every_format_and_reads_back(name, fmt):
    wallet = loaded(name)
    network = network_of(wallet)
    refusal = CANNOT_EXPRESS.get((fmt, wallet.descriptor.sorted))
    if refusal:
        with pytest.raises(HuddleError) as exc:
            dump(wallet, fmt, network)
        assert exc.value.code == refusal and "multi()" in exc.value.message
        return
    named = WalletFile(wallet.name or "Corpus wallet", wallet.descriptor, wallet.network, wallet.birth_height)
    if fmt == "coldcard" and not coldcard_keeps(named.name):  # e.g. "Vault #1", 23 characters
        with pytest.raises(HuddleError) as exc:
            dump(named, fmt, network)
        assert exc.value.code == "bad_wallet_name"
        named = replace(named, name="Corpus wallet")  # what `wallet export --as-name` does
    back = load(dump(named, fmt, network), fmt)
    same_descriptor(back.descriptor, wallet.descriptor)


@pytest.mark.parametrize("name", [n for n in ACCEPTED + WITH_ORIGINS if ENTRIES[n]["expect"].get("imports", {})
                                  .get("sorted", True) and ENTRIES[n].get("expect_with_origins", {})
                                  .get("imports", {}).get("sorted", True)])
def test_caravan_export_passes_caravans_validation_and_keeps_every_path(name):
    wallet = loaded(name)
    config = json.loads(dump(wallet, "caravan", network_of(wallet)))
    assert caravan_config.validate(config) == ""
    assert caravan_config.derives(config["network"])
    again = caravan_config.download(caravan_config.imported(config))
    assert [k["bip32Path"] for k in again] == [k["bip32Path"] for k in config["extendedPublicKeys"]]
    assert caravan_config.UNKNOWN_PATH not in json.dumps(again)
    redownloaded = {**config, "extendedPublicKeys": again}
    same_descriptor(load(json.dumps(redownloaded)).descriptor, wallet.descriptor)


def test_every_corpus_producer_has_a_row_in_the_formats_table():
    table = DOCS.read_text()
    producers = {e["producer"].split(" (")[0] for e in ENTRIES.values()}
    missing = [p for p in sorted(producers) if f"| {p} |" not in table]
    assert not missing, f"docs/wallet-formats.md producer table lacks {missing}"
