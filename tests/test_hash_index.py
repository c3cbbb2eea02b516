"""The Hamming index is exact within the radius: the same answer as brute force."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from moderation_service.banks.index import HammingIndex, _chunk_radii, popcount_distances
from moderation_service.banks.signals import HashFormatError
from moderation_service.banks.signals.registry import signal_type


def brute_force(ids, hashes, query, radius):
    distances = popcount_distances(hashes, query)
    return sorted((int(ids[i]), int(distances[i])) for i in np.flatnonzero(distances <= radius))


def near_copies(rng, hashes, count, max_flips, bits):
    """Queries close to stored hashes, so there are matches at every distance."""
    picks = hashes[rng.integers(0, len(hashes), count)].copy()
    for row in picks:
        for bit in rng.choice(bits, int(rng.integers(0, max_flips + 1)), replace=False):
            row[bit // 64] ^= np.uint64(1 << int(bit % 64))
    return picks


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), words=st.sampled_from([1, 4]), radius=st.integers(0, 40),
       size=st.integers(0, 600), dense=st.booleans())
def test_search_equals_brute_force_on_random_hashes(seed, words, radius, size, dense):
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**64, (size, words), dtype=np.uint64)
    ids = np.arange(size, dtype=np.int64) * 7 + 3
    # Always the multi-index path, however small; with sorted keys or dense bucket offsets.
    index = HammingIndex(words, scan_below=0, dense_from=0 if dense else 2**40)
    index.bulk_load(ids[: size // 2], hashes[: size // 2])
    for entry_id, row in zip(ids[size // 2:], hashes[size // 2:]):  # half sealed, half in the delta
        index.add(int(entry_id), row)
    queries = near_copies(rng, hashes, 5, radius + 3, words * 64) if size else rng.integers(0, 2**64, (2, words), dtype=np.uint64)
    for query in queries:
        assert sorted(index.search(query, radius)) == brute_force(ids, hashes, query, radius)


def test_removals_adds_and_merges_stay_exact_without_a_full_rebuild_per_update():
    rng = np.random.default_rng(7)
    hashes = rng.integers(0, 2**64, (3000, 1), dtype=np.uint64)
    index = HammingIndex(1, merge_at=500, background_merge=False, scan_below=0)
    live = {}
    for entry_id, row in enumerate(hashes):
        index.add(entry_id, row)
        live[entry_id] = row
        if entry_id % 3 == 0:
            index.remove(entry_id - 1 if entry_id else 0)
            live.pop(entry_id - 1 if entry_id else 0, None)
    assert index.merges == 3000 // 500  # merged in batches, not per update
    ids = np.array(sorted(live), dtype=np.int64)
    stored = np.array([live[i] for i in ids])
    for query in near_copies(rng, stored, 30, 10, 64):
        assert sorted(index.search(query, 9)) == brute_force(ids, stored, query, 9)


def test_background_merge_keeps_answers_exact():
    rng = np.random.default_rng(3)
    hashes = rng.integers(0, 2**64, (5000, 4), dtype=np.uint64)
    index = HammingIndex(4, merge_at=1000, scan_below=0, dense_from=2000)  # merges cross into the dense layout
    for entry_id, row in enumerate(hashes):
        index.add(entry_id, row)
    ids = np.arange(5000)
    for query in near_copies(rng, hashes, 20, 40, 256):
        assert sorted(index.search(query, 31)) == brute_force(ids, hashes, query, 31)


def test_chunk_radii_satisfy_the_pigeonhole_bound():
    for radius in range(0, 70):
        for chunks in (3, 12):
            radii = _chunk_radii(radius, chunks)
            assert sum(radii) >= radius - chunks + 1 and min(radii) >= 0


@pytest.mark.parametrize("name, text, code", [
    ("phash", "xyz", "hash_invalid"),
    ("phash", "abc", "hash_wrong_length"),
    ("pdq", "f" * 63, "hash_wrong_length"),
    ("sha256", "g" * 64, "hash_invalid"),
    ("nope", "00", "unknown_signal_type"),
])
def test_malformed_hashes_raise_a_clear_error_with_a_stable_code(name, text, code):
    with pytest.raises(HashFormatError) as raised:
        signal_type(name).parse(text)
    assert raised.value.code == code and name in str(raised.value)


def test_parse_canonicalises_case_and_spaces():
    assert signal_type("phash").parse("  ABCDEF0123456789 ") == "abcdef0123456789"


def test_removing_many_entries_merges_them_away():
    rng = np.random.default_rng(5)
    hashes = rng.integers(0, 2**64, (4000, 1), dtype=np.uint64)
    index = HammingIndex(1, merge_at=1000, background_merge=False, scan_below=0)
    index.bulk_load(np.arange(4000), hashes)
    for entry_id in range(3000):  # a deleted bank
        index.remove(entry_id)
    assert index.merges >= 1 and len(index) == 1000
    assert index.search(hashes[10], 0) == [] and index.search(hashes[3500], 0) == [(3500, 0)]
