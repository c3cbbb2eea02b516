"""Verdicts: only the lease holder decides, a repeated key is a no-op, every item is audited.

The verdict, its audit rows, the appeal outcome and the webhook deliveries
(an outbox) commit in one transaction: either all of them happen or none.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from moderation_service.db.tables import Appeal, ModerationItem, ReviewQueueEntry, ReviewVerdictKey
from moderation_service.errors import ApiError
from moderation_service.review import audit
from moderation_service.review.clock import utcnow
from moderation_service.review.config import APPEALS_QUEUE, ReviewSettings
from moderation_service.review.queue import not_holder
from moderation_service.review.webhooks import enqueue_event

VERDICTS = ("approve", "reject")


@dataclass(frozen=True)
class VerdictRequest:
    item_id: str
    verdict: str
    reason_code: str
    note: str
    key: str
    also_decide: tuple[str, ...] = ()  # near-duplicates the actor holds, decided with the same verdict
    bank: bool = True  # a reject adds the image to the reviewer-rejected bank unless the reviewer opts out

    def fingerprint(self) -> str:
        body = [self.item_id, self.verdict, self.reason_code, self.note, sorted(self.also_decide)]
        if not self.bank:  # appended only when set, so keys stored before the opt-out existed still replay
            body.append("no-bank")
        return hashlib.sha256(json.dumps(body).encode()).hexdigest()


def final_decision(verdict: str, item: ModerationItem) -> str:
    """Approve publishes (redacted when a redact rule fired); reject blocks."""
    if verdict == "reject":
        return "block"
    return "redact" if any(reason.get("action") == "redact" for reason in item.reasons or []) else "allow"


class Verdicts:
    def __init__(self, sessions: sessionmaker, settings: ReviewSettings) -> None:
        self._sessions = sessions
        self.settings = settings

    def decide(self, actor: str, request: VerdictRequest) -> tuple[dict[str, Any], bool]:
        """(result, replayed). Raises ApiError 409 for a non-holder or a key reused with another body."""
        if request.verdict not in VERDICTS:
            raise ApiError(422, "invalid_verdict", f"verdict must be one of {', '.join(VERDICTS)}")
        if request.reason_code not in self.settings.reason_codes:
            raise ApiError(422, "invalid_reason_code", f"reason_code must be one of "
                           f"{', '.join(self.settings.reason_codes)}")
        if request.verdict == "reject" and request.reason_code not in self.settings.reasons_for("reject"):
            raise ApiError(422, "reason_code_mismatch", f"reason_code {request.reason_code!r} says the content is "
                           f"fine; a {request.verdict} needs one of "
                           f"{', '.join(self.settings.reasons_for(request.verdict))}")
        replay = self._replay(actor, request)
        if replay is not None:
            return replay, True
        try:
            with self._sessions.begin() as session:
                result = self._apply(session, actor, request)
                session.add(ReviewVerdictKey(actor=actor, key=request.key, request_sha256=request.fingerprint(),
                                             result=result, created_at=utcnow()))
            return result, False
        except (ApiError, IntegrityError):
            # A concurrent repeat of the same key may have won: then this one is its replay.
            replay = self._replay(actor, request)
            if replay is not None:
                return replay, True
            raise

    def _replay(self, actor: str, request: VerdictRequest) -> dict[str, Any] | None:
        with self._sessions() as session:
            stored = session.get(ReviewVerdictKey, (actor, request.key))
        if stored is None:
            return None
        if stored.request_sha256 != request.fingerprint():
            raise ApiError(409, "idempotency_key_reused", "this verdict key was used for a different verdict")
        return stored.result

    def _apply(self, session: Session, actor: str, request: VerdictRequest) -> dict[str, Any]:
        now = utcnow()
        decided = []
        item_ids = [request.item_id, *[i for i in dict.fromkeys(request.also_decide) if i != request.item_id]]
        for item_id in item_ids:
            entry = session.scalar(select(ReviewQueueEntry).where(ReviewQueueEntry.item_id == item_id))
            if entry is None:
                raise ApiError(404, "not_found", f"no review item {item_id!r}")
            if entry.status != "claimed" or entry.claimed_by != actor:
                raise not_holder(item_id)
            item = session.get(ModerationItem, item_id)
            previous = audit.entry_state(entry)
            decision = final_decision(request.verdict, item)
            # Compare-and-set: the row must still be ours at the moment we write it.
            changed = session.execute(
                update(ReviewQueueEntry)
                .where(ReviewQueueEntry.id == entry.id, ReviewQueueEntry.status == "claimed",
                       ReviewQueueEntry.claimed_by == actor)
                .values(status="decided", verdict=request.verdict, reason_code=request.reason_code,
                        final_decision=decision, decided_by=actor, decided_at=now, lease_expires_at=None)
                .execution_options(synchronize_session=False)).rowcount
            if changed != 1:
                raise not_holder(item_id)
            appeal_outcome = self._close_appeal(session, entry, item_id, decision, now)
            action = "appeal_verdict" if entry.queue == APPEALS_QUEUE else "verdict"
            new_state = {**previous, "status": "decided", "claimed_by": None, "verdict": request.verdict,
                         "final_decision": decision}
            details = {"reason_code": request.reason_code, "note": request.note, "key": request.key,
                       "policy_decision": item.decision}
            if item_id != request.item_id:
                details["group_of"] = request.item_id
            if request.verdict == "reject" and not request.bank:
                details["bank"] = False
            if appeal_outcome:
                details["appeal_outcome"] = appeal_outcome
            audit.record(session, item_id, actor, action, previous, new_state, details, item.policy_sha256)
            event = "appeal.decided" if appeal_outcome else "review.decided"
            enqueue_event(session, item, event, {
                "verdict": request.verdict, "final_decision": decision, "reason_code": request.reason_code,
                "policy_decision": item.decision, "decided_at": now.isoformat(),
                **({"appeal_outcome": appeal_outcome} if appeal_outcome else {})})
            decided.append({"item_id": item_id, "final_decision": decision, "queue": entry.queue,
                            **({"bank": False} if request.verdict == "reject" and not request.bank else {}),
                            **({"appeal_outcome": appeal_outcome} if appeal_outcome else {})})
        return {"verdict": request.verdict, "reason_code": request.reason_code, "decided": decided,
                "decided_at": now.isoformat()}

    @staticmethod
    def _close_appeal(session: Session, entry: ReviewQueueEntry, item_id: str, decision: str, now) -> str | None:
        if entry.queue != APPEALS_QUEUE:
            return None
        appeal = session.scalar(select(Appeal).where(Appeal.item_id == item_id, Appeal.status == "open"))
        if appeal is None:
            return None
        # The decision appealed against is the one in force when the appeal came in.
        appealed = entry.final_decision
        if appealed is None:
            appealed = session.scalar(select(ModerationItem.decision).where(ModerationItem.id == item_id))
        appeal.outcome = "upheld" if decision == appealed else "overturned"
        appeal.status, appeal.decided_at = "decided", now
        return appeal.outcome
