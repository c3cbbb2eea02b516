"""Earlier items as the built-in ``earlier-items`` bank on the banks' multi-index.

Each stored image's hashes (pHash; PDQ when trusted) are rows of
``item_hashes``, written in the item's transaction and synced into the same
per-signal-type ``HammingIndex`` as bank entries (``BankMatcher``, ``BankSync``):
one structure, one sync, one benchmark (``benchmarks/hash_index.py``).
Lookups take one hash at a time (so every frame of an image can be looked
up) and return earlier items within the built-in bank's threshold for that
signal type, with the decision in force and the decision their image carries
(``moderation_service.decision_cause``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from moderation_service.banks.matcher import ITEM_SIGNAL_TYPES, BankMatcher
from moderation_service.db.tables import ItemHash, ModerationItem, ReviewQueueEntry
from moderation_service.decision_cause import image_decision
from moderation_service.image_views import distinct_hashes, view_hashes

ROWS_PER_ITEM = 4  # rows read per wanted item: an item may match by several hashes (frames)


@dataclass(frozen=True)
class EarlierItem:
    item_id: str
    signal_type: str
    distance: int
    decision: str        # in force: a reviewer's or retro-hunt's final decision, else the policy's
    image_decision: str  # what the image alone carries; see decision_cause.image_decision


def item_hash_rows(item_id: str, created_at: datetime, signals: dict, causes: set | None = None) -> list[ItemHash]:
    """One row per distinct trusted hash of the image: each view's (the sampled frames of an
    animation, the light and dark backgrounds of a transparent picture; a still opaque image is
    view (0, None)). ``causes``: the views that caused the image decision
    (``decision_cause.image_cause_views``). ``image_cause`` is True for a row of one of them
    (every row when ``causes`` is None: the whole image), False for the others, and None when
    no view caused anything (a person's later verdict covers every view)."""
    views = view_hashes(signals)
    caused = set(distinct_hashes(v for v in views if causes is None or (v.frame, v.background) in causes))
    return [ItemHash(item_id=item_id, signal_type=signal_type, hash=hash_hex, created_at=created_at,
                     image_cause=None if causes == set() else (signal_type, hash_hex) in caused)
            for signal_type, hash_hex in distinct_hashes(views)]


class EarlierItems:
    def __init__(self, matcher: BankMatcher, sessions: sessionmaker) -> None:
        self.matcher = matcher
        self.sessions = sessions

    def add(self, rows: list[ItemHash]) -> None:
        """After the commit: this process finds them at once; others on their next bank sync."""
        for row in rows:
            if row.signal_type in ITEM_SIGNAL_TYPES:
                self.matcher.add_item_hash(row.id, row.signal_type, row.hash)

    def search(self, signal_type: str, hash_hex: str, limit: int, radius: int | None = None,
               exclude: str | None = None) -> list[EarlierItem]:
        """Earlier items within ``radius`` (default: the built-in bank's threshold) of ONE hash,
        nearest first, then oldest row first; at most ``limit``, each item once."""
        if limit <= 0:
            return []
        found = self.matcher.search_items(signal_type, hash_hex, radius)
        if not found:
            return []
        wanted = found[: limit * ROWS_PER_ITEM + (1 if exclude else 0)]
        details = self._details([row_id for row_id, _ in wanted])
        matches, seen = [], {exclude}
        for row_id, distance in wanted:
            detail = details.get(row_id)
            if detail is None or detail[0] in seen:
                continue  # gone from the database (deleted), or this item already matched nearer
            item_id, decision, in_force = detail
            seen.add(item_id)
            matches.append(EarlierItem(item_id, signal_type, distance, decision, in_force))
            if len(matches) == limit:
                break
        return matches

    def _details(self, row_ids: list[int]) -> dict[int, tuple[str, str, str]]:
        query = (select(ItemHash.id, ItemHash.item_id, ItemHash.image_cause, ModerationItem.decision,
                        ModerationItem.reasons, ReviewQueueEntry.final_decision, ReviewQueueEntry.verdict,
                        ReviewQueueEntry.decided_by)
                 .join(ModerationItem, ModerationItem.id == ItemHash.item_id)
                 .outerjoin(ReviewQueueEntry, ReviewQueueEntry.item_id == ItemHash.item_id)
                 .where(ItemHash.id.in_(row_ids)))
        with self.sessions() as session:
            rows = session.execute(query).all()
        return {row.id: (row.item_id, row.final_decision or row.decision, _carried(row)) for row in rows}


def _carried(row) -> str:
    """The image decision a match on this row passes on: only through the views that caused it
    (``ItemHash.image_cause``); a person's verdict on an image no view of which caused anything
    covers every view (null rows, and rows stored before the column)."""
    if row.image_cause is False:
        return "allow"
    return image_decision(row.reasons or [], row.verdict, row.final_decision, row.decided_by)
