"""Exact Hamming-radius search over fixed-length binary hashes: multi-index hashing.

Each hash (``words`` uint64 words) is cut into 3 chunks per word (22, 21, 21
bits). By the generalised pigeonhole principle, two hashes within distance
``r`` agree within radius ``r_i`` on at least one chunk whenever
``sum(r_i) >= r - m + 1`` (m chunks). A query enumerates, per chunk, every key
within ``r_i`` of its own chunk, looks each up in that chunk's sorted key
array, and checks the candidates' full distance: exact, with no false negatives.

Updates never rebuild in the request path: new hashes go to a small delta
scanned by brute force; removals are tombstones. When the delta grows past
``merge_at`` a background thread builds a new sealed segment from the old one
plus the delta, and swaps it in; queries keep using the old one meanwhile.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import numpy as np

CHUNK_LAYOUT = ((42, 22), (21, 21), (0, 21))  # (shift, width) of each chunk inside one 64-bit word
MAX_KEYS_PER_QUERY = 200_000  # beyond this, a brute-force scan of the segment is cheaper


@lru_cache(maxsize=None)
def _masks(width: int, radius: int) -> np.ndarray:
    """Every ``width``-bit XOR mask with at most ``radius`` bits set."""
    masks = [0]
    for flips in range(1, radius + 1):
        masks.extend(sum(1 << bit for bit in bits) for bits in combinations(range(width), flips))
    return np.array(masks, dtype=np.uint32)


def _chunk_radii(radius: int, chunks: int) -> list[int]:
    """Per-chunk radii whose sum is radius - chunks + 1 (at least 0 each), spread evenly."""
    budget = max(radius - chunks + 1, 0)
    return [budget // chunks + (1 if i < budget % chunks else 0) for i in range(chunks)]


def popcount_distances(hashes: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hamming distance of each row of ``hashes`` (n, words) to ``query`` (words,)."""
    return np.bitwise_count(hashes ^ query).sum(axis=1, dtype=np.int32)


