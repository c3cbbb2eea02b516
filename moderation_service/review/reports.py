"""Read-only views for the console: queue overview, history and statistics."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from moderation_service.db.tables import Appeal, ModerationItem, ReviewAuditEntry, ReviewQueueEntry
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
    """Verdicts per reviewer and per queue, agreement of reviewers with the policy, time to decision.

    Also ``throughput`` (per reviewer: decisions, median seconds from claim to verdict, decisions per
    hour between their first and last decision), ``reviewer_agreement`` (items decided twice: the
    share where the later verdict equals the earlier one) and ``appeals`` (decided appeals and the
    share overturned).
    """
    query = (select(ReviewAuditEntry.actor, ReviewAuditEntry.previous_state, ReviewAuditEntry.new_state,
                    ReviewAuditEntry.details, ReviewAuditEntry.created_at, ModerationItem.created_at,
                    ReviewAuditEntry.item_id)
             .join(ModerationItem, ModerationItem.id == ReviewAuditEntry.item_id)
             .where(ReviewAuditEntry.action.in_(DECISION_ACTIONS)))
    if since is not None:
        query = query.where(ReviewAuditEntry.created_at >= since)
    per_reviewer: dict[str, Counter] = defaultdict(Counter)
    per_queue: dict[str, Counter] = defaultdict(Counter)
    agreement: Counter = Counter()
    waits: list[float] = []
    decisions: list[tuple[str, str, str | None, datetime]] = []  # (item, actor, verdict, at)
    with sessions() as session:
        for actor, previous, new, details, decided_at, created_at, item_id in session.execute(query):
            verdict = new.get("verdict")
            decisions.append((item_id, actor, verdict, aware(decided_at)))
            per_reviewer[actor][verdict] += 1
            per_queue[previous.get("queue", "?")][verdict] += 1
            policy = details.get("policy_decision")
            if policy in ("allow", "block", "redact"):  # a policy that was sure of itself
                agreed = (policy == "block") == (verdict == "reject")
                agreement["agree" if agreed else "disagree"] += 1
            else:
                agreement["policy_sent_to_review"] += 1
            waits.append((aware(decided_at) - aware(created_at)).total_seconds())
        claims = _claim_times(session, {d[0] for d in decisions})
        appeals = Counter(session.scalars(select(Appeal.outcome).where(Appeal.status == "decided")))
    total = agreement["agree"] + agreement["disagree"]
    return {"per_reviewer": {k: dict(v) for k, v in per_reviewer.items()},
            "per_queue": {k: dict(v) for k, v in per_queue.items()},
            "agreement": {**agreement, "rate": (agreement["agree"] / total) if total else None},
            "time_to_decision_s": {"count": len(waits), "median": median(waits) if waits else None,
                                   "max": max(waits) if waits else None},
            "throughput": _throughput(decisions, claims),
            "reviewer_agreement": _reviewer_agreement(decisions),
            "appeals": {"decided": sum(appeals.values()), "overturned": appeals["overturned"],
                        "upheld": appeals["upheld"],
                        "overturn_rate": appeals["overturned"] / sum(appeals.values()) if appeals else None}}


def _claim_times(session, item_ids: set[str]) -> dict[tuple[str, str], list[datetime]]:
    found: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    ids = sorted(item_ids)
    for start in range(0, len(ids), 500):
        for item_id, actor, at in session.execute(
                select(ReviewAuditEntry.item_id, ReviewAuditEntry.actor, ReviewAuditEntry.created_at)
                .where(ReviewAuditEntry.action == "claim", ReviewAuditEntry.item_id.in_(ids[start:start + 500]))):
            found[(item_id, actor)].append(aware(at))
    return found


def _throughput(decisions, claims) -> dict[str, dict[str, Any]]:
    """Per reviewer: how many decisions, how long each took from their claim, how many per hour."""
    per: dict[str, dict[str, list]] = defaultdict(lambda: {"at": [], "handling": []})
    for item_id, actor, _verdict, at in decisions:
        per[actor]["at"].append(at)
        before = [c for c in claims.get((item_id, actor), []) if c <= at]
        if before:
            per[actor]["handling"].append((at - max(before)).total_seconds())
    out = {}
    for actor, seen in per.items():
        span_h = (max(seen["at"]) - min(seen["at"])).total_seconds() / 3600
        out[actor] = {"decisions": len(seen["at"]),
                      "median_handling_s": median(seen["handling"]) if seen["handling"] else None,
                      "per_hour": (len(seen["at"]) - 1) / span_h if span_h > 0 else None}
    return out


def _reviewer_agreement(decisions) -> dict[str, Any]:
    """Items decided more than once by different reviewers (a re-review or an appeal): does the later
    verdict repeat the earlier one? ``rate`` is None only while no item was decided twice."""
    by_item: dict[str, list] = defaultdict(list)
    for item_id, actor, verdict, at in decisions:
        by_item[item_id].append((at, actor, verdict))
    agree = pairs = 0
    for rows in by_item.values():
        rows.sort()
        for (_, first_actor, first), (_, second_actor, second) in zip(rows, rows[1:]):
            if first_actor != second_actor:
                pairs += 1
                agree += first == second
    return {"items_decided_twice": pairs, "agree": agree, "rate": agree / pairs if pairs else None}


def external_ids(sessions: sessionmaker, item_ids: set[str]) -> dict[str, str | None]:
    ids = sorted(item_ids)
    found: dict[str, str | None] = {}
    with sessions() as session:
        for start in range(0, len(ids), 500):
            found.update(session.execute(select(ModerationItem.id, ModerationItem.external_id)
                                         .where(ModerationItem.id.in_(ids[start:start + 500]))).all())
    return found


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
