"""Near-duplicate groups: items whose pHashes are within a few bits of each other."""
from __future__ import annotations


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def near(phash: str | None, candidates: list[tuple[str, str | None]], max_distance: int) -> list[tuple[str, int]]:
    """(item id, distance) of the candidates within ``max_distance`` of ``phash``, closest first."""
    if not phash:
        return []
    found = []
    for item_id, other in candidates:
        if other:
            try:
                distance = hamming(phash, other)
            except ValueError:
                continue  # a malformed stored hash is not a match
            if distance <= max_distance:
                found.append((item_id, distance))
    return sorted(found, key=lambda pair: pair[1])
