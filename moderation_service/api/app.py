"""The FastAPI application: routes, error handling and start-up."""
from __future__ import annotations

import logging
import re
import threading
from contextlib import asynccontextmanager
from dataclasses import replace

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from classifiers.base import Classifier
from moderation_service.api.request_parsing import parse_moderation_request, validation_error
from moderation_service.api.schemas import (AUTH_ERRORS, ModerationRequest, ModerationResponse, ReviewRef,
                                             error_responses)
from moderation_service.auth import ApiKeyStore, Principal, authenticate_any, require_scope
from moderation_service.rate_limit import RateLimiter
from moderation_service.retention import start_purging
from moderation_service.retro_hunt import RetroHunter
from moderation_service.db.tables import ReviewQueueEntry
from moderation_service.errors import ApiError
from moderation_service.login_throttle import LoginGuard
from moderation_service.metrics import ServiceMetrics
from moderation_service.api.edge_guard import EdgeGuard, EdgeLimits
from moderation_service.api.request_ids import RequestIds
from moderation_service.api.policy_routes import policy_router
from moderation_service.api.bank_routes import bank_router
from moderation_service.api.model_routes import model_router
from moderation_service.api.quality_routes import quality_router
from moderation_service.api.review_routes import review_router
from moderation_service.quality.blind import is_blind
from moderation_service.review.runtime import build_review
from moderation_service.banks.feedback import verdict_listener
from moderation_service.runtime import (build_service, load_candidates, load_classifiers, load_service_policies,
                                        open_storage)
from moderation_service.service import ModerationService
from moderation_service.settings import Settings

log = logging.getLogger(__name__)

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
MODERATE_ERRORS = error_responses(400, 409, 413, 415, 503, *AUTH_ERRORS)


class ServiceState:
    """Holds the service once the models are loaded; until then requests get 503."""

    def __init__(self) -> None:
        self.service: ModerationService | None = None
        self.load_error: str | None = None

    def require(self) -> ModerationService:
        if self.service is None:
            detail = f": {self.load_error}" if self.load_error else "; retry shortly"
            raise ApiError(503, "not_ready", f"the models are not loaded{detail}")
        return self.service


