"""The deterministic machinery both ends of a UR transfer must agree on."""

from __future__ import annotations

import hashlib
import zlib

import pytest

from coordinator.qr import chooser, fountain
from coordinator.qr.xoshiro import Xoshiro256


def test_crc32_is_zlibs(ur_vectors):
    for case in ur_vectors["crc32"]:
        data = (bytes.fromhex(case["input_hex"]) if "input_hex" in case
                else case["input_utf8"].encode())
        assert f"{zlib.crc32(data):08x}" == case["crc32_hex"]


def test_sha256_example(ur_vectors):
    case = ur_vectors["sha256"]
    assert hashlib.sha256(case["input_utf8"].encode()).hexdigest() == case["digest_hex"]


def test_xoshiro_seeded_from_a_string(ur_vectors):
    case = ur_vectors["xoshiro256starstar"]["vectors"][0]
    rng = Xoshiro256.from_string(case["seed_utf8"])
    assert [rng.next() % 100 for _ in range(case["count"])] == case["expected"]


def test_xoshiro_seeded_from_a_crc(ur_vectors):
    case = ur_vectors["xoshiro256starstar"]["vectors"][1]
    rng = Xoshiro256.from_crc32(zlib.crc32(b"Wolf"))
    assert [rng.next() % 100 for _ in range(case["count"])] == case["expected"]


def test_xoshiro_closed_range_ints(ur_vectors):
    case = ur_vectors["xoshiro256starstar"]["vectors"][2]
    rng = Xoshiro256.from_string(case["seed_utf8"])
    assert [rng.next_int(1, 10) for _ in range(case["count"])] == case["expected"]


def test_make_message_is_xoshiro_bytes(make_message):
    assert Xoshiro256.from_string("Wolf").next_data(1024) == make_message(1024)


def test_random_sampler(ur_vectors):
    case = ur_vectors["random_sampler"]
    sampler = chooser.RandomSampler(case["probabilities"])
    rng = Xoshiro256.from_string("Wolf")
    samples = [sampler.next(rng) for _ in range(case["count"])]
    assert samples == case["expected_samples"]
    assert [samples.count(i) for i in range(4)] == case["expected_totals_per_index"]


def test_degree_chooser_with_one_rng(ur_vectors):
    case = ur_vectors["degree_chooser"]
    rng = Xoshiro256.from_string("Wolf")
    degrees = [chooser.choose_degree(case["seq_len"], rng) for _ in range(case["count"])]
    assert degrees == case["expected_degrees"]


def test_degree_chooser_with_a_fresh_rng_per_nonce(ur_vectors):
    case = ur_vectors["degree_chooser_bc_ur_cpp_variant"]
    degrees = [chooser.choose_degree(case["seq_len"], Xoshiro256.from_string(f"Wolf-{n}"))
               for n in range(1, case["count"] + 1)]
    assert degrees == case["expected_degrees"]


def test_shuffle_prefixes(ur_vectors):
    case = ur_vectors["shuffle"]
    got = [chooser.shuffled(case["values"], Xoshiro256.from_string("Wolf"), n)
           for n in range(1, 11)]
    assert got == case["expected"]


def test_repeated_shuffles_share_the_rng(ur_vectors):
    case = ur_vectors["shuffle_bc_ur_cpp_variant"]
    rng = Xoshiro256.from_string("Wolf")
    assert [chooser.shuffled(case["values"], rng) for _ in range(10)] == case["expected"]


def test_fragment_chooser(ur_vectors):
    case = ur_vectors["fragment_chooser"]
    checksum = int(case["checksum_hex"], 16)
    got = [sorted(chooser.choose_fragments(n, case["seq_len"], checksum)) for n in range(1, 51)]
    assert got == case["expected_sorted_indexes"]


@pytest.mark.parametrize("index", [0, 1])
def test_nominal_fragment_length(ur_vectors, index):
    case = ur_vectors["find_nominal_fragment_length"]["cases"][index]
    assert fountain.find_nominal_fragment_length(
        case["message_len"], case["min_fragment_len"], case["max_fragment_len"]) \
        == case["expected"]


def test_fragment_length_of_a_message_shorter_than_the_minimum():
    assert fountain.find_nominal_fragment_length(5, 10, 100) == 5


def test_partition_pads_the_last_fragment(ur_vectors, make_message):
    case = ur_vectors["partition"]
    length = fountain.find_nominal_fragment_length(
        case["message_len"], case["min_fragment_len"], case["max_fragment_len"])
    assert length == case["fragment_len"]
    fragments = fountain.partition(make_message(1024), length)
    assert [f.hex() for f in fragments] == case["expected_fragments_hex"]


def test_xor(ur_vectors):
    case = ur_vectors["xor"]
    a, b = bytes.fromhex(case["data1_hex"]), bytes.fromhex(case["data2_hex"])
    assert fountain.xor(a, b).hex() == case["data1_xor_data2_hex"]
    assert fountain.xor(fountain.xor(a, b), b) == a
