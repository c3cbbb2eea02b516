"""Persistence of moderation records; the one place that writes them."""
from __future__ import annotations

from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from moderation_service.db.tables import ModerationItem, ReviewQueueEntry


class ModerationRepository:
    def __init__(self, session_factory: sessionmaker) -> None:
        self._sessions = session_factory

    def save(self, item: ModerationItem, review: ReviewQueueEntry | None) -> None:
        """The item and its queue entry commit together or not at all."""
        with self._sessions.begin() as session:
            session.add(item)
            if review is not None:
                session.flush()  # the queue entry references the item row
                session.add(review)

    def get(self, item_id: str) -> ModerationItem | None:
        with self._sessions() as session:
            return session.get(ModerationItem, item_id)

    def review_entry(self, item_id: str) -> ReviewQueueEntry | None:
        with self._sessions() as session:
            return session.scalar(select(ReviewQueueEntry).where(ReviewQueueEntry.item_id == item_id))

    def iter_image_hashes(self) -> Iterator[tuple[str, str, str]]:
        """(item id, pHash, decision) of every stored image, oldest first."""
        query = (
            select(ModerationItem.id, ModerationItem.phash, ModerationItem.decision)
            .where(ModerationItem.phash.is_not(None))
            .order_by(ModerationItem.created_at)
        )
        with self._sessions() as session:
            for row in session.execute(query).yield_per(10_000):
                yield row.id, row.phash, row.decision
