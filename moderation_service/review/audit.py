"""The append-only audit log: who did what to which item, when, from which state, under which policy."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from moderation_service import pii_scrubbing
from moderation_service.db.tables import ModerationItem, ReviewAuditEntry, ReviewQueueEntry
from moderation_service.review.clock import aware, utcnow


def entry_state(entry: ReviewQueueEntry | None) -> dict[str, Any]:
    if entry is None:
        return {}
    return {"queue": entry.queue, "status": entry.status, "claimed_by": entry.claimed_by,
            "verdict": entry.verdict, "final_decision": entry.final_decision}


def record(session: Session, item_id: str, actor: str, action: str, previous: dict | None = None,
           new: dict | None = None, details: dict | None = None, policy_sha256: str | None = None) -> None:
    """Adds one row in the caller's transaction, so the audit commits with the change it describes.
    The log is append-only, so personal data in ``details`` (notes, appeal reasons) is redacted here, before the write."""
    if policy_sha256 is None:
        policy_sha256 = session.scalar(select(ModerationItem.policy_sha256).where(ModerationItem.id == item_id))
    session.add(ReviewAuditEntry(item_id=item_id, actor=actor, action=action, previous_state=previous or {},
                                 new_state=new or {}, details=_redacted(details or {}), policy_sha256=policy_sha256,
                                 created_at=utcnow()))


# Identifiers and codes we write ourselves: never personal data, and redacting one (a UUID's digits look
# like a phone number to the fallback) would break the link it records. Everything else is redacted.
OWN_FIELDS = frozenset({"group_of", "key", "appeal_id", "lease_expires_at", "policy_decision", "reason_code",
                        "appeal_outcome", "rule_ids", "image_sha256", "by_id", "bank", "external_id"})


def _redacted(details: dict) -> dict:
    return {key: value if key in OWN_FIELDS else pii_scrubbing.redact_json(value) for key, value in details.items()}


def as_dict(row: ReviewAuditEntry) -> dict[str, Any]:
    return {"id": row.id, "item_id": row.item_id, "actor": row.actor, "action": row.action,
            "previous_state": row.previous_state, "new_state": row.new_state, "details": row.details,
            "policy_sha256": row.policy_sha256, "at": aware(row.created_at).isoformat()}


def search(sessions: sessionmaker, *, item_ids: list[str] | None = None, actor: str | None = None,
           action: str | None = None, verdict: str | None = None, since: datetime | None = None,
           until: datetime | None = None, limit: int = 500) -> list[dict[str, Any]]:
    query = select(ReviewAuditEntry).order_by(ReviewAuditEntry.id.desc()).limit(limit)
    if item_ids is not None:
        query = query.where(ReviewAuditEntry.item_id.in_(item_ids))
    if actor:
        query = query.where(ReviewAuditEntry.actor == actor)
    if action:
        query = query.where(ReviewAuditEntry.action == action)
    if since:
        query = query.where(ReviewAuditEntry.created_at >= since)
    if until:
        query = query.where(ReviewAuditEntry.created_at < until)
    with sessions() as session:
        rows = [as_dict(row) for row in session.scalars(query)]
    if verdict:  # the verdict lives in the JSON state; filter here rather than per dialect
        rows = [row for row in rows if row["new_state"].get("verdict") == verdict and "verdict" in row["action"]]
    return rows
