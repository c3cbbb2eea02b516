"""In-memory index of earlier items' pHashes, for near-duplicate lookups.

A brute-force XOR-and-popcount over a packed uint64 array: exact, and fast
enough for a single node's history (tens of millions of comparisons per
second). The scalable multi-index design belongs to the hash-bank work.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class IndexedItem:
    item_id: str
    distance: int
    decision: str


class NearDuplicateIndex:
    def __init__(self, initial_capacity: int = 1024) -> None:
        self._hashes = np.zeros(initial_capacity, dtype=np.uint64)
        self._item_ids: list[str] = []
        self._decisions: list[str] = []
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._item_ids)

    def add(self, item_id: str, phash_hex: str, decision: str) -> None:
        """Adding an item twice (its own write, then a sync) keeps one entry."""
        with self._lock:
            if item_id in self._known:
                return
            self._known.add(item_id)
            size = len(self._item_ids)
            if size == len(self._hashes):
                self._hashes = np.resize(self._hashes, size * 2)
            self._hashes[size] = np.uint64(int(phash_hex, 16))
            self._item_ids.append(item_id)
            self._decisions.append(decision)

    def search(self, phash_hex: str, max_distance: int, limit: int) -> list[IndexedItem]:
        """Earlier items within ``max_distance`` bits, nearest first, then oldest first."""
        with self._lock:
            size = len(self._item_ids)
            distances = np.bitwise_count(self._hashes[:size] ^ np.uint64(int(phash_hex, 16)))
            within = np.flatnonzero(distances <= max_distance)
            order = within[np.lexsort((within, distances[within]))][:limit]
            return [IndexedItem(self._item_ids[i], int(distances[i]), self._decisions[i]) for i in order]
