"""``GET /v1/models``: the model in force for each signal, the candidates in shadow, and the promotion log."""
from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from moderation_service.api.schemas import error_responses
from moderation_service.auth import Principal, require_scope
from moderation_service.db.tables import ModelPromotion
from moderation_service.review.clock import aware


def model_router(state, sessions: sessionmaker) -> APIRouter:
    router = APIRouter(tags=["models"], responses=error_responses(401, 403, 429, 503))

    @router.get("/v1/models", summary="Models in force, candidates scoring in shadow, and promotions")
    def models(_principal: Principal = require_scope("admin")) -> dict:
        service = state.require()
        roster = service.roster
        live = {signal: {"entry": roster.entry_of(signal) if roster else signal, **model.identity.as_dict()}
                for signal, model in service.classifiers.items()}
        shadows = [{"entry": entry, "signal": signal, **model.identity.as_dict()}
                   for entry, signal, model in (roster.shadows() if roster else [])]
        with sessions() as session:
            rows = session.scalars(select(ModelPromotion).order_by(ModelPromotion.id.desc()).limit(50))
            promotions = [{"id": row.id, "signal": row.signal, "entry": row.entry, "model": row.model,
                           "actor": row.actor, "reason": row.reason, "forced": row.forced,
                           "promoted_at": aware(row.promoted_at).isoformat()} for row in rows]
        return {"live": live, "shadow": shadows,
                "shadow_queue": dict(service.shadow.counts) if service.shadow else {}, "promotions": promotions}

    return router
