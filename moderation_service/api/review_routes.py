"""HTTP routes for human review, reviewer logins, appeals and webhook endpoints.

Every write here is authenticated (require_scope), validated (pydantic bodies)
and audited (the review module writes the audit row in the same transaction).
"""
from __future__ import annotations

import io
import logging
import re
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from PIL import Image, ImageFilter
from pydantic import BaseModel, ConfigDict, Field, HttpUrl
from sqlalchemy import select

from moderation_service.api.schemas import error_responses
from moderation_service.auth import Principal, presented_credential, require_scope
from moderation_service.db.tables import ModerationItem, ReviewQueueEntry, WebhookDelivery
from moderation_service.errors import ApiError
from moderation_service.image_store import ImageStore
from moderation_service.login_throttle import LoginGuard, LoginThrottle
from moderation_service.quality.blind import blind_view, is_blind
from moderation_service.repository import ModerationRepository
from moderation_service.review import actions, audit, reports
from moderation_service.review.actors import actor_id, may_decide_appeals
from moderation_service.review.appeals import appeals_for, open_appeal
from moderation_service.review.clock import aware
from moderation_service.review.config import APPEALS_QUEUE, ESCALATIONS_QUEUE, SENIOR_QUEUES
from moderation_service.review.queue import lease_seconds_left
from moderation_service.review.runtime import ReviewRuntime
from moderation_service.review.thresholds import policy_thresholds
from moderation_service.review.verdicts import VerdictRequest
from moderation_service.review.webhook_targets import TargetRefused, check_url
from moderation_service.review.webhooks import delivery_as_dict, register_endpoint