def create_app(settings: Settings | None = None, classifiers: dict[str, Classifier] | None = None,
               candidates: dict[str, tuple[str, Classifier]] | None = None) -> FastAPI:
    """With ``classifiers`` given (tests share one loaded set), the app is ready at once;
    otherwise the models load in the background and /readyz reports when they are in.
    ``candidates`` ({entry: (signal, model)}) are scored in shadow; by default the configuration's."""
    settings = settings or Settings()
    policies = load_service_policies(settings)  # an invalid policy stops start-up here
    storage = open_storage(settings)
    state = ServiceState()
    rate_limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    metrics = ServiceMetrics()
    metrics.add_queue_collector(storage.repository.pending_review_depths)

    def load() -> None:
        try:
            loaded = classifiers if classifiers is not None else load_classifiers(settings)
            shadow = candidates if candidates is not None else (
                load_candidates(settings) if classifiers is None else {})
            service = build_service(settings, policies, storage, loaded, shadow)
            metrics.registry.register(service.shadow)
            service.metrics = metrics
            state.service = service
            metrics.ready.set(1)
        except Exception as exc:  # reported on /readyz and in the log; the process stays up
            log.exception("loading the classifiers failed")
            state.load_error = f"{type(exc).__name__}: {exc}"

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if classifiers is not None:
            load()
        else:
            threading.Thread(target=load, name="model-loader", daemon=True).start()
        if settings.policy_watch_interval_s > 0:
            policies.watch(settings.policy_watch_interval_s)
        if storage.banks is not None:
            storage.banks.sync.start()
        review.webhooks.start()
        retro_hunt.start(storage.banks.settings.retro_hunt_interval_s)
        stop_purging = threading.Event()
        if settings.retention_days > 0:
            start_purging(storage.session_factory, storage.image_store, settings.retention_days,
                          settings.purge_interval_s, stop_purging)
        yield
        stop_purging.set()
        retro_hunt.stop()
        review.webhooks.stop()
        if storage.banks is not None:
            storage.banks.sync.stop()
        policies.stop()
        if state.service is not None:
            state.service.close()

    app = FastAPI(
        title="Moderation service",
        version="0.1.0",
        description="Moderates AI-generated prompts and images before they are published.",
        lifespan=lifespan,
    )
    app.state.moderation = state
    app.state.settings = settings
    app.state.storage = storage
    app.state.policies = policies
    app.state.metrics = metrics
    app.state.authenticators = [ApiKeyStore(storage.session_factory).authenticate]
    # Called as listener(item_id, verdict) after a review verdict commits ("reject" or "approve").
    if not hasattr(app.state, "verdict_listeners"):
        app.state.verdict_listeners = []
    app.state.banks = storage.banks
    if storage.banks is not None:
        app.state.verdict_listeners.append(verdict_listener(storage.banks, storage.repository))
    # Human review: reviewer logins join the authenticators; verdicts call app.state.verdict_listeners.
    review = build_review(storage.session_factory, verdict_listeners=app.state.verdict_listeners)
    app.state.review = review
    app.state.authenticators.append(review.users.authenticate)

    def taken_down(bank: str, count: int) -> None:
        metrics.retroactive_blocks.labels(bank=bank).inc(count)
        review.webhooks.wake()

    # Retroactive takedown: new block-bank entries hunted among published items, in the background.
    retro_hunt = RetroHunter(storage.session_factory, storage.banks, settle_s=storage.banks.settings.retro_hunt_settle_s,
                             max_items=storage.banks.settings.retro_hunt_max_items, on_taken_down=taken_down)
    app.state.retro_hunt = retro_hunt
    _install_error_handlers(app)
    limits = EdgeLimits(large_body_bytes=settings.max_image_bytes * 4 // 3 + 1024 * 1024,
                        small_body_bytes=settings.max_request_bytes, body_read_timeout_s=settings.body_read_timeout_s)
    app.add_middleware(EdgeGuard, limits=limits, rate_limiter=rate_limiter,
                       authenticate=lambda secret: authenticate_any(app.state.authenticators, secret),
                       on_refused=lambda error: metrics.rejected.labels(code=error.code).inc())
    app.add_middleware(RequestIds)  # outermost: refusals at the edge get a request id and an access line

    @app.post(
        "/v1/moderations",
        response_model=ModerationResponse,
        responses=MODERATE_ERRORS,
        summary="Moderate a prompt, an image, or both",
        openapi_extra={"requestBody": {"required": True, "content": {
            "application/json": {"schema": ModerationRequest.model_json_schema()},
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "prompt": {"type": "string"}, "surface": {"type": "string"},
                "external_id": {"type": "string"}, "metadata": {"type": "string", "description": "JSON object"},
                "image": {"type": "string", "format": "binary"}}}},
        }}},
    )
    async def moderate(request: Request, principal: Principal = require_scope("moderate")) -> ModerationResponse:
        service = state.require()  # the per-key rate limit is checked at the edge, for every route
        moderation_input = await parse_moderation_request(request, settings.max_image_bytes)
        moderation_input = replace(moderation_input, client=principal.name,
                                   idempotency_key=_idempotency_key(request))
        moderated = await service.moderate(moderation_input)
        body = ModerationResponse.from_item(moderated.item, _review_ref(moderated.review))
        headers = {"Idempotent-Replayed": "true"} if moderated.replayed else {}
        return JSONResponse(body.model_dump(mode="json"), headers=headers)

    @app.get("/v1/moderations/{item_id}", response_model=ModerationResponse, responses=error_responses(404, *AUTH_ERRORS),
             summary="The stored record of one moderation")
    def get_moderation(item_id: str, principal: Principal = require_scope("moderate")) -> ModerationResponse:
        repository = storage.repository
        item = repository.get(item_id)
        # Another client's item is "not found", so ids do not leak across tenants.
        if item is None or (item.client != principal.name and "admin" not in principal.scopes):
            raise ApiError(404, "not_found", f"no moderation with id {item_id!r}")
        return ModerationResponse.from_item(item, _review_ref(repository.review_entry(item_id)))

    app.include_router(policy_router(policies, storage))
    if storage.banks is not None:
        app.include_router(bank_router(storage.banks, state, settings))
    app.include_router(review_router(review, storage.repository, storage.image_store, _prompt_unsealer(settings),
                                     login_guard=LoginGuard.from_settings(settings)))
    app.include_router(quality_router(storage.session_factory))
    app.include_router(model_router(state, storage.session_factory))

    @app.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse,
             responses=error_responses(*AUTH_ERRORS))
    def prometheus_metrics(_principal: Principal = require_scope("admin")) -> PlainTextResponse:
        return PlainTextResponse(metrics.exposition(), media_type="text/plain; version=0.0.4")

    @app.get("/healthz", summary="Liveness")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", summary="Readiness: 200 once every model is loaded",
             responses=error_responses(503))
    def readyz() -> JSONResponse:
        service = state.require()
        if not storage.repository.reachable():
            raise ApiError(503, "database_unavailable", "the database does not answer; retrying")
        return JSONResponse({
            "status": "ready",
            "policies": {name: policy.sha256 for name, policy in service.policies.current.policies.items()},
            "models": {name: clf.identity.as_dict() for name, clf in service.classifiers.items()},
        })

    return app


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key: 1 to 128 of A-Z a-z 0-9 . _ : -")
    return key


def _review_ref(entry: ReviewQueueEntry | None) -> ReviewRef | None:
    if entry is None or is_blind(entry):  # a pending quality sample is internal until its verdict
        return None
    return ReviewRef(queue=entry.queue, priority=entry.priority, status=entry.status, verdict=entry.verdict,
                     reason_code=entry.reason_code, final_decision=entry.final_decision, decided_at=entry.decided_at)


def _prompt_unsealer(settings: Settings):
    """Decrypts stored raw prompts for an audited reveal; None when raw prompts are not kept."""
    if settings.raw_prompt_key is None:
        return None
    from cryptography.fernet import Fernet

    fernet = Fernet(settings.raw_prompt_key.get_secret_value())
    return lambda token: fernet.decrypt(token.encode()).decode()


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        if 400 <= exc.status < 500 and hasattr(request.app.state, "metrics"):
            request.app.state.metrics.rejected.labels(code=exc.code).inc()
        headers = {}
        if exc.status in (429, 503) and isinstance(exc.details, dict) and "retry_after_s" in exc.details:
            headers["Retry-After"] = str(exc.details.get("retry_after_s", 1))
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        error = validation_error(list(exc.errors()))
        return JSONResponse(error.body(), status_code=error.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        error = ApiError(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))
        return JSONResponse(error.body(), status_code=exc.status_code)

    @app.exception_handler(ClientDisconnect)
    async def client_left(_request: Request, _exc: ClientDisconnect) -> JSONResponse:
        # Not a server error: no traceback. Nobody reads this answer.
        log.info("the client disconnected before its request was read")
        return JSONResponse(ApiError(400, "client_disconnected", "the client disconnected").body(), status_code=400)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(ApiError(500, "internal_error", "an unexpected error; it has been logged").body(),
                            status_code=500)
