"""``GET /v1/stats/enforcement``: how much harmful content the live policy lets through, from the quality sample."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from sqlalchemy.orm import sessionmaker

from moderation_service.api.schemas import error_responses
from moderation_service.auth import Principal, require_scope
from moderation_service.quality.store import enforcement_report


def quality_router(sessions: sessionmaker) -> APIRouter:
    router = APIRouter(tags=["quality"], responses=error_responses(401, 403, 422, 429))

    @router.get("/v1/stats/enforcement", summary="Prevalence among allowed items, precision and recall, with "
                "confidence intervals, estimated from the blind quality sample")
    def enforcement(since: datetime | None = None, until: datetime | None = None,
                    surface: str | None = Query(None, max_length=64),
                    confidence: float = Query(0.95, gt=0.5, lt=1),
                    _principal: Principal = require_scope("review")) -> dict:
        """Estimates over items created in [since, until): ``estimates.{prevalence_allowed, precision, recall,
        prevalence}`` each with ``estimate``, ``ci_low``, ``ci_high`` and the units behind it. Flagged means the
        policy decided block or review; harmful means a reviewer rejected the item."""
        return enforcement_report(sessions, since, until, surface, confidence)

    return router
