"""This process's view of the banks: one Hamming index per signal type, and lookups.

Per-bank thresholds: an index is searched at the widest threshold any bank
sets for that signal type, then each hit is kept only within its own bank's
threshold. Allow banks suppress: the signal says so, and the default policy
blocks on a block-bank match only when no allow bank matched.

Memory: besides the indexes, an entry costs 5 bytes here (its bank and signal
type in arrays indexed by entry id); labels and hashes stay in the database
and are read only for the few entries that match.

Earlier items (the built-in ``earlier-items`` bank, table ``item_hashes``)
share the same per-signal-type indexes under negative ids (``-row id``): one
structure, one sync. Bank lookups skip them; ``search_items`` returns only
them. They cost 1 byte each here (a "seen" flag, so a sync never adds one twice).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np
from pydantic import BaseModel

from moderation_service.banks.index import HammingIndex
from moderation_service.banks.quarantine import FloodMonitor
from moderation_service.banks.signals.registry import SIGNAL_TYPES
from moderation_service.banks.store import effective_thresholds

SIGNAL_NAMES = list(SIGNAL_TYPES)
NO_BANK = -1
EARLIER_ITEMS = "earlier-items"
ITEM_SIGNAL_TYPES = ("phash", "pdq")  # the image hashes an item is indexed by


@dataclass(frozen=True)
class BankInfo:
    id: int
    name: str
    purpose: str
    thresholds: dict[str, int]


class BankMatch(BaseModel):
    bank: str
    purpose: str
    signal_type: str
    distance: int
    label: str | None
    entry_id: int
    hash: str


class BanksSignal(BaseModel):
    """What policies see as ``banks``: matches within each bank's threshold, and
    matches of quarantined entries (reported, never acted on)."""

    matches: list[BankMatch] = []
    quarantined: list[BankMatch] = []


# (entry ids) -> {entry id: (label, hash)}, from the database
DetailsReader = Callable[[list[int]], dict[int, tuple[str | None, str]]]


class BankMatcher:
    def __init__(self, details: DetailsReader, flood_monitor: FloodMonitor | None = None) -> None:
        self.indexes = {name: HammingIndex(kind.words()) for name, kind in SIGNAL_TYPES.items()}
        self.banks: dict[int, BankInfo] = {}
        self.details = details
        self.flood_monitor = flood_monitor
        self._bank_of = np.full(1024, NO_BANK, np.int32)  # by entry id
        self._kind_of = np.zeros(1024, np.int8)           # by entry id: position in SIGNAL_NAMES
        self._quarantined: set[int] = set()
        self._item_seen = np.zeros(1024, bool)  # by item_hashes row id
        # The built-in bank's thresholds (settings near_duplicate_*); set by the service.
        self.earlier_items = BankInfo(0, EARLIER_ITEMS, "history", {"phash": 6, "pdq": 31})
        self._lock = threading.Lock()

    # Applying changes (from sync)

    def set_bank(self, bank_id: int, name: str, purpose: str, thresholds: dict | None) -> None:
        with self._lock:
            self.banks[bank_id] = BankInfo(bank_id, name, purpose, effective_thresholds(thresholds))

    def drop_bank(self, bank_id: int) -> None:
        with self._lock:
            self.banks.pop(bank_id, None)
            doomed = np.flatnonzero(self._bank_of == bank_id)  # a scan, but bank deletions are rare
        for entry_id in doomed.tolist():
            self.remove_entry(entry_id)

    def load(self, ids: dict[str, np.ndarray], bank_ids: dict[str, np.ndarray], hashes: dict[str, np.ndarray],
             quarantined: set[int], item_ids: dict[str, np.ndarray] | None = None,
             item_hashes: dict[str, np.ndarray] | None = None) -> None:
        """Replace everything (start-up): per signal type, ids, bank ids and hash words, and the
        earlier items' row ids and hash words; one bulk build per signal type."""
        item_ids, item_hashes = item_ids or {}, item_hashes or {}
        top = max((int(i.max()) for i in ids.values() if len(i)), default=0)
        top_item = max((int(i.max()) for i in item_ids.values() if len(i)), default=0)
        with self._lock:
            self._grow(top)
            self._grow_items(top_item)
            for name, entry_ids in ids.items():
                self._bank_of[entry_ids] = bank_ids[name]
                self._kind_of[entry_ids] = SIGNAL_NAMES.index(name)
            for rows in item_ids.values():
                self._item_seen[rows] = True
            self._quarantined = set(quarantined)
        for name, entry_ids in ids.items():
            if name in item_ids and len(item_ids[name]):
                entry_ids = np.concatenate((entry_ids, -np.asarray(item_ids[name], np.int64)))
                words = np.concatenate((hashes[name], item_hashes[name]))
            else:
                words = hashes[name]
            self.indexes[name].bulk_load(entry_ids, words)

    def add_item_hash(self, row_id: int, signal_type: str, hash_hex: str) -> None:
        """An earlier item's hash (row ``row_id`` of item_hashes); a repeat is ignored."""
        with self._lock:
            self._grow_items(row_id)
            if self._item_seen[row_id]:
                return
            self._item_seen[row_id] = True
        self.indexes[signal_type].add(-row_id, SIGNAL_TYPES[signal_type].to_words(hash_hex))

    def search_items(self, signal_type: str, hash_hex: str, radius: int | None = None) -> list[tuple[int, int]]:
        """(item_hashes row id, distance) of earlier items within ``radius`` (default: the built-in
        bank's threshold for the signal type), nearest first. One hash per call."""
        if radius is None:
            radius = self.earlier_items.thresholds[signal_type]
        found = self.indexes[signal_type].search(SIGNAL_TYPES[signal_type].to_words(hash_hex), radius)
        # Nearest first, then oldest first (the index orders by its own ids, which are negated here).
        return sorted(((-entry_id, distance) for entry_id, distance in found if entry_id < 0),
                      key=lambda hit: (hit[1], hit[0]))

    def set_earlier_items_thresholds(self, thresholds: dict[str, int]) -> None:
        self.earlier_items = BankInfo(0, EARLIER_ITEMS, "history", dict(thresholds))

    def _grow_items(self, row_id: int) -> None:
        if row_id >= len(self._item_seen):
            size = max(row_id + 1, 2 * len(self._item_seen))
            self._item_seen = np.concatenate((self._item_seen, np.zeros(size - len(self._item_seen), bool)))

    def add_entry(self, entry_id: int, bank_id: int, signal_type: str, hash_hex: str, quarantined: bool) -> None:
        with self._lock:
            self._grow(entry_id)
            if self._bank_of[entry_id] != NO_BANK:
                return  # already here: syncs re-read rows past a gap
            self._bank_of[entry_id] = bank_id
            self._kind_of[entry_id] = SIGNAL_NAMES.index(signal_type)
            if quarantined:
                self._quarantined.add(entry_id)
        self.indexes[signal_type].add(entry_id, SIGNAL_TYPES[signal_type].to_words(hash_hex))

    def remove_entry(self, entry_id: int) -> None:
        with self._lock:
            if entry_id >= len(self._bank_of) or self._bank_of[entry_id] == NO_BANK:
                return
            self._bank_of[entry_id] = NO_BANK
            self._quarantined.discard(entry_id)
            name = SIGNAL_NAMES[self._kind_of[entry_id]]
        self.indexes[name].remove(entry_id)

    def set_quarantined(self, entry_id: int, quarantined: bool) -> None:
        with self._lock:
            (self._quarantined.add if quarantined else self._quarantined.discard)(entry_id)
        if not quarantined and self.flood_monitor is not None:
            self.flood_monitor.forget(entry_id)

    def _grow(self, entry_id: int) -> None:
        if entry_id >= len(self._bank_of):
            size = max(entry_id + 1, 2 * len(self._bank_of))
            self._bank_of = np.concatenate((self._bank_of, np.full(size - len(self._bank_of), NO_BANK, np.int32)))
            self._kind_of = np.concatenate((self._kind_of, np.zeros(size - len(self._kind_of), np.int8)))

    # Lookups

    def lookup(self, hashes: dict[str, list[str]], count_for_quarantine: bool = False) -> BanksSignal:
        """``hashes`` maps a signal type to the query hashes (several for PDQ's flips and rotations).
        Each entry appears once, at its smallest distance."""
        best: dict[int, int] = {}
        for name, queries in hashes.items():
            radius = self._widest_threshold(name)
            if radius is None:
                continue
            kind = SIGNAL_TYPES[name]
            for query in queries:
                for entry_id, distance in self.indexes[name].search(kind.to_words(query), radius):
                    if entry_id < 0:
                        continue  # an earlier item, not a bank entry
                    if distance < best.get(entry_id, radius + 1):
                        best[entry_id] = distance
        kept = []
        with self._lock:
            for entry_id, distance in best.items():
                bank = self.banks.get(int(self._bank_of[entry_id])) if entry_id < len(self._bank_of) else None
                name = SIGNAL_NAMES[self._kind_of[entry_id]] if bank else None
                if bank is not None and distance <= bank.thresholds[name]:
                    kept.append((entry_id, distance, bank, name, entry_id in self._quarantined))
        details = self.details([entry_id for entry_id, *_ in kept]) if kept else {}
        matches, quarantined = [], []
        for entry_id, distance, bank, name, is_quarantined in kept:
            if entry_id not in details:
                continue  # removed since the search
            label, hash_hex = details[entry_id]
            match = BankMatch(bank=bank.name, purpose=bank.purpose, signal_type=name, distance=distance,
                              label=label, entry_id=entry_id, hash=hash_hex)
            (quarantined if is_quarantined else matches).append(match)
            if count_for_quarantine and not is_quarantined and self.flood_monitor is not None:
                self.flood_monitor.record(entry_id)
        order = lambda m: (m.distance, m.bank, m.entry_id)  # noqa: E731
        return BanksSignal(matches=sorted(matches, key=order), quarantined=sorted(quarantined, key=order))

    def _widest_threshold(self, signal_name: str) -> int | None:
        with self._lock:
            banks = list(self.banks.values())
        return max((bank.thresholds[signal_name] for bank in banks), default=None)

    def bank_info(self, entry_id: int) -> BankInfo | None:
        """The bank an entry belongs to, as this process knows it."""
        with self._lock:
            if entry_id >= len(self._bank_of) or self._bank_of[entry_id] == NO_BANK:
                return None
            return self.banks.get(int(self._bank_of[entry_id]))

    def is_quarantined(self, entry_id: int) -> bool:
        with self._lock:
            return entry_id in self._quarantined

    def stats(self) -> dict:
        return {name: {"entries": len(index), "bytes": index.nbytes()} for name, index in self.indexes.items()}
