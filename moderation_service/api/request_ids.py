"""Request ids and the access log, as plain ASGI middleware.

Plain ASGI rather than ``@app.middleware("http")``: Starlette's
BaseHTTPMiddleware runs each request through an extra task and response
stream, which showed as a large share of the event loop's time under load.
"""
from __future__ import annotations

import logging
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from moderation_service.logging_setup import accept_request_id, request_id_var

access_log = logging.getLogger("moderation_service.access")


class RequestIds:
    """Honours a sane ``X-Request-ID`` or makes one, echoes it, and logs one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = request_id_var.set(accept_request_id(Headers(scope=scope).get("x-request-id")))
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception escaped the app

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id_var.get()
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            access_log.info("request", extra={
                "method": scope["method"], "path": getattr(scope.get("route"), "path", "unmatched"),
                "status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 2)})
            request_id_var.reset(token)
