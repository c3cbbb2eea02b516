"""One client cannot flood the appeals queue: open appeals are capped per client."""
from __future__ import annotations

from fastapi.testclient import TestClient

from conftest import with_key
from review_support import queued_item, review_app


def test_open_appeals_are_capped_per_client(tmp_path, monkeypatch):
    monkeypatch.setenv("MODERATION_REVIEW_MAX_OPEN_APPEALS_PER_CLIENT", "3")
    with TestClient(review_app(tmp_path)) as client:
        repository = client.app.state.storage.repository
        flooder = with_key(TestClient(client.app), client_name="flooder")
        other = with_key(TestClient(client.app), client_name="other")
        items = [queued_item(repository, client="flooder", decision="block") for _ in range(5)]
        statuses = [flooder.post(f"/v1/moderations/{item}/appeal", json={"reason": "please"}) for item in items]
        assert [s.status_code for s in statuses] == [201, 201, 201, 429, 429]
        assert statuses[3].json()["error"]["code"] == "too_many_open_appeals"
        assert "retry-after" in statuses[3].headers
        mine = queued_item(repository, client="other", decision="block")
        assert other.post(f"/v1/moderations/{mine}/appeal", json={"reason": "mine"}).status_code == 201
