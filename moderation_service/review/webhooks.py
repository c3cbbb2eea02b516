"""Signed webhooks to the client that sent an item, with retries and a delivery log.

Events are written to ``webhook_deliveries`` in the same transaction as the
verdict (an outbox), so a crash can delay a notification but never lose it.
A dispatcher sends due deliveries; a failure is retried after
``backoff * 2**(attempt-1)`` seconds (capped) until ``webhook_max_attempts``.

The receiver verifies ``X-Moderation-Signature: sha256=<hex>``, the
HMAC-SHA256 of the raw body under its secret (see ``verify_signature``).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import threading
from datetime import timedelta
from typing import Any

import httpcore
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from moderation_service.db.tables import ModerationItem, WebhookDelivery, WebhookEndpoint
from moderation_service.review.clock import aware, utcnow
from moderation_service.review.config import ReviewSettings
from moderation_service.review.webhook_targets import GuardedBackend, TargetRefused, check_url, parse_networks

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Moderation-Signature"
IN_FLIGHT_S = 60  # a claimed delivery is not picked up by another dispatcher for this long


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    return header is not None and hmac.compare_digest(sign(secret, body), header)


def register_endpoint(sessions: sessionmaker, client: str, url: str) -> str:
    """Sets the client's webhook URL and returns a new signing secret (shown once to the client)."""
    secret = "whsec_" + secrets.token_urlsafe(32)
    with sessions.begin() as session:
        endpoint = session.get(WebhookEndpoint, client)
        if endpoint is None:
            session.add(WebhookEndpoint(client=client, url=url, secret=secret, created_at=utcnow()))
        else:
            endpoint.url, endpoint.secret = url, secret
    return secret


def enqueue_event(session: Session, item: ModerationItem, event: str, data: dict[str, Any]) -> None:
    """Adds a delivery for the item's client, if it registered an endpoint, in the caller's transaction."""
    endpoint = session.get(WebhookEndpoint, item.client) if item.client else None
    if endpoint is None:
        return
    now = utcnow()
    body = json.dumps({"event": event, "item_id": item.id, "external_id": item.external_id,
                       "sent_for": now.isoformat(), **data}, sort_keys=True)
    session.add(WebhookDelivery(client=item.client, item_id=item.id, event=event, body=body, status="pending",
                                url=endpoint.url,
                                attempts=0, next_attempt_at=now, attempt_log=[], created_at=now))


def delivery_as_dict(row: WebhookDelivery) -> dict[str, Any]:
    return {"id": row.id, "item_id": row.item_id, "event": row.event, "status": row.status,
            "attempts": row.attempts, "attempt_log": row.attempt_log,
            "next_attempt_at": aware(row.next_attempt_at).isoformat(),
            "delivered_at": aware(row.delivered_at).isoformat() if row.delivered_at else None}


