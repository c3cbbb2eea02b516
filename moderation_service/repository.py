"""Persistence of moderation records; the one place that writes them."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from moderation_service.db.tables import ModerationItem, ReviewQueueEntry


class ModerationRepository:
    def __init__(self, session_factory: sessionmaker) -> None:
        self._sessions = session_factory

    def save(self, item: ModerationItem, review: ReviewQueueEntry | None, hash_rows: list | None = None) -> None:
        """The item, its queue entry and its image hashes (``item_hashes``) commit together or not at all;
        the hash rows have their ids afterwards."""
        with self._sessions.begin() as session:
            session.add(item)
            if review is not None or hash_rows:
                session.flush()  # the queue entry and hash rows reference the item row
            if review is not None:
                session.add(review)
            for row in hash_rows or ():
                session.add(row)

    def reachable(self) -> bool:
        try:
            with self._sessions() as session:
                session.execute(text("SELECT 1"))
            return True
        except OperationalError:
            return False

    def get(self, item_id: str) -> ModerationItem | None:
        with self._sessions() as session:
            return session.get(ModerationItem, item_id)

    def find_by_idempotency_key(self, client: str, key: str | None) -> ModerationItem | None:
        if key is None:
            return None
        with self._sessions() as session:
            return session.scalar(select(ModerationItem).where(
                ModerationItem.client == client, ModerationItem.idempotency_key == key))

    def final_decisions(self, item_ids: list[str]) -> dict[str, str]:
        """Reviewers' final decisions for those of ``item_ids`` that have one."""
        query = select(ReviewQueueEntry.item_id, ReviewQueueEntry.final_decision).where(
            ReviewQueueEntry.item_id.in_(item_ids), ReviewQueueEntry.final_decision.is_not(None))
        with self._sessions() as session:
            return dict(session.execute(query).all())

    def review_entry(self, item_id: str) -> ReviewQueueEntry | None:
        with self._sessions() as session:
            return session.scalar(select(ReviewQueueEntry).where(ReviewQueueEntry.item_id == item_id))

    def pending_review_depths(self) -> list[tuple[str, int, float]]:
        """(queue, pending count, seconds since the oldest was queued) per queue."""
        query = (select(ReviewQueueEntry.queue, func.count(), func.min(ReviewQueueEntry.enqueued_at))
                 .where(ReviewQueueEntry.status == "pending").group_by(ReviewQueueEntry.queue))
        now = datetime.now(timezone.utc)
        with self._sessions() as session:
            return [(queue, count, (now - _aware(oldest)).total_seconds()) for queue, count, oldest in
                    session.execute(query)]


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored here is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
