"""Agent keys: BIP-340 Schnorr signatures over domain-separated messages, and
safety codes. Checked against the official BIP-340 vectors, against Huddle's own
committed vectors (tests/vectors/agent_signatures.json), and against a small
BIP-340 verifier written here from the BIP's text alone (plain integers, no embit),
so that embit and an independent implementation agree."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
from embit import ec
from embit.util import secp256k1
from embit.wordlists.bip39 import WORDLIST

from coordinator import canonical
from coordinator.errors import InvalidInput
from coordinator.governance import agent_keys
from coordinator.governance.intent import Intent

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
BIP340 = list(csv.DictReader((VECTORS / "bip340.csv").open(encoding="utf-8")))
OURS = json.loads((VECTORS / "agent_signatures.json").read_text(encoding="utf-8"))

# BIP-340 "Specification", verification only, over plain integers.
P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def _add(p1, p2):
    if p1 is None or p2 is None:
        return p2 if p1 is None else p1
    if p1[0] == p2[0] and p1[1] != p2[1]:
        return None
    if p1 == p2:
        lam = 3 * p1[0] * p1[0] * pow(2 * p1[1], P - 2, P) % P
    else:
        lam = (p2[1] - p1[1]) * pow(p2[0] - p1[0], P - 2, P) % P
    x = (lam * lam - p1[0] - p2[0]) % P
    return x, (lam * (p1[0] - x) - p1[1]) % P


def _mul(point, n):
    out = None
    for i in range(256):
        if (n >> i) & 1:
            out = _add(out, point)
        point = _add(point, point)
    return out


def _tagged(tag: str, data: bytes) -> bytes:
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + data).digest()


def _lift_x(x: int):
    if x >= P:
        return None
    y_sq = (pow(x, 3, P) + 7) % P
    y = pow(y_sq, (P + 1) // 4, P)
    if pow(y, 2, P) != y_sq:
        return None
    return x, y if y % 2 == 0 else P - y


def reference_verify(pubkey: bytes, msg: bytes, sig: bytes) -> bool:
    point = _lift_x(int.from_bytes(pubkey, "big"))
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if point is None or r >= P or s >= N:
        return False
    e = int.from_bytes(_tagged("BIP0340/challenge", sig[:32] + pubkey + msg), "big") % N
    big_r = _add(_mul(G, s), _mul(point, N - e))
    return big_r is not None and big_r[1] % 2 == 0 and big_r[0] == r


@pytest.mark.parametrize("row", BIP340, ids=lambda r: f"bip340-{r['index']}")
def test_the_verifier_agrees_with_every_official_bip340_vector(row):
    expected = row["verification result"] == "TRUE"
    pubkey, msg, sig = (bytes.fromhex(row[k]) for k in ("public key", "message", "signature"))

    assert agent_keys.verify_digest(row["public key"].lower(), msg, row["signature"].lower()) is expected
    assert reference_verify(pubkey, msg, sig) is expected


@pytest.mark.parametrize("row", [r for r in BIP340 if r["secret key"]], ids=lambda r: f"bip340-{r['index']}")
def test_embit_makes_the_official_bip340_signatures(row):
    secret, aux = bytes.fromhex(row["secret key"]), bytes.fromhex(row["aux_rand"])
    made = secp256k1.schnorrsig_sign(bytes.fromhex(row["message"]), secret, None, aux)

    assert made.hex().upper() == row["signature"]
    assert agent_keys.public_key(ec.PrivateKey(secret)) == row["public key"].lower()


@pytest.mark.parametrize("case", OURS["signatures"], ids=lambda c: c["purpose"])
def test_our_committed_vectors_sign_and_verify_the_same_everywhere(case):
    key = ec.PrivateKey(bytes.fromhex(OURS["secret_key"]))
    body, message = case["body"], agent_keys.message(case["purpose"], case["body"])
    preimage = b"huddle/" + case["purpose"].encode() + b"/v1\x00" + case["jcs"].encode()

    assert canonical.encode(body).decode() == case["jcs"]
    assert message.hex() == case["message"] == hashlib.sha256(preimage).hexdigest()
    assert agent_keys.sign(key, case["purpose"], body) == case["signature"]
    assert agent_keys.verify(OURS["public_key"], case["purpose"], body, case["signature"])
    assert reference_verify(bytes.fromhex(OURS["public_key"]), message, bytes.fromhex(case["signature"]))


def test_a_signature_made_for_one_purpose_passes_for_no_other():
    key = ec.PrivateKey(bytes.fromhex(OURS["secret_key"]))
    body = agent_keys.head_body(1, 5, "ab" * 32)
    signature = agent_keys.sign(key, "head", body)

    assert [p for p in agent_keys.PURPOSES if agent_keys.verify(OURS["public_key"], p, body, signature)] == ["head"]


def test_the_approval_message_is_the_intent_digest():
    approval = next(c for c in OURS["signatures"] if c["purpose"] == "approval")

    assert Intent.from_dict(approval["body"]).digest().hex() == approval["message"]


@pytest.mark.parametrize("public_key,signature", [
    ("b8" * 32, "00" * 64),  # right shapes, wrong signature
    ("B8E8" + "b8" * 30, "00" * 64),  # upper case is not the canonical form
    ("b8" * 31, "00" * 64),  # short key
    ("ff" * 32, "00" * 64),  # not an x coordinate on the curve
    (OURS["public_key"], OURS["signatures"][0]["signature"][:-2]),  # short signature
    (OURS["public_key"], None),
    (None, OURS["signatures"][0]["signature"]),
], ids=["wrong", "upper case", "short key", "off the curve", "short signature", "no signature", "no key"])
def test_malformed_keys_and_signatures_never_verify(public_key, signature):
    case = OURS["signatures"][0]

    assert agent_keys.verify(public_key, case["purpose"], case["body"], signature) is False


@pytest.mark.parametrize("text", ["ff" * 32, "B8" * 32, "b8" * 31, 5, None], ids=str)
def test_registering_a_key_that_is_not_a_curve_point_is_refused(text):
    with pytest.raises(InvalidInput) as caught:
        agent_keys.check_public_key(text)
    assert caught.value.code == "bad_agent_key"


@pytest.mark.parametrize("case", OURS["safety_codes"], ids=lambda c: c["safety_code"])
def test_the_safety_code_is_the_first_66_bits_of_the_roster_hash_as_six_words(case):
    bits = bin(int(hashlib.sha256(canonical.encode(case["roster"])).hexdigest(), 16))[2:].zfill(256)
    words = [WORDLIST[int(bits[i * 11:(i + 1) * 11], 2)] for i in range(6)]

    assert agent_keys.safety_code(case["roster"]) == case["safety_code"] == " ".join(words)


def test_a_one_character_change_to_the_roster_changes_the_safety_code():
    first, second = OURS["safety_codes"][:2]

    assert first["safety_code"] != second["safety_code"]
    assert len(set(first["safety_code"].split()) | set(second["safety_code"].split())) > 6
