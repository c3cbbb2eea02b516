"""Retroactive takedown ("retro-hunt"): when a hash joins a block bank, take down what it matches.

Every new entry of a block bank (by import, the API or a reviewer's reject:
all write ``hash_bank_entries``) is searched against earlier items on the
banks' index (the built-in ``earlier-items`` bank) within that bank's
threshold for its signal type (sha256: the stored image digest), and so are
its ``variants``, the flips and rotations of the picture it was taken from (a
reviewer's reject, or a picture added through the API): earlier items keep only
their plain PDQ hash, so a mirrored copy published before is found only this way. Each match
whose decision in force is ``allow`` or ``redact`` is taken down:

- its decision in force becomes ``block`` (a review row with
  ``decided_by = "retro-hunt"``; the policy's own ``decision`` is kept),
- a ``retroactive`` audit entry names the bank entry,
- a signed ``item.retroactively_blocked`` webhook is queued (the outbox),
- ``moderation_retroactive_blocks_total{bank}`` counts it.

It runs in a background thread, never in a request. A cursor row
(``retro_hunt_cursor``) holds the last entry hunted; each round locks it
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so one worker hunts at a time and
the others skip), hunts a batch, and commits the takedowns with the cursor's
advance: a crash rolls the round back and the next round redoes it. Items
already blocked are never taken down again, so a replay is harmless.

An entry is hunted ``settle_s`` after it was added, so every process has
synced it (and every item decided before it synced is in the index); the
cursor waits at a gap in the ids (a commit still to come) unless the entries in
the gap were removed. An
entry that matches more than ``max_items`` items is quarantined instead, as
a flooding entry is at match time: a generic hash cannot take down a flood.
Items matching an allow bank are left alone, as the default policy does (a mirrored
copy too: an item is looked up in all eight orientations, as at moderation time).

An entry an admin releases from quarantine is hunted again (a second cursor,
over the ``entry_released`` changes), this time without the flood limit: the
release is a person's word that the entry is not generic, and each takedown's
audit entry says it followed a release. The same pass hunts an entry whose
hash was banked bare (a list) and later again from its picture, which gives it
variants (``entry_variants_added``), this time within the flood limit.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from moderation_service.banks.matcher import ITEM_SIGNAL_TYPES
from moderation_service.banks.runtime import Banks
from moderation_service.banks.store import VARIANTS_ADDED, effective_thresholds
from moderation_service.db.tables import (HashBank, HashBankChange, HashBankEntry, ItemHash, ModerationItem,
                                          RetroHuntCursor, ReviewQueueEntry)
from moderation_service.decision_cause import RETRO_ACTOR
from moderation_service.image_views import view_hashes
from moderation_service.review import audit
from moderation_service.review.clock import aware, utcnow
from moderation_service.review.webhooks import enqueue_event

log = logging.getLogger(__name__)
CURSOR = "block-banks"
# Holds a hash_bank_changes seq (in the cursor's entry_id column), not an entry id.
RELEASED_CURSOR = "released-entries"
EVENT = "item.retroactively_blocked"
QUEUE = "retroactive"  # the review row that carries a takedown when the item had none
IN_FORCE_PUBLISHED = ("allow", "redact")


@dataclass
class HuntReport:
    entries: int = 0                                     # entries hunted this round
    taken_down: list[tuple[str, int]] = field(default_factory=list)  # (item id, entry id)
    quarantined: list[int] = field(default_factory=list)
    released: int = 0                                    # released entries hunted again this round
    skipped: bool = False                                # another worker held the cursor


class RetroHunter:
    def __init__(self, sessions: sessionmaker, banks: Banks, *, settle_s: float = 5.0, max_items: int = 50,
                 batch: int = 100, gap_timeout_s: float | None = None,
                 on_taken_down: Callable[[str, int], None] | None = None) -> None:
        self.sessions, self.banks = sessions, banks
        self.settle_s, self.max_items, self.batch = settle_s, max_items, batch
        self.gap_timeout_s = banks.settings.gap_timeout_s if gap_timeout_s is None else gap_timeout_s
        self.on_taken_down = on_taken_down  # (bank name, count) after a commit: the metrics counter
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ensure_cursor()

    def ensure_cursor(self) -> None:
        """First start: begin after the newest entry (and release), so old ones are not hunted unannounced."""
        for name, column in ((CURSOR, HashBankEntry.id), (RELEASED_CURSOR, HashBankChange.seq)):
            with self.sessions() as session:
                if session.get(RetroHuntCursor, name) is not None:
                    continue
            try:
                with self.sessions.begin() as session:
                    newest = session.scalar(select(column).order_by(column.desc()).limit(1)) or 0
                    session.add(RetroHuntCursor(name=name, entry_id=newest, updated_at=utcnow()))
            except IntegrityError:
                pass  # another worker created it first

    # One round

    def run_once(self) -> HuntReport:
        self.banks.sync.sync_once()  # the index holds every entry and item committed until now
        report = HuntReport()
        counts: dict[str, int] = {}
        with self.sessions.begin() as session:
            # One lock for both passes: two workers hunting at once could take one item down twice.
            cursor = session.scalar(select(RetroHuntCursor).where(RetroHuntCursor.name == CURSOR)
                                    .with_for_update(skip_locked=True))
            if cursor is None:
                report.skipped = True
                return report
            released = session.scalar(select(RetroHuntCursor).where(RetroHuntCursor.name == RELEASED_CURSOR)
                                      .with_for_update())
            now = utcnow()
            self._hunt_new_entries(session, cursor, now, report, counts)
            if released is not None:
                self._hunt_released_entries(session, released, now, report, counts)
        for bank_name, count in counts.items():
            if self.on_taken_down is not None:
                self.on_taken_down(bank_name, count)
        for entry_id in report.quarantined:
            self.banks.matcher.set_quarantined(entry_id, True)
        if report.taken_down:
            log.warning("retro-hunt took down %d item(s)", len(report.taken_down))
        return report

    def _settled(self, now: datetime, created: datetime, position: int, following: int) -> bool:
        """Synced everywhere, and no lower id can still commit (ids are allocated before commit)."""
        age = (now - aware(created)).total_seconds()
        return age >= self.settle_s and (following == position + 1 or age >= self.settle_s + self.gap_timeout_s)

    def _hunt_new_entries(self, session: Session, cursor: RetroHuntCursor, now: datetime, report: HuntReport,
                          counts: dict[str, int]) -> None:
        position = cursor.entry_id
        rows = session.execute(select(HashBankEntry, HashBank).join(HashBank)
                               .where(HashBankEntry.id > position).order_by(HashBankEntry.id)
                               .limit(self.batch)).all()
        for entry, bank in rows:
            # A gap of removed entries is not a commit still to come: no need to wait it out.
            following = position + 1 if self._removed_between(session, position, entry.id) else entry.id
            if not self._settled(now, entry.created_at, position, following):
                break  # later ones are newer still
            position = entry.id
            report.entries += 1
            if bank.purpose != "block" or entry.quarantined_at is not None:
                continue
            if session.scalar(select(HashBankChange.seq).where(HashBankChange.op == "entry_released",
                                                               HashBankChange.entry_id == entry.id).limit(1)):
                continue  # quarantined at match time and released since: the release pass hunts it
            taken = self._hunt(session, entry, bank, now, report)
            if taken:
                counts[bank.name] = counts.get(bank.name, 0) + taken
        cursor.entry_id, cursor.updated_at = position, now

    @staticmethod
    def _removed_between(session: Session, position: int, following: int) -> bool:
        """Whether every entry id strictly between ``position`` and ``following`` was removed."""
        if following <= position + 1:
            return True
        removed = session.scalar(select(func.count(func.distinct(HashBankChange.entry_id))).where(
            HashBankChange.op == "entry_removed", HashBankChange.entry_id > position,
            HashBankChange.entry_id < following))
        return removed == following - position - 1

    def _hunt_released_entries(self, session: Session, cursor: RetroHuntCursor, now: datetime,
                               report: HuntReport, counts: dict[str, int]) -> None:
        """Entries released from quarantine since the last round, once synced everywhere: no flood limit;
        and entries that gained variants (a hash banked bare, then its picture): the flood limit holds."""
        position = cursor.entry_id
        changes = session.scalars(select(HashBankChange).where(HashBankChange.seq > position)
                                  .order_by(HashBankChange.seq).limit(self.batch)).all()
        for change in changes:
            if not self._settled(now, change.changed_at, position, change.seq):
                break
            position = change.seq
            if change.op not in ("entry_released", VARIANTS_ADDED):
                continue
            entry = session.get(HashBankEntry, change.entry_id)
            bank = session.get(HashBank, change.bank_id)
            if entry is None or bank is None or bank.purpose != "block" or entry.quarantined_at is not None:
                continue  # deleted, or quarantined again since
            released = change.op == "entry_released"
            report.released += released
            taken = self._hunt(session, entry, bank, now, report, released=released)
            if taken:
                counts[bank.name] = counts.get(bank.name, 0) + taken
        cursor.entry_id, cursor.updated_at = position, now

    def _hunt(self, session: Session, entry: HashBankEntry, bank: HashBank, now: datetime,
              report: HuntReport, released: bool = False) -> int:
        threshold = effective_thresholds(bank.thresholds)[entry.signal_type]
        matched = self._matching_items(session, entry, threshold)
        if not matched:
            return 0
        distances = {item_id: distance for item_id, (distance, _) in matched.items()}
        published = self._published(session, list(distances))
        published = [item for item in published if not self._allowed_by_a_bank(session, item)]
        if len(published) > self.max_items and not released:
            reason = (f"retro-hunt: would take down {len(published)} published items "
                      f"(limit {self.max_items})")
            log.warning("quarantining bank entry %d: %s", entry.id, reason)
            entry.quarantined_at, entry.quarantine_reason = now, reason
            session.add(HashBankChange(op="entry_quarantined", bank_id=entry.bank_id, entry_id=entry.id,
                                       changed_at=now))
            report.quarantined.append(entry.id)
            return 0
        for item in published:
            self._take_down(session, item, entry, bank, distances[item.id], now, released)
            # Only the matched views pass the takedown on to near-duplicates (ItemHash.image_cause).
            rows = matched[item.id][1]
            which = ItemHash.item_id == item.id if rows is None else ItemHash.id.in_(rows)
            session.execute(update(ItemHash).where(which).values(image_cause=True))
            session.execute(update(ItemHash).where(ItemHash.item_id == item.id, ItemHash.image_cause.is_(None))
                            .values(image_cause=False))
            report.taken_down.append((item.id, entry.id))
        return len(published)

    def _matching_items(self, session: Session, entry: HashBankEntry, threshold: int
                        ) -> dict[str, tuple[int, list[int] | None]]:
        """Item id -> (smallest distance, the ids of its rows within ``threshold`` of the entry; None
        when the entry matches the whole image, a sha256)."""
        if entry.signal_type == "sha256":
            ids = session.scalars(select(ModerationItem.id).where(ModerationItem.image_sha256 == entry.hash))
            return {item_id: (0, None) for item_id in ids}
        if entry.signal_type not in ITEM_SIGNAL_TYPES:
            return {}  # prompts are not kept raw, so a prompt hash cannot be hunted
        found: dict[int, int] = {}
        # Earlier items keep their plain hash only: a mirrored copy is found through the entry's variants.
        for hash_hex in [entry.hash, *(entry.variants or "").split()]:
            for row_id, distance in self.banks.matcher.search_items(entry.signal_type, hash_hex, threshold):
                found[row_id] = min(distance, found.get(row_id, distance))
        if not found:
            return {}
        best: dict[str, tuple[int, list[int]]] = {}
        for chunk in _chunks(list(found), 5000):
            for row_id, item_id in session.execute(select(ItemHash.id, ItemHash.item_id).where(ItemHash.id.in_(chunk))):
                distance, rows = best.get(item_id, (found[row_id], []))
                best[item_id] = (min(distance, found[row_id]), [*rows, row_id])
        return best

    @staticmethod
    def _published(session: Session, item_ids: list[str]) -> list[ModerationItem]:
        """Those items whose decision in force is allow or redact (a reviewer's, else the policy's)."""
        items = []
        for chunk in _chunks(item_ids, 5000):
            query = (select(ModerationItem).outerjoin(ReviewQueueEntry, ReviewQueueEntry.item_id == ModerationItem.id)
                     .where(ModerationItem.id.in_(chunk),
                            or_(ReviewQueueEntry.final_decision.in_(IN_FORCE_PUBLISHED),
                                and_(ReviewQueueEntry.final_decision.is_(None),
                                     ModerationItem.decision.in_(IN_FORCE_PUBLISHED))))
                     .order_by(ModerationItem.created_at, ModerationItem.id))
            items.extend(session.scalars(query))
        return items

    def _allowed_by_a_bank(self, session: Session, item: ModerationItem) -> bool:
        """Whether an allow bank matches the item as a lookup does: every view's hashes, PDQ in all
        eight orientations (its stored signals), and its sha256; its index rows when it kept no signals."""
        hashes: dict[str, list[str]] = {"sha256": [item.image_sha256]} if item.image_sha256 else {}
        for view in view_hashes(item.signals or {}):
            for signal_type, values in view.lookup_hashes().items():
                hashes.setdefault(signal_type, []).extend(values)
        if "phash" not in hashes and "pdq" not in hashes:
            for signal_type, hash_hex in session.execute(select(ItemHash.signal_type, ItemHash.hash)
                                                         .where(ItemHash.item_id == item.id)):
                hashes.setdefault(signal_type, []).append(hash_hex)
        if not hashes:
            return False
        return any(match.purpose == "allow" for match in self.banks.matcher.lookup(hashes).matches)

    @staticmethod
    def _take_down(session: Session, item: ModerationItem, entry: HashBankEntry, bank: HashBank, distance: int,
                   now: datetime, released: bool) -> None:
        review = session.scalar(select(ReviewQueueEntry).where(ReviewQueueEntry.item_id == item.id))
        previous = audit.entry_state(review)
        in_force = (review.final_decision if review else None) or item.decision
        if review is None:
            review = ReviewQueueEntry(item_id=item.id, queue=QUEUE, priority=0, status="decided", enqueued_at=now)
            session.add(review)
        review.final_decision, review.decided_by, review.decided_at = "block", RETRO_ACTOR, now
        review.reason_code = "hash_bank"
        session.flush()
        details = {"bank": bank.name, "entry_id": entry.id, "signal_type": entry.signal_type, "hash": entry.hash,
                   "label": entry.label, "distance": distance, "previous_decision": in_force,
                   "trigger": "released_from_quarantine" if released else "entry_added"}
        audit.record(session, item.id, RETRO_ACTOR, "retroactive", previous, audit.entry_state(review), details,
                     item.policy_sha256)
        enqueue_event(session, item, EVENT, {"final_decision": "block", "previous_decision": in_force,
                                             "bank": bank.name, "entry_id": entry.id,
                                             "signal_type": entry.signal_type, "distance": distance,
                                             "decided_at": now.isoformat()})

    # The background loop

    def start(self, interval_s: float) -> None:
        if interval_s <= 0 or self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(interval_s):
                try:
                    while self.run_once().entries >= self.batch:
                        pass  # a backlog: keep going
                except Exception:  # the database may be briefly away; the cursor has not moved
                    log.exception("retro-hunt round failed; retrying")

        self._thread = threading.Thread(target=loop, name="retro-hunt", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def _chunks(values: list, size: int):
    for start in range(0, len(values), size):
        yield values[start:start + size]
