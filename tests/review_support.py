"""Helpers for the review tests: queued items written straight through the repository
(no models run), an app without classifiers, and logged-in reviewers."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient

from moderation_service.api.app import create_app
from moderation_service.db.tables import ModerationItem, ReviewQueueEntry
from moderation_service.settings import Settings

PASSWORD = "correct horse battery"


def queued_item(repository, *, queue="default", priority=0, phash=None, nsfw=0.5, client="tests",
                decision="review", age_s=0.0, image=None, image_store=None, prompt="a <PERSON> at the beach"):
    """Stores one item the policy sent to review, as the moderation service would."""
    created = datetime.now(timezone.utc) - timedelta(seconds=age_s)
    item_id = str(uuid.uuid4())
    sha = image_format = None
    if image is not None:
        import hashlib

        sha, image_format = hashlib.sha256(image).hexdigest(), "PNG"
        image_store.put(sha, image_format, image)
    signals = {"nsfw": {"probability": nsfw}, "toxicity": {"scores": {"toxic": 0.1}},
               "pii": {"entities": [{"type": "PERSON", "start": 2, "end": 5, "score": 0.9}]}}
    if phash:
        signals["image_hash"] = {"phash": phash, "dhash": phash, "near_duplicates": []}
    item = ModerationItem(
        id=item_id, external_id=f"ext-{item_id[:8]}", surface="default", created_at=created, decision=decision,
        policy_name="default", policy_sha256="p" * 64, prompt_redacted=prompt, image_sha256=sha,
        image_format=image_format, phash=phash, signals=signals,
        reasons=[{"rule_id": "nsfw-borderline", "description": "borderline", "action": "review", "values": {}}],
        model_versions={}, timings_ms={}, request_metadata={}, client=client)
    entry = ReviewQueueEntry(item_id=item_id, queue=queue, priority=priority, status="pending", enqueued_at=created) \
        if decision == "review" else None
    repository.save(item, entry)
    return item_id


def review_app(data_dir, database_url: str = "", **overrides):
    settings = Settings(data_dir=data_dir, database_url=database_url, policy_watch_interval_s=0, **overrides)
    return create_app(settings, {})


def login(app_client: TestClient, username: str, role: str = "reviewer") -> dict[str, str]:
    """Creates the user (if new) and returns headers carrying a fresh login token."""
    users = app_client.app.state.review.users
    if username not in {u["username"] for u in users.list()}:
        users.create(username, PASSWORD, role)
    response = app_client.post("/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


class ServedApp:
    """Serves an app with uvicorn on a free loopback port in a thread: real HTTP, real concurrency."""

    def __init__(self, app) -> None:
        import socket
        import threading

        import uvicorn

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "ServedApp":
        import time

        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
