"""Review actions beyond a verdict: legal reports, the same client's earlier items, reviewer preferences.

Moving, escalating and taking a member out of a group are ``ReviewQueue.give_back`` with a target;
this module holds what needs more than the queue row.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from moderation_service.db.tables import ModerationItem, ReviewAuditEntry, ReviewerPreference, ReviewQueueEntry
from moderation_service.errors import ApiError
from moderation_service.review import audit
from moderation_service.review.clock import aware, utcnow
from moderation_service.review.queue import not_holder

LEGAL_REPORT = "legal_report"


def reportable(item: ModerationItem) -> bool:
    """Whether the stored decision says a winning rule is reportable (e.g. sexual content involving
    minors). Read defensively: older rows and policies carry no such field."""
    if getattr(item, "reportable", None):
        return True
    return any(isinstance(r, dict) and r.get("reportable") for r in item.reasons or [])


def legal_report(sessions: sessionmaker, actor: str, item_id: str, note: str) -> dict[str, Any]:
    """Records an "escalate for legal report" in the audit log (once per item). The item must be
    held by ``actor`` and carry a reportable decision; 409 ``not_reportable`` / ``already_reported``."""
    with sessions.begin() as session:
        entry = session.scalar(select(ReviewQueueEntry).where(ReviewQueueEntry.item_id == item_id))
        item = session.get(ModerationItem, item_id)
        if entry is None or item is None:
            raise ApiError(404, "not_found", f"no review item {item_id!r}")
        if entry.status != "claimed" or entry.claimed_by != actor:
            raise not_holder(item_id)
        if not reportable(item):
            raise ApiError(409, "not_reportable", "no rule that fired on this item is marked reportable")
        if session.scalar(select(ReviewAuditEntry.id).where(ReviewAuditEntry.item_id == item_id,
                                                            ReviewAuditEntry.action == LEGAL_REPORT)):
            raise ApiError(409, "already_reported", "this item was already escalated for a legal report")
        details = {"note": note, "rule_ids": [r.get("rule_id") for r in item.reasons or [] if r.get("reportable")],
                   "external_id": item.external_id, "client": item.client, "image_sha256": item.image_sha256}
        state = audit.entry_state(entry)
        audit.record(session, item_id, actor, LEGAL_REPORT, state, state, details, item.policy_sha256)
    return {"item_id": item_id, "reported_by": actor, **details}


def legal_reports(sessions: sessionmaker) -> list[dict[str, Any]]:
    """Every legal report, oldest first: what a trust-and-safety lead files with the authority."""
    with sessions() as session:
        rows = session.execute(select(ReviewAuditEntry, ModerationItem)
                               .join(ModerationItem, ModerationItem.id == ReviewAuditEntry.item_id)
                               .where(ReviewAuditEntry.action == LEGAL_REPORT).order_by(ReviewAuditEntry.id))
        return [{"item_id": row.item_id, "reported_by": row.actor, "reported_at": aware(row.created_at).isoformat(),
                 "note": row.details.get("note"), "rule_ids": row.details.get("rule_ids"),
                 "external_id": item.external_id, "client": item.client, "surface": item.surface,
                 "item_created_at": aware(item.created_at).isoformat(), "image_sha256": item.image_sha256,
                 "policy_sha256": item.policy_sha256} for row, item in rows]


def client_items(sessions: sessionmaker, item_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The same client's items created before this one, newest first, with the policy's decision and
    the human verdict where there is one (redacted prompt only)."""
    with sessions() as session:
        item = session.get(ModerationItem, item_id)
        if item is None:
            raise ApiError(404, "not_found", f"no item {item_id!r}")
        if item.client is None:
            return []
        rows = session.execute(
            select(ModerationItem, ReviewQueueEntry)
            .outerjoin(ReviewQueueEntry, ReviewQueueEntry.item_id == ModerationItem.id)
            .where(ModerationItem.client == item.client, ModerationItem.id != item.id,
                   ModerationItem.created_at <= item.created_at)
            .order_by(ModerationItem.created_at.desc()).limit(limit))
        return [{"id": other.id, "external_id": other.external_id, "created_at": aware(other.created_at).isoformat(),
                 "decision": other.decision, "prompt_redacted": (other.prompt_redacted or "")[:200],
                 "has_image": bool(other.image_sha256) and other.purged_at is None,
                 "review_status": entry.status if entry else None, "verdict": entry.verdict if entry else None,
                 "final_decision": entry.final_decision if entry else None} for other, entry in rows]


def preferences(sessions: sessionmaker, actor: str, default_blur: int) -> dict[str, Any]:
    with sessions() as session:
        row = session.get(ReviewerPreference, actor)
    own = row.blur_radius if row else None
    return {"blur_radius": own if own is not None else default_blur, "own_blur_radius": own,
            "organisation_blur_radius": default_blur}


def set_preferences(sessions: sessionmaker, actor: str, blur_radius: int | None) -> None:
    """``blur_radius`` None goes back to the organisation default."""
    with sessions.begin() as session:
        row = session.get(ReviewerPreference, actor)
        if row is None:
            session.add(ReviewerPreference(actor=actor, blur_radius=blur_radius, updated_at=utcnow()))
        else:
            row.blur_radius, row.updated_at = blur_radius, utcnow()
