"""Feedback to upstream: appeals, signed webhooks with retries, and the labelled-data export."""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from conftest import with_key
from moderation_service.review.export import export_dataset
from moderation_service.review.webhooks import SIGNATURE_HEADER, verify_signature
from review_support import login, queued_item, review_app


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers 500 to the first ``failures`` requests."""

    def __init__(self, failures: int) -> None:
        self.received: list[tuple[bytes, dict]] = []
        self.failures = failures
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((body, dict(self.headers)))
                self.send_response(500 if len(receiver.received) <= receiver.failures else 204)
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def client(tmp_path, monkeypatch):
    monkeypatch.setenv("MODERATION_REVIEW_WEBHOOK_BACKOFF_S", "0.2")
    monkeypatch.setenv("MODERATION_REVIEW_WEBHOOK_POLL_S", "0.05")
    # The receivers here listen on loopback, which only this allow-list lets webhooks reach.
    monkeypatch.setenv("MODERATION_REVIEW_WEBHOOK_ALLOWED_NETWORKS", '["127.0.0.0/8"]')
    with TestClient(review_app(tmp_path / "data")) as test_client:
        yield test_client


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_signed_webhook_is_retried_with_backoff_until_delivered(client):
    receiver = Receiver(failures=2)
    upstream = with_key(TestClient(client.app), client_name="feed")
    secret = upstream.put("/v1/webhooks/endpoint", json={"url": receiver.url}).json()["secret"]
    item_id = queued_item(client.app.state.storage.repository, client="feed")
    alice = login(client, "alice")
    client.post("/v1/review/claim", json={"queue": "default"}, headers=alice)
    client.post(f"/v1/review/{item_id}/verdict", headers=alice,
                json={"verdict": "reject", "reason_code": "nudity", "key": "v1"})
    try:
        assert wait_for(lambda: len(receiver.received) >= 3), receiver.received
    finally:
        receiver.close()
    for body, headers in receiver.received:
        assert verify_signature(secret, body, headers[SIGNATURE_HEADER])
        assert not verify_signature("whsec_wrong", body, headers[SIGNATURE_HEADER])
    event = json.loads(receiver.received[-1][0])
    assert event["event"] == "review.decided" and event["item_id"] == item_id and event["final_decision"] == "block"
    assert wait_for(lambda: upstream.get("/v1/webhooks/deliveries").json()["deliveries"][0]["status"] == "delivered")
    log = upstream.get("/v1/webhooks/deliveries").json()["deliveries"][0]
    assert log["attempts"] == 3
    assert [a.get("status_code") for a in log["attempt_log"]] == [500, 500, 204]
    assert log["attempt_log"][1]["retry_in_s"] == pytest.approx(2 * log["attempt_log"][0]["retry_in_s"])


def test_a_dead_endpoint_is_given_up_after_the_last_attempt(client):
    client.app.state.review.settings.webhook_max_attempts = 2
    upstream = with_key(TestClient(client.app), client_name="feed")
    upstream.put("/v1/webhooks/endpoint", json={"url": "http://127.0.0.1:9/nothing-listens"})
    item_id = queued_item(client.app.state.storage.repository, client="feed")
    alice = login(client, "alice")
    client.post("/v1/review/claim", json={"queue": "default"}, headers=alice)
    client.post(f"/v1/review/{item_id}/verdict", headers=alice,
                json={"verdict": "approve", "reason_code": "policy_ok", "key": "v1"})
    assert wait_for(lambda: upstream.get("/v1/webhooks/deliveries").json()["deliveries"][0]["status"] == "failed")
    assert all("error" in a for a in upstream.get("/v1/webhooks/deliveries").json()["deliveries"][0]["attempt_log"])


def test_appeal_goes_to_seniors_and_its_outcome_is_audited_and_sent(client):
    receiver = Receiver(failures=0)
    repository = client.app.state.storage.repository
    upstream = with_key(TestClient(client.app), client_name="feed")
    secret = upstream.put("/v1/webhooks/endpoint", json={"url": receiver.url}).json()["secret"]
    item_id = queued_item(repository, client="feed")
    alice, senior = login(client, "alice"), login(client, "sam", role="senior")
    assert upstream.post(f"/v1/moderations/{item_id}/appeal", json={"reason": "it is art"}).json()["error"]["code"] \
        == "review_pending"
    client.post("/v1/review/claim", json={"queue": "default"}, headers=alice)
    client.post(f"/v1/review/{item_id}/verdict", headers=alice,
                json={"verdict": "reject", "reason_code": "nudity", "key": "first"})
    other_client = with_key(TestClient(client.app), client_name="someone-else")
    assert other_client.post(f"/v1/moderations/{item_id}/appeal", json={"reason": "x"}).status_code == 404
    appealed = upstream.post(f"/v1/moderations/{item_id}/appeal", json={"reason": "it is art"})
    assert appealed.status_code == 201, appealed.text
    assert upstream.post(f"/v1/moderations/{item_id}/appeal", json={"reason": "again"}).status_code == 409
    assert upstream.get(f"/v1/moderations/{item_id}").json()["final_decision"] == "block"  # in force until decided
    assert client.post("/v1/review/claim", json={"queue": "appeals"}, headers=alice).status_code == 403
    claimed = client.post("/v1/review/claim", json={"queue": "appeals"}, headers=senior).json()
    assert claimed["item"]["id"] == item_id
    outcome = client.post(f"/v1/review/{item_id}/verdict", headers=senior,
                          json={"verdict": "approve", "reason_code": "false_positive", "key": "appeal-1"})
    assert outcome.json()["decided"][0]["appeal_outcome"] == "overturned"
    assert upstream.get(f"/v1/moderations/{item_id}").json()["final_decision"] == "allow"
    detail = client.get(f"/v1/review/{item_id}", headers=senior).json()
    assert [row["action"] for row in detail["audit"]][:2] == ["appeal_verdict", "claim"]
    assert detail["appeals"][0]["outcome"] == "overturned"
    try:
        assert wait_for(lambda: any(json.loads(b)["event"] == "appeal.decided" for b, _ in receiver.received))
    finally:
        receiver.close()
    body, headers = next((b, h) for b, h in receiver.received if json.loads(b)["event"] == "appeal.decided")
    assert verify_signature(secret, body, headers[SIGNATURE_HEADER])
    assert json.loads(body)["appeal_outcome"] == "overturned"


def test_export_writes_labelled_jsonl_and_a_manifest(client, tmp_path):
    from conftest import encode, synthetic_scene

    repository, store = client.app.state.storage.repository, client.app.state.storage.image_store
    with_image = queued_item(repository, image=encode(synthetic_scene(2)), image_store=store)
    prompt_only = queued_item(repository)
    undecided = queued_item(repository)
    alice = login(client, "alice")
    for item_id, verdict in ((with_image, "reject"), (prompt_only, "approve")):
        claimed = client.post("/v1/review/claim", json={"queue": "default"}, headers=alice).json()["item"]["id"]
        client.post(f"/v1/review/{claimed}/verdict", headers=alice,
                    json={"verdict": verdict if claimed == item_id else "approve", "reason_code": "spam",
                          "key": claimed})
    since = datetime.now(timezone.utc) - timedelta(minutes=5)
    manifest = export_dataset(client.app.state.storage.session_factory, store, tmp_path / "export", since)
    lines = [json.loads(line) for line in (tmp_path / "export" / "items.jsonl").read_text().splitlines()]
    assert manifest["count"] == 2 and len(lines) == 2
    assert undecided not in {line["id"] for line in lines}
    by_id = {line["id"]: line for line in lines}
    assert by_id[with_image]["image_path"].endswith(".png")
    assert by_id[prompt_only]["image_path"] is None
    for line in lines:
        assert line["prompt_redacted"] == "a <PERSON> at the beach" and "prompt_raw" not in line
        assert line["policy"]["decision"] == "review" and line["label"]["verdict"] in ("approve", "reject")
        assert "nsfw" in line["signals"]
    written = json.loads((tmp_path / "export" / "manifest.json").read_text())
    assert written["files"]["items.jsonl"]["sha256"] == manifest["files"]["items.jsonl"]["sha256"]
    later = export_dataset(client.app.state.storage.session_factory, store, tmp_path / "none",
                           datetime.now(timezone.utc) + timedelta(minutes=1))
    assert later["count"] == 0
