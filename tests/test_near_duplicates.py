import numpy as np

from moderation_service.near_duplicates import NearDuplicateIndex


def test_index_finds_exactly_what_brute_force_finds():
    rng = np.random.default_rng(7)
    hashes = [int(h) for h in rng.integers(0, 2**63, size=3000, dtype=np.int64)]
    index = NearDuplicateIndex(initial_capacity=16)  # forces growth
    for number, value in enumerate(hashes):
        index.add(f"item-{number}", f"{value:016x}", "allow")
    for value in hashes[:50]:
        query = value ^ (1 << int(rng.integers(0, 64))) ^ (1 << int(rng.integers(0, 64)))
        expected = sorted(
            ((bin(query ^ other).count("1"), number) for number, other in enumerate(hashes)
             if bin(query ^ other).count("1") <= 12))
        found = index.search(f"{query:016x}", max_distance=12, limit=10_000)
        assert [(m.distance, int(m.item_id.split("-")[1])) for m in found] == expected


def test_search_orders_nearest_first_and_respects_limit():
    index = NearDuplicateIndex()
    index.add("far", "00000000000000ff", "allow")
    index.add("near", "0000000000000001", "block")
    index.add("same", "0000000000000000", "review")
    found = index.search("0000000000000000", max_distance=8, limit=2)
    assert [(m.item_id, m.distance, m.decision) for m in found] == [("same", 0, "review"), ("near", 1, "block")]
    assert index.search("ffffffffffffffff", max_distance=3, limit=5) == []