@dataclass(frozen=True)
class _Segment:
    """An immutable, sealed set of hashes with one sorted key array per chunk."""

    ids: np.ndarray          # int64 (n,)
    hashes: np.ndarray       # uint64 (n, words)
    sorted_keys: list        # per chunk: uint32 (n,) ascending
    order: list              # per chunk: int32/int64 (n,) row of each sorted key

    @classmethod
    def build(cls, ids: np.ndarray, hashes: np.ndarray) -> "_Segment":
        sorted_keys, order = [], []
        index_dtype = np.int32 if len(ids) < 2**31 else np.int64
        for word in range(hashes.shape[1]):
            column = hashes[:, word]
            for shift, width in CHUNK_LAYOUT:
                keys = ((column >> np.uint64(shift)) & np.uint64((1 << width) - 1)).astype(np.uint32)
                rows = np.argsort(keys, kind="stable").astype(index_dtype)
                sorted_keys.append(keys[rows])
                order.append(rows)
        return cls(ids, hashes, sorted_keys, order)

    def candidates(self, query: np.ndarray, radius: int) -> np.ndarray | None:
        """Rows that may lie within ``radius``; None means "scan everything"."""
        chunk_count = len(self.sorted_keys)
        radii = _chunk_radii(radius, chunk_count)
        widths = [width for _ in range(len(query)) for _, width in CHUNK_LAYOUT]
        if sum(len(_masks(w, r)) for w, r in zip(widths, radii)) > MAX_KEYS_PER_QUERY:
            return None
        found = []
        chunk = 0
        for word in query:
            for shift, width in CHUNK_LAYOUT:
                own = np.uint32((int(word) >> shift) & ((1 << width) - 1))
                keys = np.sort(_masks(width, radii[chunk]) ^ own)
                sorted_keys = self.sorted_keys[chunk]
                lo = np.searchsorted(sorted_keys, keys, "left")
                hi = np.searchsorted(sorted_keys, keys, "right")
                hit = hi > lo
                if hit.any():
                    found.append(self.order[chunk][_ranges(lo[hit], hi[hit])])
                chunk += 1
        if not found:
            return np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate(found))

    def search(self, query: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self.candidates(query, radius)
        if rows is None:
            distances = popcount_distances(self.hashes, query)
            rows = np.flatnonzero(distances <= radius)
            return self.ids[rows], distances[rows]
        distances = popcount_distances(self.hashes[rows], query)
        within = distances <= radius
        return self.ids[rows[within]], distances[within]

    def nbytes(self) -> int:
        return (self.ids.nbytes + self.hashes.nbytes + sum(k.nbytes for k in self.sorted_keys)
                + sum(o.nbytes for o in self.order))


def _ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Concatenation of arange(start, stop) for each pair, without a Python loop."""
    lengths = stops - starts
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return np.arange(lengths.sum()) + offsets


class HammingIndex:
    """Entries are (int64 id, hash); ``search`` returns ids and distances within a radius, exactly."""

    def __init__(self, words: int, merge_at: int = 32_768, background_merge: bool = True) -> None:
        self.words = words
        self.merge_at = merge_at
        self.background_merge = background_merge
        self._segment = _Segment.build(np.empty(0, np.int64), np.empty((0, words), np.uint64))
        self._delta_ids = np.empty(1024, np.int64)
        self._delta_hashes = np.empty((1024, words), np.uint64)
        self._delta_size = 0
        self._removed: set[int] = set()
        self._removed_array = np.empty(0, np.int64)
        self._lock = threading.Lock()
        self._merging = False
        self.merges = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._segment.ids) + self._delta_size - len(self._removed)

    def bulk_load(self, ids: np.ndarray, hashes: np.ndarray) -> None:
        """Replace everything with a fresh sealed segment (start-up, before serving)."""
        segment = _Segment.build(np.asarray(ids, np.int64), np.ascontiguousarray(hashes, np.uint64))
        with self._lock:
            self._segment, self._delta_size = segment, 0
            self._removed, self._removed_array = set(), np.empty(0, np.int64)

    def add(self, entry_id: int, words: np.ndarray) -> None:
        with self._lock:
            if self._delta_size == len(self._delta_ids):
                self._delta_ids = np.resize(self._delta_ids, self._delta_size * 2)
                grown = np.empty((self._delta_size * 2, self.words), np.uint64)
                grown[:self._delta_size] = self._delta_hashes[:self._delta_size]
                self._delta_hashes = grown
            self._delta_ids[self._delta_size] = entry_id
            self._delta_hashes[self._delta_size] = words
            self._delta_size += 1
            # A re-added id (removed, then restored) must be visible again.
            if entry_id in self._removed:
                self._removed.discard(entry_id)
                self._removed_array = np.fromiter(self._removed, np.int64, len(self._removed))
            should_merge = self._delta_size >= self.merge_at and not self._merging
            if should_merge:
                self._merging = True
        if should_merge:
            if self.background_merge:
                threading.Thread(target=self._merge, name="hash-index-merge", daemon=True).start()
            else:
                self._merge()

    def remove(self, entry_id: int) -> None:
        with self._lock:
            self._removed.add(entry_id)
            self._removed_array = np.fromiter(self._removed, np.int64, len(self._removed))

    def search(self, words: np.ndarray, radius: int) -> list[tuple[int, int]]:
        """(id, distance) of every live entry within ``radius``, nearest first."""
        with self._lock:  # a consistent snapshot; the arrays it names are never mutated in place below size
            segment, size = self._segment, self._delta_size
            delta_ids, delta_hashes = self._delta_ids, self._delta_hashes
            removed = self._removed_array
        query = np.asarray(words, np.uint64)
        ids, distances = segment.search(query, radius)
        if size:
            delta_distances = popcount_distances(delta_hashes[:size], query)
            near = np.flatnonzero(delta_distances <= radius)
            ids = np.concatenate((ids, delta_ids[near]))
            distances = np.concatenate((distances, delta_distances[near]))
        if len(removed) and len(ids):
            live = ~np.isin(ids, removed)
            ids, distances = ids[live], distances[live]
        order = np.lexsort((ids, distances))
        return [(int(ids[i]), int(distances[i])) for i in order]

    def _merge(self) -> None:
        """Seal segment + delta into a new segment, off the request path; then swap."""
        try:
            with self._lock:
                segment, size = self._segment, self._delta_size
                delta_ids = self._delta_ids[:size].copy()
                delta_hashes = self._delta_hashes[:size].copy()
                removed = self._removed_array
            ids = np.concatenate((segment.ids, delta_ids))
            hashes = np.concatenate((segment.hashes, delta_hashes))
            live = ~np.isin(ids, removed)
            merged = _Segment.build(ids[live], hashes[live])
            with self._lock:
                # Entries added while building stay in the delta; tombstones applied in the build are dropped.
                # New arrays, not a shift in place: a concurrent search may still read the old ones.
                tail = self._delta_size - size
                capacity = max(1024, 2 * tail)
                tail_ids, tail_hashes = np.empty(capacity, np.int64), np.empty((capacity, self.words), np.uint64)
                tail_ids[:tail] = self._delta_ids[size:self._delta_size]
                tail_hashes[:tail] = self._delta_hashes[size:self._delta_size]
                self._delta_ids, self._delta_hashes = tail_ids, tail_hashes
                self._segment, self._delta_size = merged, tail
                applied = set(removed.tolist())
                still_in_delta = set(tail_ids[:tail].tolist())
                self._removed = {i for i in self._removed if i not in applied or i in still_in_delta}
                self._removed_array = np.fromiter(self._removed, np.int64, len(self._removed))
                self.merges += 1
        finally:
            with self._lock:
                self._merging = False

    def nbytes(self) -> int:
        with self._lock:
            return self._segment.nbytes() + self._delta_ids.nbytes + self._delta_hashes.nbytes
