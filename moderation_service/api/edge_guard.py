"""The first thing every request meets: authentication before any body is read,
the per-key rate limit, a body cap per route, a deadline for the body to arrive,
and the strict JSON check (moderation_service.api.strict_json).

Order, so that an unauthenticated or throttled caller costs nothing but its headers:

1. public paths (probes, documentation, login) skip 2-3;
2. no credential: ``401 unauthenticated``; an unknown one: ``401 invalid_credentials``
   (the lookup runs on a worker thread; the Principal is kept in ``scope["state"]``
   so the route's scope check does not look it up again);
3. over the key's rate: ``429 rate_limited`` with ``Retry-After``;
4. a declared or streamed body over the route's cap: ``413 request_too_large``;
5. a body slower than ``body_read_timeout_s`` in total: ``408 request_timeout``;
6. JSON bodies are read whole (bounded by 4) and parsed strictly before the route
   sees them, so every route refuses duplicate keys, huge numbers, deep nesting and
   lone surrogates the same way.

Multipart moderations and bank imports stream through with 4 and 5 enforced as
they are read.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from starlette.concurrency import run_in_threadpool

from moderation_service.api import strict_json
from moderation_service.auth import Principal
from moderation_service.errors import ApiError
from moderation_service.rate_limit import RateLimiter

# Answer without a key: the probes, the login itself, and the API's documentation (the
# schema describes the API, not its data; README "Authentication" says so).
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/v1/auth/login", "/docs", "/docs/oauth2-redirect", "/redoc",
                          "/openapi.json"})
# The documentation pages' own scripts and styles, served offline (api/docs.py): public files.
PUBLIC_PREFIXES = ("/docs-assets/",)
# Routes that carry an image or a bulk file; every other route gets the small cap.
_LARGE_BODY = re.compile(r"^/v1/(moderations|banks/lookup|banks/[^/]+/(import|entries))$")
_STREAMED = re.compile(r"^/v1/banks/[^/]+/import$")
_JSON_OFF_LOOP_BYTES = 64 * 1024
PROMPT_KEYS = frozenset({"prompt"})  # the moderation prompt drops a NUL, as it drops other control characters


class BodyTooLarge(Exception):
    """Raised from receive() past the cap; parsers must let it through to the middleware."""


class BodyTimeout(Exception):
    """Raised from receive() when the body has not arrived in time."""


@dataclass
class EdgeLimits:
    large_body_bytes: int  # the moderation route and bank uploads
    small_body_bytes: int  # every other route
    body_read_timeout_s: float


class EdgeGuard:
    def __init__(self, app, limits: EdgeLimits, authenticate: Callable[[str], Principal | None],
                 rate_limiter: RateLimiter, on_refused: Callable[[ApiError], None] | None = None) -> None:
        self.app = app
        self.limits = limits
        self.authenticate = authenticate
        self.rate_limiter = rate_limiter
        self.on_refused = on_refused

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        headers = _headers(scope)
        try:
            if path not in PUBLIC_PATHS and not path.startswith(PUBLIC_PREFIXES):
                principal = await self._principal(headers)
                scope.setdefault("state", {})["principal"] = principal
                self.rate_limiter.check(principal)
            limit = self.limits.large_body_bytes if _LARGE_BODY.match(path) else self.limits.small_body_bytes
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _too_large(limit)
            bodiless = (scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE") and declared in ("", "0")
                        and "transfer-encoding" not in headers)
            if bodiless or _streams(path, headers):
                receive = _bounded_receive(receive, limit, self.limits.body_read_timeout_s)
            else:
                body = await _read_body(receive, limit, self.limits.body_read_timeout_s)
                if body and _is_json(headers):
                    nul_allowed = PROMPT_KEYS if path == "/v1/moderations" else frozenset()
                    if len(body) > _JSON_OFF_LOOP_BYTES:
                        await run_in_threadpool(strict_json.loads, body, nul_allowed)
                    else:
                        strict_json.loads(body, nul_allowed)
                receive = _replay(body, receive)
        except ApiError as error:
            return await self._refuse(send, error)
        try:
            await self.app(scope, receive, send)
        except BodyTooLarge:
            await self._refuse(send, _too_large(limit), close=True)
        except BodyTimeout:
            await self._refuse(send, _timed_out(self.limits.body_read_timeout_s), close=True)

    async def _principal(self, headers: dict[str, str]) -> Principal:
        secret = _credential(headers)
        if secret is None:
            raise ApiError(401, "unauthenticated", "send a key as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'")
        principal = await run_in_threadpool(self.authenticate, secret)
        if principal is None:
            raise ApiError(401, "invalid_credentials", "the key is unknown or revoked")
        return principal

    async def _refuse(self, send, error: ApiError, close: bool = False) -> None:
        if self.on_refused is not None:
            self.on_refused(error)
        body = json.dumps(error.body()).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if error.status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        if error.status == 429 and isinstance(error.details, dict):
            headers.append((b"retry-after", str(error.details.get("retry_after_s", 1)).encode()))
        if close or error.status in (408, 413):  # the rest of the body is not read: end the connection
            headers.append((b"connection", b"close"))
        try:
            await send({"type": "http.response.start", "status": error.status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        except Exception:  # the response had started, or the client left: nothing more to say
            pass


def _headers(scope) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}


def _credential(headers: dict[str, str]) -> str | None:
    header = headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return headers.get("x-api-key") or None


def _is_json(headers: dict[str, str]) -> bool:
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    return media in ("", "application/json") or media.endswith("+json")


def _streams(path: str, headers: dict[str, str]) -> bool:
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    return bool(_STREAMED.match(path)) or (path == "/v1/moderations" and media == "multipart/form-data")


async def _read_body(receive, limit: int, timeout_s: float) -> bytes:
    deadline = time.monotonic() + timeout_s
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await _receive_before(receive, deadline, timeout_s)
        if message["type"] == "http.disconnect":
            raise ApiError(400, "client_disconnected", "the client closed the connection")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _bounded_receive(receive, limit: int, timeout_s: float):
    deadline = time.monotonic() + timeout_s
    seen = 0
    complete = False

    async def bounded():
        nonlocal seen, complete
        if complete:  # later calls only wait for the disconnect (streamed responses): no deadline
            return await receive()
        try:
            message = await _receive_before(receive, deadline, timeout_s)
        except ApiError:
            raise BodyTimeout() from None
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge()
            complete = not message.get("more_body", False)
        return message

    return bounded


async def _receive_before(receive, deadline: float, timeout_s: float) -> dict[str, Any]:
    remaining = deadline - time.monotonic()
    try:
        if remaining <= 0:
            raise asyncio.TimeoutError
        return await asyncio.wait_for(receive(), remaining)
    except asyncio.TimeoutError:
        raise _timed_out(timeout_s) from None


def _replay(body: bytes, receive):
    sent = False

    async def replayed():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: waits for the disconnect, as Starlette expects

    return replayed


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "request_too_large", f"the request body is over {limit} bytes")


def _timed_out(timeout_s: float) -> ApiError:
    return ApiError(408, "request_timeout", f"the request body did not arrive within {timeout_s:g} s")
