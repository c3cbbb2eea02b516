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
SCAN_BELOW = 50_000  # measured: below this many hashes a plain scan beats the lookups
DENSE_FROM = 1 << 18  # from this size a chunk's buckets are a dense offset table (O(1) lookups, fixed 8-16 MiB)
DELTA_WORDS = 32_768  # delta rows x words at which it is sealed: its scan stays ~0.2 ms


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
    sorted_keys: list        # per chunk: uint32 (n,) ascending; None once ``offsets`` replaces it
    order: list              # per chunk: int32/int64 (n,) row of each sorted key
    offsets: list            # per chunk: bucket start of every possible key (dense), or None

    @classmethod
    def build(cls, ids: np.ndarray, hashes: np.ndarray, dense_from: int = DENSE_FROM) -> "_Segment":
        sorted_keys, order, offsets = [], [], []
        index_dtype = np.int32 if len(ids) < 2**31 else np.int64
        dense = len(ids) >= dense_from
        for word in range(hashes.shape[1]):
            column = hashes[:, word]
            for shift, width in CHUNK_LAYOUT:
                keys = ((column >> np.uint64(shift)) & np.uint64((1 << width) - 1)).astype(np.uint32)
                rows = np.argsort(keys, kind="stable").astype(index_dtype)
                order.append(rows)
                if dense:
                    counts = np.bincount(keys, minlength=1 << width)
                    offsets.append(np.concatenate(([0], np.cumsum(counts))).astype(index_dtype))
                    sorted_keys.append(None)
                else:
                    offsets.append(None)
                    sorted_keys.append(keys[rows])
        return cls(ids, hashes, sorted_keys, order, offsets)

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
                keys = _masks(width, radii[chunk]) ^ own
                if self.offsets[chunk] is not None:
                    lo, hi = self.offsets[chunk][keys], self.offsets[chunk][keys + 1]
                else:
                    keys.sort()
                    lo = np.searchsorted(self.sorted_keys[chunk], keys, "left")
                    hi = np.searchsorted(self.sorted_keys[chunk], keys, "right")
                hit = hi > lo
                if hit.any():
                    found.append(self.order[chunk][_ranges(lo[hit], hi[hit])])
                chunk += 1
        if not found:
            return np.empty(0, dtype=np.int64)
        # Duplicates are left in: verifying them is cheaper than a unique over all candidates.
        return np.concatenate(found)

    def search(self, query: np.ndarray, radius: int, scan_below: int = SCAN_BELOW) -> tuple[np.ndarray, np.ndarray]:
        rows = self.candidates(query, radius) if len(self.ids) >= scan_below else None
        if rows is None:
            distances = popcount_distances(self.hashes, query)
            rows = np.flatnonzero(distances <= radius)
            return self.ids[rows], distances[rows]
        distances = popcount_distances(self.hashes[rows], query)
        within = distances <= radius
        rows, first = np.unique(rows[within], return_index=True)  # few: only the true matches
        return self.ids[rows], distances[within][first]

    def nbytes(self) -> int:
        parts = [self.ids, self.hashes, *self.sorted_keys, *self.order, *self.offsets]
        return sum(part.nbytes for part in parts if part is not None)


def _ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Concatenation of arange(start, stop) for each pair, without a Python loop."""
    lengths = stops - starts
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return np.arange(lengths.sum()) + offsets


class HammingIndex:
    """Entries are (int64 id, hash); ``search`` returns ids and distances within a radius, exactly."""

    def __init__(self, words: int, merge_at: int | None = None, background_merge: bool = True,
                 scan_below: int = SCAN_BELOW, dense_from: int = DENSE_FROM) -> None:
        self.words = words
        self.scan_below, self.dense_from = scan_below, dense_from
        self.merge_at = merge_at or DELTA_WORDS // words
        self.background_merge = background_merge
        self._segment = _Segment.build(np.empty(0, np.int64), np.empty((0, words), np.uint64))
        self._delta_ids = np.empty(1024, np.int64)
        self._delta_hashes = np.empty((1024, words), np.uint64)
        self._delta_size = 0
        self._removed: set[int] = set()  # tombstones, until a merge drops them from the segment
        self._lock = threading.Lock()
        self._merging = False
        self.merges = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._segment.ids) + self._delta_size - len(self._removed)

    def bulk_load(self, ids: np.ndarray, hashes: np.ndarray) -> None:
        """Replace everything with a fresh sealed segment (start-up, before serving)."""
        segment = _Segment.build(np.asarray(ids, np.int64), np.ascontiguousarray(hashes, np.uint64), self.dense_from)
        with self._lock:
            self._segment, self._delta_size = segment, 0
            self._removed = set()

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
            self._removed.discard(entry_id)
            should_merge = self._delta_size >= self.merge_at and self._claim_merge()
        if should_merge:
            self._start_merge()

    def remove(self, entry_id: int) -> None:
        with self._lock:
            self._removed.add(entry_id)
            # Many tombstones (a deleted bank): merge, so the segment and the filtering shrink.
            should_merge = (len(self._removed) >= max(self.merge_at, len(self._segment.ids) // 10)
                            and self._claim_merge())
        if should_merge:
            self._start_merge()

    def _claim_merge(self) -> bool:
        """Under the lock: True when this caller should start the (single) merge."""
        if self._merging:
            return False
        self._merging = True
        return True

    def _start_merge(self) -> None:
        if self.background_merge:
            threading.Thread(target=self._merge, name="hash-index-merge", daemon=True).start()
        else:
            self._merge()

    def search(self, words: np.ndarray, radius: int) -> list[tuple[int, int]]:
        """(id, distance) of every live entry within ``radius``, nearest first."""
        with self._lock:  # a consistent snapshot; the arrays it names are never mutated in place below size
            segment, size = self._segment, self._delta_size
            delta_ids, delta_hashes = self._delta_ids, self._delta_hashes
            removed = self._removed
        query = np.asarray(words, np.uint64)
        ids, distances = segment.search(query, radius, self.scan_below)
        if size:
            delta_distances = popcount_distances(delta_hashes[:size], query)
            near = np.flatnonzero(delta_distances <= radius)
            ids = np.concatenate((ids, delta_ids[near]))
            distances = np.concatenate((distances, delta_distances[near]))
        if removed and len(ids):  # the hits are few: a set lookup each, whatever the tombstone count
            live = np.fromiter((int(i) not in removed for i in ids), bool, len(ids))
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
                removed = np.fromiter(self._removed, np.int64, len(self._removed))
            ids = np.concatenate((segment.ids, delta_ids))
            hashes = np.concatenate((segment.hashes, delta_hashes))
            live = ~np.isin(ids, removed)
            merged = _Segment.build(ids[live], hashes[live], self.dense_from)
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
                self.merges += 1
        finally:
            with self._lock:
                self._merging = False

    def nbytes(self) -> int:
        with self._lock:
            return self._segment.nbytes() + self._delta_ids.nbytes + self._delta_hashes.nbytes
