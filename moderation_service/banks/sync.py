"""Keeps a process's BankMatcher current with the database, the source of truth.

Each round reads entries with an id above the cursor, and changes (removals,
quarantines, bank edits) with a sequence number above the cursor. Ids are
allocated before commit, so a lower id can appear after a higher one: the
cursor stops at the first gap and re-reads past it until the gap fills or is
older than ``gap_timeout_s`` (a rolled-back write leaves a gap for ever).
Re-applying a row is harmless: every step is idempotent.

Earlier items' image hashes (``item_hashes``, the built-in ``earlier-items``
bank) sync the same way, with their own id cursor, into the same indexes.
"""
from __future__ import annotations

import logging
import random
import threading
import time

import numpy as np
from sqlalchemy import select

from moderation_service.banks.matcher import ITEM_SIGNAL_TYPES, BankMatcher
from moderation_service.banks.signals.registry import SIGNAL_TYPES
from moderation_service.banks.store import BankStore
from moderation_service.db.tables import HashBank, HashBankChange, HashBankEntry, ItemHash

log = logging.getLogger(__name__)
PAGE = 50_000


class GapCursor:
    """The highest id below which every id has been seen (or given up on)."""

    def __init__(self, start: int, gap_timeout_s: float) -> None:
        self.position = start
        self.gap_timeout_s = gap_timeout_s
        self._gap_since: float | None = None

    def advance(self, seen_ids: list[int], now: float) -> None:
        for seen in sorted(seen_ids):
            if seen <= self.position:
                continue
            if seen != self.position + 1:
                if self._gap_since is None:
                    self._gap_since = now
                if now - self._gap_since < self.gap_timeout_s:
                    return
            self.position, self._gap_since = seen, None


class BankSync:
    def __init__(self, store: BankStore, matcher: BankMatcher, interval_s: float = 1.0, jitter: float = 0.5,
                 gap_timeout_s: float = 30.0) -> None:
        self.store, self.matcher = store, matcher
        self.interval_s, self.jitter = interval_s, jitter
        self.entries = GapCursor(0, gap_timeout_s)
        self.changes = GapCursor(0, gap_timeout_s)
        self.items = GapCursor(0, gap_timeout_s)
        self.last_synced_at: float | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def load_all(self) -> None:
        """Start-up: every bank and entry, in one bulk build per index."""
        with self._lock, self.store.sessions() as session:
            # The change cursor is read first: a change made during the load is replayed, not lost.
            self.changes.position = session.scalar(select(HashBankChange.seq).order_by(HashBankChange.seq.desc())
                                                   .limit(1)) or 0
            for bank in session.scalars(select(HashBank)):
                self.matcher.set_bank(bank.id, bank.name, bank.purpose, bank.thresholds)
            columns = {name: ([], [], []) for name in SIGNAL_TYPES}  # ids, bank ids, hash words: compact
            quarantined, top = set(), 0
            result = session.execute(select(HashBankEntry.id, HashBankEntry.bank_id, HashBankEntry.signal_type,
                                            HashBankEntry.hash, HashBankEntry.quarantined_at)
                                     .execution_options(yield_per=PAGE))
            for page in result.partitions():
                for row in page:
                    ids, bank_ids, words = columns[row.signal_type]
                    ids.append(row.id)
                    bank_ids.append(row.bank_id)
                    words.extend(int(row.hash[i:i + 16], 16) for i in range(0, len(row.hash), 16))
                    if row.quarantined_at is not None:
                        quarantined.add(row.id)
                    top = max(top, row.id)
            items = {name: ([], []) for name in ITEM_SIGNAL_TYPES}  # row ids, hash words
            top_item = 0
            result = session.execute(select(ItemHash.id, ItemHash.signal_type, ItemHash.hash)
                                     .execution_options(yield_per=PAGE))
            for page in result.partitions():
                for row in page:
                    row_ids, words = items[row.signal_type]
                    row_ids.append(row.id)
                    words.extend(int(row.hash[i:i + 16], 16) for i in range(0, len(row.hash), 16))
                    top_item = max(top_item, row.id)
            self.matcher.load(
                {name: np.array(c[0], np.int64) for name, c in columns.items()},
                {name: np.array(c[1], np.int32) for name, c in columns.items()},
                {name: np.array(c[2], np.uint64).reshape(-1, SIGNAL_TYPES[name].words()) for name, c in columns.items()},
                quarantined,
                {name: np.array(c[0], np.int64) for name, c in items.items()},
                {name: np.array(c[1], np.uint64).reshape(-1, SIGNAL_TYPES[name].words()) for name, c in items.items()})
            self.entries.position = top
            self.items.position = top_item
            self.last_synced_at = time.monotonic()

    def sync_once(self) -> None:
        with self._lock:
            now = time.monotonic()
            with self.store.sessions() as session:
                # Changes before entries: an entry removed meanwhile is then already gone from the table.
                changes = list(session.scalars(select(HashBankChange).where(
                    HashBankChange.seq > self.changes.position).order_by(HashBankChange.seq).limit(PAGE)))
                for change in changes:
                    self._apply(session, change)
                self.changes.advance([c.seq for c in changes], now)
                while True:
                    rows = session.execute(select(HashBankEntry.id, HashBankEntry.bank_id, HashBankEntry.signal_type,
                                                  HashBankEntry.hash, HashBankEntry.quarantined_at)
                                           .where(HashBankEntry.id > self.entries.position)
                                           .order_by(HashBankEntry.id).limit(PAGE)).all()
                    for row in rows:
                        if row.bank_id not in self.matcher.banks:
                            self._reload_bank(session, row.bank_id)
                        self.matcher.add_entry(row.id, row.bank_id, row.signal_type, row.hash,
                                               row.quarantined_at is not None)
                    before = self.entries.position
                    self.entries.advance([row.id for row in rows], now)
                    if len(rows) < PAGE or self.entries.position == before:
                        break
                self._sync_items(session, now)
            self.last_synced_at = now

    def _sync_items(self, session, now: float) -> None:
        while True:
            rows = session.execute(select(ItemHash.id, ItemHash.signal_type, ItemHash.hash)
                                   .where(ItemHash.id > self.items.position)
                                   .order_by(ItemHash.id).limit(PAGE)).all()
            for row in rows:
                self.matcher.add_item_hash(row.id, row.signal_type, row.hash)
            before = self.items.position
            self.items.advance([row.id for row in rows], now)
            if len(rows) < PAGE or self.items.position == before:
                break

    def _apply(self, session, change: HashBankChange) -> None:
        if change.op == "bank_changed":
            self._reload_bank(session, change.bank_id)
        elif change.op == "bank_deleted":
            self.matcher.drop_bank(change.bank_id)
        elif change.op == "entry_removed":
            self.matcher.remove_entry(change.entry_id)
        elif change.op in ("entry_quarantined", "entry_released"):
            row = session.get(HashBankEntry, change.entry_id)
            if row is not None:
                self.matcher.set_quarantined(row.id, row.quarantined_at is not None)

    def _reload_bank(self, session, bank_id: int) -> None:
        bank = session.get(HashBank, bank_id)
        if bank is not None:
            session.refresh(bank)
            self.matcher.set_bank(bank.id, bank.name, bank.purpose, bank.thresholds)

    # The background loop

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="bank-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s * (1 + random.uniform(-self.jitter, self.jitter))):
            try:
                self.sync_once()
            except Exception:  # the database may be briefly away; the next round retries
                log.exception("bank sync failed; retrying")