class WebhookDispatcher:
    """Sends due deliveries from its own thread and event loop.

    Each client's deliveries go in order on that client's own task, so a slow or
    silent receiver delays only its own client. Each attempt has one total deadline
    (``webhook_timeout_s``: connect, send and reply together), reads at most
    ``webhook_max_response_bytes`` of the reply, and goes only to a public address
    (moderation_service.review.webhook_targets), checked when it connects.
    """

    def __init__(self, sessions: sessionmaker, settings: ReviewSettings) -> None:
        self._sessions = sessions
        self.settings = settings
        self.allowed = parse_networks(settings.webhook_allowed_networks)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def deliver_due(self) -> int:
        """Sends every due delivery once (clients side by side); returns how many were attempted."""
        return asyncio.run(self._round())

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self.settings.webhook_poll_s <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), name="webhook-dispatcher",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    async def _round(self) -> int:
        due = await asyncio.to_thread(self._due_by_client, set())
        return sum(await asyncio.gather(*(self._deliver_client(ids) for ids in due.values())))

    async def _serve(self) -> None:
        running: dict[str, asyncio.Task] = {}
        while not self._stop.is_set():
            running = {client: task for client, task in running.items() if not task.done()}
            try:
                for client, ids in (await asyncio.to_thread(self._due_by_client, set(running))).items():
                    running[client] = asyncio.create_task(self._deliver_client(ids))
            except Exception:  # keep the dispatcher alive; the rows stay due and are retried
                log.exception("webhook dispatch failed")
            await asyncio.to_thread(self._wake.wait, self.settings.webhook_poll_s)
            self._wake.clear()
        for task in running.values():
            task.cancel()  # a claimed attempt is retried after IN_FLIGHT_S
        await asyncio.gather(*running.values(), return_exceptions=True)

    async def _deliver_client(self, delivery_ids: list[int]) -> int:
        attempted = 0
        for delivery_id in delivery_ids:
            if self._stop.is_set():
                break
            if await asyncio.to_thread(self._take, delivery_id):
                await self._attempt(delivery_id)
                attempted += 1
        return attempted

    def _due_by_client(self, busy: set[str]) -> dict[str, list[int]]:
        """Due deliveries of clients without a delivery in flight, oldest first, per client."""
        query = (select(WebhookDelivery.id, WebhookDelivery.client)
                 .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= utcnow())
                 .order_by(WebhookDelivery.next_attempt_at).limit(1000))
        if busy:
            query = query.where(WebhookDelivery.client.not_in(busy))
        by_client: dict[str, list[int]] = {}
        with self._sessions() as session:
            for delivery_id, client in session.execute(query):
                ids = by_client.setdefault(client, [])
                if len(ids) < 100:
                    ids.append(delivery_id)
        return by_client

    def _take(self, delivery_id: int) -> bool:
        """Compare-and-set on next_attempt_at, so two dispatchers never send the same attempt."""
        now = utcnow()
        with self._sessions.begin() as session:
            return session.execute(
                update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
                                              WebhookDelivery.next_attempt_at <= now)
                .values(next_attempt_at=now + timedelta(seconds=IN_FLIGHT_S))
                .execution_options(synchronize_session=False)).rowcount == 1

    def _load(self, delivery_id: int) -> tuple[WebhookDelivery, WebhookEndpoint | None]:
        with self._sessions() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            return delivery, session.get(WebhookEndpoint, delivery.client)

    async def _attempt(self, delivery_id: int) -> None:
        delivery, endpoint = await asyncio.to_thread(self._load, delivery_id)
        started = utcnow()
        entry: dict[str, Any] = {"attempt": delivery.attempts + 1, "at": started.isoformat()}
        ok = False
        if endpoint is None:
            entry["error"] = "the client has no webhook endpoint any more"
        else:
            url = delivery.url or endpoint.url  # the URL the delivery was created for (older rows: the current one)
            body = delivery.body.encode()
            headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(endpoint.secret, body),
                       "X-Moderation-Event": delivery.event, "X-Moderation-Delivery": str(delivery.id),
                       "User-Agent": "moderation-webhooks"}
            timeout = self.settings.webhook_timeout_s
            try:
                check_url(url, self.allowed)
                status = await asyncio.wait_for(self._post(url, body, headers), timeout)
                entry["status_code"] = status
                ok = 200 <= status < 300
            except TargetRefused as exc:
                entry["error"] = f"refused: {exc}"[:300]
            except asyncio.TimeoutError:
                entry["error"] = f"no complete answer within {timeout:g} s"
            except Exception as exc:  # httpcore's connect, protocol and network errors
                entry["error"] = f"{type(exc).__name__}: {exc}"[:300]
        await asyncio.to_thread(self._record, delivery_id, entry, ok)

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """The reply's status; at most webhook_max_response_bytes of its body are read, then the connection closes."""
        timeout = self.settings.webhook_timeout_s
        extensions = {"timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}}
        async with httpcore.AsyncConnectionPool(network_backend=GuardedBackend(self.allowed), max_connections=1,
                                                retries=0) as pool:
            async with pool.stream("POST", url, headers=headers, content=body, extensions=extensions) as response:
                read = 0
                async for chunk in response.aiter_stream():
                    read += len(chunk)
                    if read >= self.settings.webhook_max_response_bytes:
                        break
                return response.status

    def _record(self, delivery_id: int, entry: dict[str, Any], ok: bool) -> None:
        now = utcnow()
        with self._sessions.begin() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            delivery.attempts += 1
            delivery.attempt_log = [*delivery.attempt_log, entry]
            if ok:
                delivery.status, delivery.delivered_at = "delivered", now
            elif delivery.attempts >= self.settings.webhook_max_attempts:
                delivery.status = "failed"
            else:
                delay = min(self.settings.webhook_backoff_s * 2 ** (delivery.attempts - 1),
                            self.settings.webhook_backoff_max_s)
                delivery.next_attempt_at = now + timedelta(seconds=delay)
                entry["retry_in_s"] = delay
