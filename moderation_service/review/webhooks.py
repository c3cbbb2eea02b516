"""Signed webhooks to the client that sent an item, with retries and a delivery log.

Events are written to ``webhook_deliveries`` in the same transaction as the
verdict (an outbox), so a crash can delay a notification but never lose it.
A dispatcher sends due deliveries; a failure is retried after
``backoff * 2**(attempt-1)`` seconds (capped) until ``webhook_max_attempts``.

The receiver verifies ``X-Moderation-Signature: sha256=<hex>``, the
HMAC-SHA256 of the raw body under its secret (see ``verify_signature``).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from moderation_service.db.tables import ModerationItem, WebhookDelivery, WebhookEndpoint
from moderation_service.review.clock import aware, utcnow
from moderation_service.review.config import ReviewSettings

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
    if not item.client or session.get(WebhookEndpoint, item.client) is None:
        return
    now = utcnow()
    body = json.dumps({"event": event, "item_id": item.id, "external_id": item.external_id,
                       "sent_for": now.isoformat(), **data}, sort_keys=True)
    session.add(WebhookDelivery(client=item.client, item_id=item.id, event=event, body=body, status="pending",
                                attempts=0, next_attempt_at=now, attempt_log=[], created_at=now))


def delivery_as_dict(row: WebhookDelivery) -> dict[str, Any]:
    return {"id": row.id, "item_id": row.item_id, "event": row.event, "status": row.status,
            "attempts": row.attempts, "attempt_log": row.attempt_log,
            "next_attempt_at": aware(row.next_attempt_at).isoformat(),
            "delivered_at": aware(row.delivered_at).isoformat() if row.delivered_at else None}


class WebhookDispatcher:
    def __init__(self, sessions: sessionmaker, settings: ReviewSettings) -> None:
        self._sessions = sessions
        self.settings = settings
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def deliver_due(self) -> int:
        """Sends every due delivery once; returns how many were attempted."""
        attempted = 0
        for delivery_id in self._due_ids():
            if self._take(delivery_id):
                self._attempt(delivery_id)
                attempted += 1
        return attempted

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self.settings.webhook_poll_s <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="webhook-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.deliver_due()
            except Exception:  # keep the dispatcher alive; the row stays due and is retried
                log.exception("webhook dispatch failed")
            self._wake.wait(self.settings.webhook_poll_s)
            self._wake.clear()

    def _due_ids(self) -> list[int]:
        with self._sessions() as session:
            return list(session.scalars(select(WebhookDelivery.id).where(
                WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= utcnow())
                .order_by(WebhookDelivery.next_attempt_at).limit(100)))

    def _take(self, delivery_id: int) -> bool:
        """Compare-and-set on next_attempt_at, so two dispatchers never send the same attempt."""
        now = utcnow()
        with self._sessions.begin() as session:
            return session.execute(
                update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
                                              WebhookDelivery.next_attempt_at <= now)
                .values(next_attempt_at=now + timedelta(seconds=IN_FLIGHT_S))
                .execution_options(synchronize_session=False)).rowcount == 1

    def _attempt(self, delivery_id: int) -> None:
        with self._sessions() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            endpoint = session.get(WebhookEndpoint, delivery.client)
        started = utcnow()
        entry: dict[str, Any] = {"attempt": delivery.attempts + 1, "at": started.isoformat()}
        ok = False
        if endpoint is None:
            entry["error"] = "the client has no webhook endpoint any more"
        else:
            body = delivery.body.encode()
            headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(endpoint.secret, body),
                       "X-Moderation-Event": delivery.event, "X-Moderation-Delivery": str(delivery.id)}
            try:
                response = httpx.post(endpoint.url, content=body, headers=headers,
                                      timeout=self.settings.webhook_timeout_s)
                entry["status_code"] = response.status_code
                ok = 200 <= response.status_code < 300
            except httpx.HTTPError as exc:
                entry["error"] = f"{type(exc).__name__}: {exc}"[:300]
        self._record(delivery_id, entry, ok)

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
