"""Claims with a lease. No two reviewers ever hold the same item.

A row is claimable when it is ``pending``, or ``claimed`` with a lease that has
run out (an expired lease returns the item to the queue without any sweeper).
Every change of holder is a compare-and-set UPDATE whose WHERE repeats the
condition it relies on, so it takes effect only if nobody changed the row in
between. On PostgreSQL the candidate is first locked with
``SELECT ... FOR UPDATE SKIP LOCKED``, so concurrent reviewers pick different rows
instead of queueing behind one lock; on SQLite (one writer at a time) the
compare-and-set alone is the guard and a lost race retries with the next row.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from moderation_service.db.tables import ModerationItem, ReviewQueueEntry
from moderation_service.errors import ApiError
from moderation_service.review import audit
from moderation_service.review.clock import aware, utcnow
from moderation_service.review.config import ReviewSettings
from moderation_service.review.grouping import near

CLAIM_RETRIES = 20


@dataclass(frozen=True)
class Claim:
    item_id: str
    queue: str
    lease_expires_at: datetime
    group: list[dict]  # near-duplicates claimed with it: {"item_id", "distance"}
    only_skipped: bool = False  # every claimable item of the queue was one this actor had skipped


def claimable(now: datetime):
    return or_(ReviewQueueEntry.status == "pending",
               and_(ReviewQueueEntry.status == "claimed", ReviewQueueEntry.lease_expires_at < now))


def claim_order():
    return (ReviewQueueEntry.priority.desc(), func.coalesce(ReviewQueueEntry.risk_score, 0).desc(),
            ReviewQueueEntry.enqueued_at, ReviewQueueEntry.id)


class ReviewQueue:
    def __init__(self, sessions: sessionmaker, settings: ReviewSettings) -> None:
        self._sessions = sessions
        self.settings = settings
        self._lock_rows = sessions.kw["bind"].dialect.name == "postgresql"

    def claim(self, actor: str, queue: str) -> Claim | None:
        """The next item of ``queue`` for ``actor`` (and its near-duplicates), or None when it is empty.

        Items this actor skipped come last: they are offered again only when nothing else is left,
        oldest skip first, so skipping through them walks the whole queue instead of looping on one.
        """
        for _ in range(CLAIM_RETRIES):
            now = utcnow()
            with self._sessions.begin() as session:
                entry = self._next_candidate(session, queue, now, avoid_skipped_by=actor)
                only_skipped = entry is None
                if entry is None:
                    entry = self._next_candidate(session, queue, now, avoid_skipped_by=None, skipped_first_by=actor)
                if entry is None:
                    return None
                expires = now + timedelta(seconds=self.settings.lease_s)
                if not self._take(session, entry, actor, now, expires, details={}):
                    continue  # another reviewer won this row between our read and our write
                group = self._claim_group(session, entry, actor, now, expires)
                return Claim(entry.item_id, entry.queue, expires, group, only_skipped)
        raise ApiError(503, "claim_contention", "too many reviewers raced for the same items; retry")

    def claim_item(self, actor: str, item_id: str) -> Claim:
        """Claims one named item (a shared ``?item=`` link); 409 ``not_claimable`` when it is held or decided."""
        now = utcnow()
        expires = now + timedelta(seconds=self.settings.lease_s)
        with self._sessions.begin() as session:
            entry = session.scalar(select(ReviewQueueEntry).where(ReviewQueueEntry.item_id == item_id))
            if entry is None:
                raise ApiError(404, "not_found", f"no review item {item_id!r}")
            if entry.status == "claimed" and entry.claimed_by == actor:
                return Claim(item_id, entry.queue, aware(entry.lease_expires_at), [])
            if not self._take(session, entry, actor, now, expires, details={"by_id": True}):
                raise ApiError(409, "not_claimable", f"item {item_id!r} is decided or held by another reviewer")
            return Claim(item_id, entry.queue, expires, [])

    def renew(self, actor: str, item_id: str) -> datetime:
        """A fresh lease for an item the actor still holds (also after expiry, if nobody took it since)."""
        now = utcnow()
        expires = now + timedelta(seconds=self.settings.lease_s)
        with self._sessions.begin() as session:
            if not self._update_held(session, actor, item_id, lease_expires_at=expires):
                raise not_holder(item_id)
            audit.record(session, item_id, actor, "renew", details={"lease_expires_at": expires.isoformat()})
        return expires

    def give_back(self, actor: str, item_id: str, action: str, to_queue: str | None = None,
                  details: dict | None = None) -> None:
        """``release`` returns the item as it was; ``skip`` also puts it behind others for this actor;
        ``ungroup`` takes a near-duplicate out of the group it was claimed with; ``move`` and ``escalate``
        put it into ``to_queue`` (at that queue's priority)."""
        with self._sessions.begin() as session:
            entry = self._held_entry(session, actor, item_id)
            previous = audit.entry_state(entry)
            values = dict(status="pending", claimed_by=None, claimed_at=None, lease_expires_at=None)
            if action == "skip":
                values["skipped_by"], values["skipped_at"] = actor, utcnow()
            if to_queue is not None:
                values.update(queue=to_queue, priority=self.settings.queue_priority(to_queue), skipped_by=None,
                              skipped_at=None)
            if not self._update_held(session, actor, item_id, **values):
                raise not_holder(item_id)
            audit.record(session, item_id, actor, action, previous,
                         {**previous, "status": "pending", "claimed_by": None, "queue": to_queue or previous["queue"]},
                         details)

    def held_by(self, actor: str) -> list[ReviewQueueEntry]:
        """The actor's current claims with a live lease (the console resumes them after a reload)."""
        with self._sessions() as session:
            return list(session.scalars(select(ReviewQueueEntry).where(
                ReviewQueueEntry.claimed_by == actor, ReviewQueueEntry.status == "claimed",
                ReviewQueueEntry.lease_expires_at >= utcnow()).order_by(ReviewQueueEntry.claimed_at)))

    # -- internals ---------------------------------------------------------------------------------

    def _next_candidate(self, session: Session, queue: str, now: datetime, avoid_skipped_by: str | None,
                        skipped_first_by: str | None = None) -> ReviewQueueEntry | None:
        order = claim_order()
        if skipped_first_by is not None:  # the skipped ones again: the longest-skipped first
            order = (func.coalesce(ReviewQueueEntry.skipped_at, ReviewQueueEntry.enqueued_at), *order)
        query = (select(ReviewQueueEntry).where(ReviewQueueEntry.queue == queue, claimable(now))
                 .order_by(*order).limit(1))
        if avoid_skipped_by is not None:
            query = query.where(or_(ReviewQueueEntry.skipped_by.is_(None),
                                    ReviewQueueEntry.skipped_by != avoid_skipped_by))
        if self._lock_rows:
            query = query.with_for_update(skip_locked=True)
        return session.scalar(query)

    def _take(self, session: Session, entry: ReviewQueueEntry, actor: str, now: datetime, expires: datetime,
              details: dict) -> bool:
        previous = audit.entry_state(entry)
        lapsed_holder = entry.claimed_by if entry.status == "claimed" else None
        result = session.execute(
            update(ReviewQueueEntry).where(ReviewQueueEntry.id == entry.id, claimable(now))
            .values(status="claimed", claimed_by=actor, claimed_at=now, lease_expires_at=expires)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            return False
        if lapsed_holder:
            audit.record(session, entry.item_id, lapsed_holder, "lease_expired", previous,
                         {**previous, "status": "pending", "claimed_by": None})
            previous = {**previous, "status": "pending", "claimed_by": None}
        audit.record(session, entry.item_id, actor, "claim", previous,
                     {**previous, "status": "claimed", "claimed_by": actor},
                     {"lease_expires_at": expires.isoformat(), **details})
        return True

    def _claim_group(self, session: Session, main: ReviewQueueEntry, actor: str, now: datetime,
                     expires: datetime) -> list[dict]:
        """Claims the queue's claimable near-duplicates of ``main`` under the same lease."""
        phash = session.scalar(select(ModerationItem.phash).where(ModerationItem.id == main.item_id))
        if not phash:
            return []
        query = (select(ReviewQueueEntry, ModerationItem.phash)
                 .join(ModerationItem, ModerationItem.id == ReviewQueueEntry.item_id)
                 .where(ReviewQueueEntry.queue == main.queue, ReviewQueueEntry.id != main.id, claimable(now),
                        ModerationItem.phash.is_not(None))
                 .order_by(*claim_order()).limit(2000))
        if self._lock_rows:  # skip rows other reviewers are taking, rather than wait (or deadlock) on them
            query = query.with_for_update(skip_locked=True, of=ReviewQueueEntry)
        rows = session.execute(query).all()
        by_item = {entry.item_id: entry for entry, _ in rows}
        close = near(phash, [(entry.item_id, other) for entry, other in rows], self.settings.group_max_distance)
        group = []
        for item_id, distance in close[: self.settings.group_max_size - 1]:
            if self._take(session, by_item[item_id], actor, now, expires, {"group_of": main.item_id}):
                group.append({"item_id": item_id, "distance": distance})
        return group

    def _held_entry(self, session: Session, actor: str, item_id: str) -> ReviewQueueEntry:
        entry = session.scalar(select(ReviewQueueEntry).where(ReviewQueueEntry.item_id == item_id))
        if entry is None:
            raise ApiError(404, "not_found", f"no review item {item_id!r}")
        if entry.status != "claimed" or entry.claimed_by != actor:
            raise not_holder(item_id)
        return entry

    @staticmethod
    def _update_held(session: Session, actor: str, item_id: str, **values) -> bool:
        result = session.execute(
            update(ReviewQueueEntry).where(ReviewQueueEntry.item_id == item_id, ReviewQueueEntry.status == "claimed",
                                           ReviewQueueEntry.claimed_by == actor)
            .values(**values).execution_options(synchronize_session=False))
        return result.rowcount == 1


def not_holder(item_id: str) -> ApiError:
    return ApiError(409, "not_lease_holder", f"you do not hold a claim on {item_id!r}: it was never claimed by you, "
                    "was decided, or its lease expired and another reviewer took it")


def lease_seconds_left(entry: ReviewQueueEntry) -> float | None:
    expires = aware(entry.lease_expires_at)
    return None if expires is None else max(0.0, (expires - utcnow()).total_seconds())