log = logging.getLogger(__name__)
QUEUE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
KEY = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
BLUR_RADIUS = 18


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginBody(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class ClaimBody(Strict):
    queue: str = Field(pattern=QUEUE_NAME)


class VerdictBody(Strict):
    verdict: Literal["approve", "reject"]
    reason_code: str = Field(max_length=64)
    note: str = Field(default="", max_length=2000)
    key: str | None = Field(default=None, description="Idempotency key (or the Idempotency-Key header).")
    also_decide: list[str] = Field(default_factory=list, max_length=100,
                                   description="Near-duplicates you hold, decided with the same verdict.")
    bank: bool = Field(default=True, description="A reject adds the image to the reviewer-rejected bank; "
                                                 "false opts this verdict out.")


class MoveBody(Strict):
    queue: str = Field(pattern=QUEUE_NAME)
    note: str = Field(default="", max_length=2000)


class NoteBody(Strict):
    note: str = Field(default="", max_length=2000)


class UngroupBody(Strict):
    group_of: str | None = Field(default=None, max_length=64, description="The item it was claimed with.")


class PreferencesBody(Strict):
    blur_radius: int | None = Field(ge=2, le=60, description="Your blur strength; null: the organisation's.")


class RevealBody(Strict):
    what: Literal["prompt"] = "prompt"


class AppealBody(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class WebhookBody(Strict):
    url: HttpUrl


class NewUserBody(Strict):
    username: str
    password: str
    role: Literal["reviewer", "senior", "admin"]


def review_router(review: ReviewRuntime, repository: ModerationRepository, image_store: ImageStore,
                  unseal_prompt=None, login_guard: LoginGuard | None = None) -> APIRouter:
    router = APIRouter(tags=["review"], responses=error_responses(400, 401, 403, 404, 409, 429, 503))
    sessions = review.sessions

    # -- logins ------------------------------------------------------------------------------------

    guard = login_guard or LoginGuard(LoginThrottle(), hash_concurrency=2)

    @router.post("/v1/auth/login", summary="Log a reviewer in; returns a token for 'Authorization: Bearer'")
    async def login(body: LoginBody, request: Request) -> dict:
        address = request.client.host if request.client else None
        guard.throttle.check(body.username, address)  # before the 64 MiB hash, not after
        async with guard.hashing():
            found = await run_in_threadpool(review.users.login, body.username, body.password)
        if found is None:
            guard.throttle.failed(body.username, address)
            log.info("failed login")  # not the typed name: it is often a password typed in the wrong box
            raise ApiError(401, "invalid_credentials", "unknown user or wrong password")
        guard.throttle.succeeded(body.username)
        return {"token": found.token, "username": found.username, "role": found.role,
                "expires_at": found.expires_at.isoformat()}

    @router.post("/v1/auth/logout", summary="Revoke the presented login token")
    def logout(request: Request, _principal: Principal = require_scope("review")) -> dict:
        return {"revoked": review.users.logout(presented_credential(request) or "")}

    @router.get("/v1/auth/me", summary="Who the credential belongs to")
    def me(principal: Principal = require_scope("review")) -> dict:
        return {"name": principal.name, "kind": principal.kind, "actor": actor_id(principal),
                "scopes": sorted(principal.scopes), "may_decide_appeals": may_decide_appeals(principal)}

    @router.post("/v1/review/users", status_code=201, summary="Create a reviewer, senior reviewer or admin")
    def create_user(body: NewUserBody, principal: Principal = require_scope("admin")) -> dict:
        try:
            review.users.create(body.username, body.password, body.role)
        except ValueError as exc:
            raise ApiError(422, "invalid_user", str(exc)) from None
        log.info("user %s (%s) created by %s", body.username, body.role, actor_id(principal))
        return {"username": body.username, "role": body.role}

    # -- the queue ---------------------------------------------------------------------------------

    @router.get("/v1/review/config", summary="Reason codes, lease length and queue priorities")
    def config(_principal: Principal = require_scope("review")) -> dict:
        settings = review.settings
        return {"reason_codes": settings.reason_codes, "lease_s": settings.lease_s,
                "reason_codes_by_verdict": {v: settings.reasons_for(v) for v in ("approve", "reject")},
                "queue_priorities": settings.queue_priorities, "appeals_queue": APPEALS_QUEUE,
                "escalations_queue": ESCALATIONS_QUEUE, "blur_radius": settings.blur_radius}

    @router.get("/v1/review/preferences", summary="Your console preferences (blur strength) and the defaults")
    def get_preferences(principal: Principal = require_scope("review")) -> dict:
        return actions.preferences(sessions, actor_id(principal), review.settings.blur_radius)

    @router.put("/v1/review/preferences", summary="Set your blur strength (null: the organisation default)")
    def put_preferences(body: PreferencesBody, principal: Principal = require_scope("review")) -> dict:
        actions.set_preferences(sessions, actor_id(principal), body.blur_radius)
        return actions.preferences(sessions, actor_id(principal), review.settings.blur_radius)

    @router.get("/v1/review/legal-reports", summary="Export: every item escalated for a legal report")
    def legal_reports(principal: Principal = require_scope("review")) -> dict:
        if not may_decide_appeals(principal):
            raise ApiError(403, "forbidden", "only senior reviewers and admins may export legal reports")
        return {"reports": actions.legal_reports(sessions)}

    @router.get("/v1/review/queues", summary="Counts per queue, oldest age against SLA, your decisions today")
    def queues(principal: Principal = require_scope("review")) -> dict:
        return reports.queue_overview(sessions, review.settings, actor_id(principal))

    @router.post("/v1/review/claim", summary="Claim the next item of a queue (and its near-duplicates)")
    def claim(body: ClaimBody, principal: Principal = require_scope("review")) -> dict:
        if body.queue in SENIOR_QUEUES and not may_decide_appeals(principal):
            raise ApiError(403, "forbidden", "only senior reviewers and admins may claim appeals and escalations")
        claimed = review.queue.claim(actor_id(principal), body.queue)
        if claimed is None:
            return {"item": None, "group": [], "only_skipped": False}
        return {"item": item_view(claimed.item_id),
                "group": [{**item_view(g["item_id"]), "distance": g["distance"]} for g in claimed.group],
                "lease_expires_at": claimed.lease_expires_at.isoformat(), "only_skipped": claimed.only_skipped}

    @router.get("/v1/review/mine", summary="Items you hold now (to resume after a reload)")
    def mine(principal: Principal = require_scope("review")) -> dict:
        return {"items": [item_view(entry.item_id) for entry in review.queue.held_by(actor_id(principal))]}

    @router.get("/v1/review/history", summary="Audit trail search: by item or external id, reviewer, verdict, day")
    def history(q: str | None = None, reviewer: str | None = None, verdict: Literal["approve", "reject"] | None = None,
                day: str | None = Query(None, pattern=r"^\d{4}-\d{2}-\d{2}$"), action: str | None = None,
                _principal: Principal = require_scope("review")) -> dict:
        item_ids = reports.find_items(sessions, q) if q else None
        try:
            since, until = reports.day_bounds(day)
        except ValueError:
            raise ApiError(422, "invalid_request", f"day {day!r} is not a date") from None
        actor = reviewer if reviewer is None or ":" in reviewer else f"user:{reviewer}"
        entries = audit.search(sessions, item_ids=item_ids, actor=actor, action=action, verdict=verdict,
                               since=since, until=until)
        external = reports.external_ids(sessions, {e["item_id"] for e in entries})
        return {"entries": [{**e, "external_id": external.get(e["item_id"])} for e in entries]}

    @router.get("/v1/review/stats", summary="Verdicts per reviewer and queue, policy agreement, time to decision")
    def stats(since: datetime | None = None, _principal: Principal = require_scope("review")) -> dict:
        return reports.decision_stats(sessions, since)

    @router.get("/v1/review/{item_id}", summary="One item with its signals, near-duplicates and audit trail")
    def item(item_id: str, request: Request, _principal: Principal = require_scope("review")) -> dict:
        view = item_view(item_id)
        view["audit"] = audit.search(sessions, item_ids=[item_id])
        view["appeals"] = appeals_for(sessions, item_id)
        active = getattr(request.app.state, "policies", None)
        policy = active.current.policies.get(view["policy"]["name"]) if active is not None else None
        view["thresholds"] = policy_thresholds(policy) if policy is not None else {}
        return view

    @router.get("/v1/review/{item_id}/image", summary="The image, blurred unless original=true (audited)",
                response_class=Response, responses={200: {"content": {"image/jpeg": {}, "image/png": {},
                                                                      "image/webp": {}, "image/gif": {}}}})
    def image(item_id: str, original: bool = False, blur: int | None = Query(None, ge=2, le=60),
              size: int = Query(512, ge=32, le=512, description="Longest side of the blurred preview, px"),
              principal: Principal = require_scope("review")) -> Response:
        stored = _item(item_id)
        path = image_store.path_for(stored.image_sha256, stored.image_format or "") if stored.image_sha256 else None
        if path is None or not path.exists():
            raise ApiError(404, "no_image", "this item has no stored image (none sent, or purged)")
        if original:
            _audit_reveal(item_id, principal, "reveal_image")
            return Response(path.read_bytes(), media_type=Image.MIME.get(stored.image_format or "", "image/png"))
        radius = blur if blur is not None else actions.preferences(
            sessions, actor_id(principal), review.settings.blur_radius)["blur_radius"]
        return Response(_blurred(path.read_bytes(), radius * size / 512, size), media_type="image/jpeg",
                        headers={"Cache-Control": "no-store"})

    @router.post("/v1/review/{item_id}/reveal", summary="The unredacted prompt, when stored (audited)")
    def reveal(item_id: str, _body: RevealBody, principal: Principal = require_scope("review")) -> dict:
        stored = _item(item_id)
        _audit_reveal(item_id, principal, "reveal_prompt")
        raw = unseal_prompt(stored.prompt_raw) if (stored.prompt_raw and unseal_prompt) else None
        return {"prompt": raw if raw is not None else stored.prompt_redacted, "raw_available": raw is not None}

    @router.post("/v1/review/{item_id}/claim", summary="Claim this one item (a shared item link)")
    def claim_item(item_id: str, principal: Principal = require_scope("review")) -> dict:
        entry = repository.review_entry(item_id)
        if entry is not None and entry.queue in SENIOR_QUEUES and not may_decide_appeals(principal):
            raise ApiError(403, "forbidden", "only senior reviewers and admins may claim appeals and escalations")
        claimed = review.queue.claim_item(actor_id(principal), item_id)
        return {"item": item_view(item_id), "group": [], "lease_expires_at": claimed.lease_expires_at.isoformat(),
                "only_skipped": False}

    @router.get("/v1/review/{item_id}/client-items", summary="The same client's earlier items and their decisions")
    def client_items(item_id: str, limit: int = Query(20, ge=1, le=200),
                     _principal: Principal = require_scope("review")) -> dict:
        return {"items": actions.client_items(sessions, item_id, limit)}

    @router.post("/v1/review/{item_id}/move", summary="Put an item you hold into another queue")
    def move(item_id: str, body: MoveBody, principal: Principal = require_scope("review")) -> dict:
        if body.queue in SENIOR_QUEUES:
            raise ApiError(422, "invalid_queue", "use /escalate for seniors; appeals come only from clients")
        review.queue.give_back(actor_id(principal), item_id, "move", to_queue=body.queue, details={"note": body.note})
        return {"status": "pending", "queue": body.queue}

    @router.post("/v1/review/{item_id}/escalate", summary="Hand an item you hold to senior reviewers")
    def escalate(item_id: str, body: NoteBody, principal: Principal = require_scope("review")) -> dict:
        review.queue.give_back(actor_id(principal), item_id, "escalate", to_queue=ESCALATIONS_QUEUE,
                               details={"note": body.note})
        return {"status": "pending", "queue": ESCALATIONS_QUEUE}

    @router.post("/v1/review/{item_id}/ungroup", summary="Take a near-duplicate you hold out of its group")
    def ungroup(item_id: str, body: UngroupBody, principal: Principal = require_scope("review")) -> dict:
        review.queue.give_back(actor_id(principal), item_id, "ungroup", details={"group_of": body.group_of})
        return {"status": "pending"}

    @router.post("/v1/review/{item_id}/legal-report", status_code=201,
                 summary="Escalate for a legal report (reportable categories only); audited and exported")
    def legal_report(item_id: str, body: NoteBody, principal: Principal = require_scope("review")) -> dict:
        return actions.legal_report(sessions, actor_id(principal), item_id, body.note)

    @router.post("/v1/review/{item_id}/renew", summary="Extend your lease on an item")
    def renew(item_id: str, principal: Principal = require_scope("review")) -> dict:
        return {"lease_expires_at": review.queue.renew(actor_id(principal), item_id).isoformat()}

    @router.post("/v1/review/{item_id}/release", summary="Give the item back to the queue")
    def release(item_id: str, principal: Principal = require_scope("review")) -> dict:
        review.queue.give_back(actor_id(principal), item_id, "release")
        return {"status": "pending"}

    @router.post("/v1/review/{item_id}/skip", summary="Give the item back; you are offered it again last")
    def skip(item_id: str, principal: Principal = require_scope("review")) -> dict:
        review.queue.give_back(actor_id(principal), item_id, "skip")
        return {"status": "pending"}

    @router.post("/v1/review/{item_id}/verdict", summary="Approve or reject an item you hold")
    def verdict(item_id: str, body: VerdictBody, principal: Principal = require_scope("review"),
                idempotency_key: str | None = Header(None)) -> Response:
        key = body.key or idempotency_key
        if not key or not KEY.match(key):
            raise ApiError(422, "invalid_idempotency_key",
                           "send a verdict key (body 'key' or Idempotency-Key): 1 to 128 of A-Z a-z 0-9 . _ : -")
        request = VerdictRequest(item_id, body.verdict, body.reason_code, body.note, key, tuple(body.also_decide),
                                 body.bank)
        result, replayed = review.verdicts.decide(actor_id(principal), request)
        if not replayed:
            review.notify(result["decided"], body.verdict)
        return JSONResponse(result, headers={"Idempotent-Replayed": "true"} if replayed else {})

    # -- upstream: appeals and webhooks ------------------------------------------------------------

    @router.post("/v1/moderations/{item_id}/appeal", status_code=201, summary="Ask senior reviewers to look again")
    def appeal(item_id: str, body: AppealBody, principal: Principal = require_scope("moderate")) -> dict:
        stored = repository.get(item_id)
        if stored is None or (stored.client != principal.name and "admin" not in principal.scopes):
            raise ApiError(404, "not_found", f"no moderation with id {item_id!r}")
        created = open_appeal(sessions, review.settings, stored, principal.name, body.reason)
        return {"appeal_id": created.id, "item_id": item_id, "status": "open", "queue": APPEALS_QUEUE}

    @router.put("/v1/webhooks/endpoint", summary="Set your webhook URL; returns the signing secret once")
    def set_webhook(body: WebhookBody, principal: Principal = require_scope("moderate")) -> dict:
        try:  # checked again, with DNS, when each delivery connects
            check_url(str(body.url), review.webhooks.allowed)
        except TargetRefused as exc:
            raise ApiError(422, "invalid_webhook_url", str(exc)) from None
        secret = register_endpoint(sessions, principal.name, str(body.url))
        return {"client": principal.name, "url": str(body.url), "secret": secret,
                "signature_header": "X-Moderation-Signature", "algorithm": "HMAC-SHA256 of the raw body"}

    @router.get("/v1/webhooks/deliveries", summary="Your delivery log")
    def deliveries(principal: Principal = require_scope("moderate")) -> dict:
        with sessions() as session:
            rows = session.scalars(select(WebhookDelivery).where(WebhookDelivery.client == principal.name)
                                   .order_by(WebhookDelivery.id.desc()).limit(200))
            return {"deliveries": [delivery_as_dict(row) for row in rows]}

    # -- helpers -----------------------------------------------------------------------------------

    def _item(item_id: str) -> ModerationItem:
        stored = repository.get(item_id)
        if stored is None:
            raise ApiError(404, "not_found", f"no item {item_id!r}")
        return stored

    def _audit_reveal(item_id: str, principal: Principal, action: str) -> None:
        with sessions.begin() as session:
            audit.record(session, item_id, actor_id(principal), action)

    def item_view(item_id: str) -> dict:
        stored = _item(item_id)
        entry = repository.review_entry(item_id)
        return describe_item(stored, entry, repository)

    return router


def describe_item(item: ModerationItem, entry: ReviewQueueEntry | None, repository: ModerationRepository) -> dict:
    """What a reviewer sees: never the raw prompt or the unblurred image."""
    signals = item.signals or {}
    near = []
    for match in (signals.get("image_hash") or {}).get("near_duplicates") or []:
        other_id = match.get("item_id") or match.get("id")
        other_entry = repository.review_entry(other_id) if other_id else None
        near.append({**match, "final_decision": other_entry.final_decision if other_entry else None,
                     "verdict": other_entry.verdict if other_entry else None})
    pii = signals.get("pii") or {}
    view = {
        "id": item.id, "external_id": item.external_id, "surface": item.surface,
        "created_at": aware(item.created_at).isoformat(),
        "policy": {"name": item.policy_name, "sha256": item.policy_sha256, "decision": item.decision},
        "reportable": bool(item.reportable),
        "reasons": item.reasons, "signals": signals,
        "prompt_redacted": item.prompt_redacted, "raw_prompt_stored": bool(item.prompt_raw),
        "client": item.client, "reportable": actions.reportable(item),
        "pii_entities": [e.get("type") for e in pii.get("entities") or []],
        "has_image": bool(item.image_sha256) and item.purged_at is None,
        "near_duplicates": near,
        "review": None if entry is None else {
            "queue": entry.queue, "priority": entry.priority, "status": entry.status, "risk_score": entry.risk_score,
            "enqueued_at": aware(entry.enqueued_at).isoformat() if entry.enqueued_at else None,
            "claimed_by": entry.claimed_by, "lease_expires_at":
                aware(entry.lease_expires_at).isoformat() if entry.lease_expires_at else None,
            "lease_seconds_left": lease_seconds_left(entry) if entry.status == "claimed" else None,
            "verdict": entry.verdict, "reason_code": entry.reason_code, "final_decision": entry.final_decision,
            "decided_by": entry.decided_by,
            "decided_at": aware(entry.decided_at).isoformat() if entry.decided_at else None},
    }
    return blind_view(view) if is_blind(entry) else view


def _blurred(data: bytes, radius: float = BLUR_RADIUS, size: int = 512) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("RGB")
        image.thumbnail((size, size))
        blurred = image.filter(ImageFilter.GaussianBlur(max(1.0, radius)))
    out = io.BytesIO()
    blurred.save(out, "JPEG", quality=70)
    return out.getvalue()
