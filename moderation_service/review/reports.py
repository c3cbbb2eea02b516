"""Read-only views for the console: queue overview, history and statistics."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from moderation_service.db.tables import ModerationItem, ReviewAuditEntry, ReviewQueueEntry
from moderation_service.review.clock import aware, utcnow
from moderation_service.review.config import ReviewSettings

DECISION_ACTIONS = ("verdict", "appeal_verdict")


def queue_overview(sessions: sessionmaker, settings: ReviewSettings, actor: str) -> dict[str, Any]:
    """Per queue: waiting and claimed counts, the oldest waiting item's age against its SLA;
    and how many items ``actor`` decided today (UTC)."""
    now = utcnow()
    with sessions() as session:
        rows = session.execute(
            select(ReviewQueueEntry.queue, ReviewQueueEntry.status, func.count(), func.min(ReviewQueueEntry.enqueued_at))
            .where(ReviewQueueEntry.status != "decided").group_by(ReviewQueueEntry.queue, ReviewQueueEntry.status)).all()
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        mine = session.scalar(select(func.count()).select_from(ReviewAuditEntry).where(
            ReviewAuditEntry.actor == actor, ReviewAuditEntry.action.in_(DECISION_ACTIONS),
            ReviewAuditEntry.created_at >= today))
    queues: dict[str, dict[str, Any]] = {}
    for queue, status, count, oldest in rows:
        entry = queues.setdefault(queue, {"queue": queue, "pending": 0, "claimed": 0, "oldest_age_s": 0.0,
                                          "sla_s": settings.sla_for(queue),
                                          "priority": settings.queue_priority(queue)})
        entry[status] = entry.get(status, 0) + count
        entry["oldest_age_s"] = max(entry["oldest_age_s"], (now - aware(oldest)).total_seconds())
    for entry in queues.values():
        entry["sla_breached"] = entry["oldest_age_s"] > entry["sla_s"]
    ordered = sorted(queues.values(), key=lambda q: (-q["priority"], q["queue"]))
    return {"queues": ordered, "my_decisions_today": mine or 0, "reviewer": actor}


def decision_stats(sessions: sessionmaker, since: datetime | None = None) -> dict[str, Any]:
    """Verdicts per reviewer and per queue, agreement of reviewers with the policy, time to decision."""
    query = (select(ReviewAuditEntry.actor, ReviewAuditEntry.previous_state, ReviewAuditEntry.new_state,
                    ReviewAuditEntry.details, ReviewAuditEntry.created_at, ModerationItem.created_at)
             .join(ModerationItem, ModerationItem.id == ReviewAuditEntry.item_id)
             .where(ReviewAuditEntry.action.in_(DECISION_ACTIONS)))
    if since is not None:
        query = query.where(ReviewAuditEntry.created_at >= since)
    per_reviewer: dict[str, Counter] = defaultdict(Counter)
    per_queue: dict[str, Counter] = defaultdict(Counter)
    agreement: Counter = Counter()
    waits: list[float] = []
    with sessions() as session:
        for actor, previous, new, details, decided_at, created_at in session.execute(query):
            verdict = new.get("verdict")
            per_reviewer[actor][verdict] += 1
            per_queue[previous.get("queue", "?")][verdict] += 1
            policy = details.get("policy_decision")
            if policy in ("allow", "block", "redact"):  # a policy that was sure of itself
                agreed = (policy == "block") == (verdict == "reject")
                agreement["agree" if agreed else "disagree"] += 1
            else:
                agreement["policy_sent_to_review"] += 1
            waits.append((aware(decided_at) - aware(created_at)).total_seconds())
    total = agreement["agree"] + agreement["disagree"]
    return {"per_reviewer": {k: dict(v) for k, v in per_reviewer.items()},
            "per_queue": {k: dict(v) for k, v in per_queue.items()},
            "agreement": {**agreement, "rate": (agreement["agree"] / total) if total else None},
            "time_to_decision_s": {"count": len(waits), "median": median(waits) if waits else None,
                                   "max": max(waits) if waits else None}}


def find_items(sessions: sessionmaker, query: str) -> list[str]:
    """Item ids matching an item id or an external id."""
    with sessions() as session:
        return list(session.scalars(select(ModerationItem.id).where(
            (ModerationItem.id == query) | (ModerationItem.external_id == query)).limit(50)))


def day_bounds(day: str | None) -> tuple[datetime | None, datetime | None]:
    if not day:
        return None, None
    start = datetime.fromisoformat(day).replace(tzinfo=utcnow().tzinfo)
    return start, start + timedelta(days=1)
