"""The review API on SQLite: claims, leases, verdicts, idempotency, groups, roles and the audit log."""
from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from conftest import with_key
from moderation_service.db.tables import ReviewUserToken
from review_support import PASSWORD, login, queued_item, review_app


@pytest.fixture
def client(tmp_path):
    with TestClient(review_app(tmp_path / "data")) as test_client:
        yield test_client


@pytest.fixture
def repository(client):
    return client.app.state.storage.repository


def claim(client, headers, queue="default"):
    response = client.post("/v1/review/claim", json={"queue": queue}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def decide(client, headers, item_id, verdict="reject", key="k1", **extra):
    return client.post(f"/v1/review/{item_id}/verdict", headers=headers,
                       json={"verdict": verdict, "reason_code": "nudity", "note": "n", "key": key, **extra})


def test_claim_orders_by_priority_then_risk_then_age(client, repository):
    old_low = queued_item(repository, priority=0, nsfw=0.5, age_s=100)
    risky = queued_item(repository, priority=0, nsfw=0.9, age_s=10)
    urgent = queued_item(repository, priority=3, nsfw=0.1, age_s=1)
    newer_low = queued_item(repository, priority=0, nsfw=0.5, age_s=5)
    alice = login(client, "alice")
    order = [claim(client, alice)["item"]["id"] for _ in range(4)]
    assert order == [urgent, risky, old_low, newer_low]
    assert claim(client, alice)["item"] is None


def test_no_two_reviewers_hold_the_same_item_and_others_cannot_decide(client, repository):
    item_id = queued_item(repository)
    alice, bob = login(client, "alice"), login(client, "bob")
    assert claim(client, alice)["item"]["id"] == item_id
    assert claim(client, bob)["item"] is None
    refused = decide(client, bob, item_id)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_lease_holder"
    assert client.post(f"/v1/review/{item_id}/renew", headers=bob).status_code == 409


def test_expired_lease_returns_the_item_and_the_old_holder_loses_it(client, repository):
    client.app.state.review.settings.lease_s = 0.3
    item_id = queued_item(repository)
    alice, bob = login(client, "alice"), login(client, "bob")
    claim(client, alice)
    time.sleep(0.5)
    taken = claim(client, bob)
    assert taken["item"]["id"] == item_id
    assert decide(client, alice, item_id).status_code == 409
    assert client.post(f"/v1/review/{item_id}/renew", headers=alice).status_code == 409
    trail = [row["action"] for row in client.get(f"/v1/review/{item_id}", headers=bob).json()["audit"]]
    assert trail[:3] == ["claim", "lease_expired", "claim"]


def test_renewal_keeps_the_item_past_the_first_lease(client, repository):
    client.app.state.review.settings.lease_s = 0.6
    item_id = queued_item(repository)
    alice, bob = login(client, "alice"), login(client, "bob")
    claim(client, alice)
    for _ in range(3):
        time.sleep(0.3)
        assert client.post(f"/v1/review/{item_id}/renew", headers=alice).status_code == 200
    assert claim(client, bob)["item"] is None
    assert decide(client, alice, item_id).status_code == 200


def test_verdict_is_idempotent_by_key_and_updates_the_final_decision(client, repository):
    item_id = queued_item(repository, client="feed")
    calls = []
    client.app.state.verdict_listeners.append(lambda item, verdict: calls.append((item, verdict)))
    alice = login(client, "alice")
    claim(client, alice)
    first = decide(client, alice, item_id, key="verdict-1")
    assert first.status_code == 200, first.text
    assert first.json()["decided"] == [{"item_id": item_id, "final_decision": "block", "queue": "default"}]
    again = decide(client, alice, item_id, key="verdict-1")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert calls == [(item_id, "reject")]  # the repeat was a no-op
    assert decide(client, alice, item_id, verdict="approve", key="verdict-1").json()["error"]["code"] == \
        "idempotency_key_reused"
    assert decide(client, alice, item_id, key="verdict-2").status_code == 409  # decided already
    verdicts = [r for r in client.get(f"/v1/review/{item_id}", headers=alice).json()["audit"] if r["action"] == "verdict"]
    assert len(verdicts) == 1
    row = verdicts[0]
    assert row["actor"] == "user:alice" and row["policy_sha256"] == "p" * 64
    assert row["previous_state"]["status"] == "claimed" and row["new_state"]["final_decision"] == "block"
    # Upstream sees the human decision next to the policy's.
    upstream = with_key(TestClient(client.app), client_name="feed")
    body = upstream.get(f"/v1/moderations/{item_id}").json()
    assert body["decision"] == "review" and body["final_decision"] == "block"
    assert body["review"]["status"] == "decided" and body["review"]["verdict"] == "reject"


def test_a_failing_listener_does_not_lose_the_verdict(client, repository):
    item_id = queued_item(repository)

    def broken(_item_id, _verdict):
        raise RuntimeError("bank unavailable")

    client.app.state.verdict_listeners.insert(0, broken)
    alice = login(client, "alice")
    claim(client, alice)
    assert decide(client, alice, item_id, verdict="approve").status_code == 200
    assert repository.review_entry(item_id).final_decision == "allow"


def test_near_duplicates_are_claimed_together_and_one_verdict_decides_the_group(client, repository):
    first = queued_item(repository, phash="ffff0000ffff0000", nsfw=0.9)
    twin = queued_item(repository, phash="ffff0000ffff0001")
    queued_item(repository, phash="0000ffff0000ffff")  # far away: not in the group
    alice = login(client, "alice")
    claimed = claim(client, alice)
    assert claimed["item"]["id"] == first
    assert [(g["id"], g["distance"]) for g in claimed["group"]] == [(twin, 1)]
    decided = decide(client, alice, first, also_decide=[twin]).json()["decided"]
    assert {d["item_id"] for d in decided} == {first, twin}
    twin_audit = client.get(f"/v1/review/{twin}", headers=alice).json()["audit"]
    assert twin_audit[0]["action"] == "verdict" and twin_audit[0]["details"]["group_of"] == first


def test_skip_and_release_give_the_item_back(client, repository):
    skipped, other = queued_item(repository, nsfw=0.9), queued_item(repository, nsfw=0.1)
    alice = login(client, "alice")
    assert claim(client, alice)["item"]["id"] == skipped
    assert client.post(f"/v1/review/{skipped}/skip", headers=alice).status_code == 200
    assert claim(client, alice)["item"]["id"] == other  # a skipped item comes last for its skipper
    assert client.post(f"/v1/review/{other}/release", headers=alice).status_code == 200
    assert claim(client, login(client, "bob"))["item"]["id"] == skipped


def test_reveal_and_image_access_are_audited_and_images_are_blurred_by_default(client, repository):
    from conftest import encode, synthetic_scene

    store = client.app.state.storage.image_store
    item_id = queued_item(repository, image=encode(synthetic_scene(1)), image_store=store)
    alice = login(client, "alice")
    blurred = client.get(f"/v1/review/{item_id}/image", headers=alice)
    assert blurred.status_code == 200 and blurred.headers["content-type"] == "image/jpeg"
    assert client.post(f"/v1/review/{item_id}/reveal", json={"what": "prompt"}, headers=alice).json() == \
        {"prompt": "a <PERSON> at the beach", "raw_available": False}
    original = client.get(f"/v1/review/{item_id}/image?original=true", headers=alice)
    assert original.content == encode(synthetic_scene(1))
    actions = [row["action"] for row in client.get(f"/v1/review/{item_id}", headers=alice).json()["audit"]]
    assert actions == ["reveal_image", "reveal_prompt"]


def test_logins_roles_and_hashed_tokens(client):
    assert client.post("/v1/auth/login", json={"username": "nobody", "password": PASSWORD}).status_code == 401
    alice = login(client, "alice")
    assert client.post("/v1/auth/login", json={"username": "alice", "password": "wrong password"}).status_code == 401
    assert client.get("/v1/auth/me", headers=alice).json()["actor"] == "user:alice"
    token = alice["Authorization"].split()[1]
    with client.app.state.storage.session_factory() as session:
        stored = list(session.scalars(select(ReviewUserToken.token_sha256)))
    assert token not in stored and len(stored[0]) == 64
    # A reviewer may not claim appeals nor create users; an admin may.
    assert client.post("/v1/review/claim", json={"queue": "appeals"}, headers=alice).status_code == 403
    assert client.post("/v1/review/users", headers=alice,
                       json={"username": "eve", "password": PASSWORD, "role": "admin"}).status_code == 403
    admin = login(client, "root", role="admin")
    assert client.post("/v1/review/users", headers=admin,
                       json={"username": "eve", "password": PASSWORD, "role": "senior"}).status_code == 201
    assert client.post("/v1/auth/logout", headers=alice).json() == {"revoked": True}
    assert client.get("/v1/auth/me", headers=alice).status_code == 401
    assert client.get("/v1/review/queues").status_code == 401


def test_verdicts_are_validated(client, repository):
    item_id = queued_item(repository)
    alice = login(client, "alice")
    claim(client, alice)
    bad_reason = client.post(f"/v1/review/{item_id}/verdict", headers=alice,
                             json={"verdict": "reject", "reason_code": "made-up", "key": "x"})
    assert bad_reason.json()["error"]["code"] == "invalid_reason_code"
    no_key = client.post(f"/v1/review/{item_id}/verdict", headers=alice, json={"verdict": "reject", "reason_code": "spam"})
    assert no_key.json()["error"]["code"] == "invalid_idempotency_key"
    assert client.post(f"/v1/review/{item_id}/verdict", headers=alice,
                       json={"verdict": "maybe", "reason_code": "spam", "key": "x"}).status_code == 422


def test_the_audit_log_is_append_only(client, repository):
    item_id = queued_item(repository)
    alice = login(client, "alice")
    claim(client, alice)
    engine = client.app.state.storage.session_factory.kw["bind"]
    for statement in ("UPDATE review_audit SET actor = 'someone else'", "DELETE FROM review_audit"):
        with pytest.raises(DatabaseError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(text(statement))
    assert client.get(f"/v1/review/{item_id}", headers=alice).json()["audit"][0]["actor"] == "user:alice"


def test_overview_history_and_stats(client, repository):
    ids = [queued_item(repository, age_s=7200) for _ in range(3)]
    alice = login(client, "alice")
    for index, expected in enumerate(ids):
        item = claim(client, alice)["item"]["id"]
        decide(client, alice, item, verdict="reject" if index else "approve", key=f"k{index}")
    queued_item(repository, age_s=7200)
    overview = client.get("/v1/review/queues", headers=alice).json()
    assert overview["my_decisions_today"] == 3
    assert overview["queues"][0]["pending"] == 1 and overview["queues"][0]["sla_breached"] is True
    history = client.get("/v1/review/history", params={"reviewer": "alice", "verdict": "reject"}, headers=alice)
    assert len(history.json()["entries"]) == 2
    external = repository.get(ids[0]).external_id
    assert {e["item_id"] for e in client.get("/v1/review/history", params={"q": external},
                                             headers=alice).json()["entries"]} == {ids[0]}
    stats = client.get("/v1/review/stats", headers=alice).json()
    assert stats["per_reviewer"] == {"user:alice": {"approve": 1, "reject": 2}}
    assert stats["time_to_decision_s"]["count"] == 3 and stats["time_to_decision_s"]["median"] >= 7200
