"""Appeals: upstream asks for a second look; the item re-enters the ``appeals`` queue,
which only senior reviewers and admins may claim."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from moderation_service import pii_scrubbing
from moderation_service.db.tables import Appeal, ModerationItem, ReviewQueueEntry
from moderation_service.errors import ApiError
from moderation_service.review import audit
from moderation_service.review.clock import utcnow
from moderation_service.review.config import APPEALS_QUEUE, ReviewSettings


def open_appeal(sessions: sessionmaker, settings: ReviewSettings, item: ModerationItem, client: str,
                reason: str) -> Appeal:
    actor = f"client:{client}"
    reason = pii_scrubbing.redact_text(reason)  # free text written by a person: stored redacted
    now = utcnow()
    with sessions.begin() as session:
        if session.scalar(select(Appeal).where(Appeal.item_id == item.id, Appeal.status == "open")) is not None:
            raise ApiError(409, "appeal_open", "this item already has an open appeal")
        # Appeals jump the queue (priority 100): one client may not fill it.
        open_count = session.scalar(select(func.count()).select_from(Appeal)
                                    .where(Appeal.client == client, Appeal.status == "open"))
        if open_count >= settings.max_open_appeals_per_client:
            raise ApiError(429, "too_many_open_appeals", f"this client has {open_count} open appeals, the most "
                           "allowed; wait for some to be decided", details={"retry_after_s": 60})
        entry = session.scalar(select(ReviewQueueEntry).where(ReviewQueueEntry.item_id == item.id))
        if entry is not None and entry.status != "decided":
            raise ApiError(409, "review_pending", "the item is still waiting for its first review; appeal its outcome")
        previous = audit.entry_state(entry)
        priority = settings.queue_priority(APPEALS_QUEUE)
        if entry is None:  # decided by the policy alone: the appeal is its first human review
            entry = ReviewQueueEntry(item_id=item.id, queue=APPEALS_QUEUE, priority=priority, status="pending",
                                     enqueued_at=now)
            session.add(entry)
        else:
            # The earlier verdict stays in force (and on the row) until the appeal is decided.
            entry.queue, entry.status, entry.enqueued_at, entry.priority = APPEALS_QUEUE, "pending", now, priority
            entry.claimed_by = entry.claimed_at = entry.lease_expires_at = entry.skipped_by = None
        appeal = Appeal(item_id=item.id, client=client, reason=reason, status="open", created_at=now)
        session.add(appeal)
        session.flush()
        audit.record(session, item.id, actor, "appeal", previous, audit.entry_state(entry),
                     {"appeal_id": appeal.id, "reason": reason}, item.policy_sha256)
        return appeal


def appeals_for(sessions: sessionmaker, item_id: str) -> list[dict]:
    with sessions() as session:
        rows = session.scalars(select(Appeal).where(Appeal.item_id == item_id).order_by(Appeal.id))
        return [{"id": a.id, "status": a.status, "outcome": a.outcome, "reason": a.reason,
                 "created_at": a.created_at.isoformat()} for a in rows]
