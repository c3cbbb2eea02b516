"""Policy endpoints: list, source, reload (admin) and the shadow report."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, PlainTextResponse

from moderation_service.active_policies import ActivePolicies
from moderation_service.api.schemas import AUTH_ERRORS, error_responses
from moderation_service.auth import Principal, require_scope
from moderation_service.errors import ApiError
from moderation_service.shadow_report import shadow_report


def policy_router(policies: ActivePolicies, storage) -> APIRouter:
    router = APIRouter(prefix="/v1/policies", tags=["policies"])

    @router.get("", summary="The active policies, their hashes and the surfaces they serve",
                responses=error_responses(*AUTH_ERRORS))
    def list_policies(_principal: Principal = require_scope("admin")) -> JSONResponse:
        current = policies.current
        served: dict[str, list[str]] = {}
        for surface, name in current.surfaces.items():
            served.setdefault(name, []).append(surface)
        outcome = policies.last_outcome
        return JSONResponse({
            "default": current.default,
            "policies": [
                {"name": name, "version": policy.version, "sha256": policy.sha256,
                 "extends": policy.spec.extends, "shadow": policy.spec.shadow,
                 "surfaces": sorted(served.get(name, [])), "rules": len(policy.rules)}
                for name, policy in sorted(current.policies.items())
            ],
            "last_reload": {"applied": outcome.applied, "at": outcome.at.isoformat(), "problems": outcome.problems},
        })

    @router.post("/reload", summary="Reload policies from disk (admin); an invalid set is refused",
                 responses=error_responses(*AUTH_ERRORS))
    def reload(_principal: Principal = require_scope("admin")) -> JSONResponse:
        outcome = policies.reload()
        body = {"applied": outcome.applied, "fingerprint": outcome.fingerprint, "problems": outcome.problems}
        if not outcome.applied:
            return JSONResponse({"error": {"code": "invalid_policy", "message": "the previous policies keep serving",
                                           "details": body}}, status_code=422)
        return JSONResponse(body)

    @router.get("/shadow-report", summary="Agreement between live and shadow policies",
                responses=error_responses(*AUTH_ERRORS))
    def report(since: datetime | None = Query(None, description="Only items created at or after this time"),
               sample: int = Query(20, ge=0, le=500), _principal: Principal = require_scope("admin")) -> JSONResponse:
        return JSONResponse(shadow_report(storage.session_factory, since, sample))

    @router.get("/{name}", summary="The source of one policy (its own file, then what it extends)",
                responses=error_responses(404, *AUTH_ERRORS),
                response_class=PlainTextResponse)
    def source(name: str, _principal: Principal = require_scope("admin")) -> PlainTextResponse:
        policy = policies.current.policies.get(name)
        if policy is None:
            raise ApiError(404, "not_found", f"no active policy named {name!r}")
        return PlainTextResponse("\n---\n".join(reversed(policy.sources)), media_type="application/yaml",
                                 headers={"ETag": policy.sha256})

    return router
