"""The review API additions the console uses: reason fit, skips in order, item claims, move,
escalate, ungroup, legal reports, the client's earlier items, blur preferences, bank opt-out, stats."""
from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageChops, ImageStat

from conftest import encode, synthetic_scene, with_key
from moderation_service.banks.feedback import REVIEWER_REJECTED_BANK
from moderation_service.db.tables import ModerationItem
from review_support import login, queued_item, review_app


@pytest.fixture
def client(tmp_path):
    with TestClient(review_app(tmp_path / "data")) as test_client:
        yield test_client


@pytest.fixture
def storage(client):
    return client.app.state.storage


def claim(client, headers, queue="default"):
    response = client.post("/v1/review/claim", json={"queue": queue}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def decide(client, headers, item_id, verdict, reason, key, **extra):
    return client.post(f"/v1/review/{item_id}/verdict", headers=headers,
                       json={"verdict": verdict, "reason_code": reason, "key": key, **extra})


def test_a_reject_needs_a_reason_that_names_a_violation(client, storage):
    item_id = queued_item(storage.repository)
    alice = login(client, "alice")
    claim(client, alice)
    for fine in ("policy_ok", "false_positive"):
        refused = decide(client, alice, item_id, "reject", fine, f"k-{fine}")
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "reason_code_mismatch"
    config = client.get("/v1/review/config", headers=alice).json()
    assert "policy_ok" not in config["reason_codes_by_verdict"]["reject"]
    assert "policy_ok" in config["reason_codes_by_verdict"]["approve"]
    assert decide(client, alice, item_id, "reject", "spam", "k-ok").status_code == 200


def test_skipping_every_item_walks_the_queue_oldest_skip_first(client, storage):
    ids = [queued_item(storage.repository, age_s=30 - i) for i in range(3)]
    alice = login(client, "alice")
    seen = []
    for _ in range(3):
        got = claim(client, alice)
        assert got["only_skipped"] is False
        seen.append(got["item"]["id"])
        client.post(f"/v1/review/{got['item']['id']}/skip", headers=alice)
    assert seen == ids
    again = []
    for _ in range(4):  # all skipped now: each comes back once, in the order skipped, then the first again
        got = claim(client, alice)
        assert got["only_skipped"] is True
        again.append(got["item"]["id"])
        client.post(f"/v1/review/{got['item']['id']}/skip", headers=alice)
    assert again == [*ids, ids[0]]


def test_claim_one_item_by_id_and_not_one_someone_else_holds(client, storage):
    first, second = queued_item(storage.repository, age_s=10), queued_item(storage.repository)
    alice, bob = login(client, "alice"), login(client, "bob")
    got = client.post(f"/v1/review/{second}/claim", headers=alice)
    assert got.status_code == 200 and got.json()["item"]["id"] == second
    assert client.post(f"/v1/review/{second}/claim", headers=alice).status_code == 200  # already ours
    taken = client.post(f"/v1/review/{second}/claim", headers=bob)
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "not_claimable"
    assert claim(client, bob)["item"]["id"] == first


def test_move_escalate_and_ungroup_are_audited_and_escalations_are_for_seniors(client, storage):
    a, b, c = (queued_item(storage.repository, age_s=10 - i) for i in range(3))
    alice, senior = login(client, "alice"), login(client, "sam", "senior")
    claim(client, alice)
    moved = client.post(f"/v1/review/{a}/move", headers=alice, json={"queue": "spam", "note": "bulk spam"})
    assert moved.status_code == 200 and storage.repository.review_entry(a).queue == "spam"
    claim(client, alice)
    assert client.post(f"/v1/review/{b}/escalate", headers=alice, json={"note": "unsure"}).status_code == 200
    assert storage.repository.review_entry(b).queue == "escalations"
    refused = client.post("/v1/review/claim", json={"queue": "escalations"}, headers=alice)
    assert refused.status_code == 403
    assert claim(client, senior, "escalations")["item"]["id"] == b
    claim(client, alice)
    assert client.post(f"/v1/review/{c}/ungroup", headers=alice, json={"group_of": a}).status_code == 200
    assert storage.repository.review_entry(c).status == "pending"
    actions = {e["item_id"]: e for e in client.get("/v1/review/history", headers=alice).json()["entries"]
               if e["action"] in ("move", "escalate", "ungroup")}
    assert actions[a]["details"]["note"] == "bulk spam" and actions[a]["new_state"]["queue"] == "spam"
    assert actions[b]["action"] == "escalate" and actions[c]["details"]["group_of"] == a
    assert client.post(f"/v1/review/{a}/move", headers=alice, json={"queue": "appeals"}).status_code == 422


def test_legal_report_only_for_reportable_items_audited_once_and_exported(client, storage):
    plain = queued_item(storage.repository, age_s=10)
    marked = queued_item(storage.repository)
    with storage.session_factory.begin() as session:
        item = session.get(ModerationItem, marked)
        item.reasons = [{**item.reasons[0], "rule_id": "sexual-minors", "reportable": True}]
    alice, senior = login(client, "alice"), login(client, "sam", "senior")
    got = claim(client, alice)
    assert got["item"]["id"] == plain and got["item"]["reportable"] is False
    refused = client.post(f"/v1/review/{plain}/legal-report", headers=alice, json={"note": "x"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_reportable"
    got = claim(client, alice)
    assert got["item"]["reportable"] is True
    done = client.post(f"/v1/review/{marked}/legal-report", headers=alice, json={"note": "to the hotline"})
    assert done.status_code == 201 and done.json()["rule_ids"] == ["sexual-minors"]
    again = client.post(f"/v1/review/{marked}/legal-report", headers=alice, json={})
    assert again.json()["error"]["code"] == "already_reported"
    assert client.get("/v1/review/legal-reports", headers=alice).status_code == 403
    [report] = client.get("/v1/review/legal-reports", headers=senior).json()["reports"]
    assert report["item_id"] == marked and report["reported_by"] == "user:alice" and report["note"] == "to the hotline"


def test_the_same_clients_earlier_items_with_their_decisions(client, storage):
    older = queued_item(storage.repository, client="feed", age_s=100, prompt="older one")
    queued_item(storage.repository, client="other", age_s=50)
    current = queued_item(storage.repository, client="feed", age_s=10)
    queued_item(storage.repository, client="feed", age_s=1)  # later: not "earlier"
    alice = login(client, "alice")
    claim(client, alice)  # the oldest: decide it
    decide(client, alice, older, "reject", "spam", "k1")
    items = client.get(f"/v1/review/{current}/client-items", headers=alice).json()["items"]
    assert [i["id"] for i in items] == [older]
    assert items[0]["verdict"] == "reject" and items[0]["prompt_redacted"] == "older one"


def test_blur_strength_per_reviewer_with_an_organisation_default(client, storage):
    item_id = queued_item(storage.repository, image=encode(synthetic_scene(3)), image_store=storage.image_store)
    alice, bob = login(client, "alice"), login(client, "bob")
    assert client.get("/v1/review/preferences", headers=alice).json()["blur_radius"] == 18
    assert client.put("/v1/review/preferences", headers=alice, json={"blur_radius": 61}).status_code == 422
    assert client.put("/v1/review/preferences", headers=alice, json={"blur_radius": 4}).json()["blur_radius"] == 4

    original = synthetic_scene(3).convert("L")
    original.thumbnail((512, 512))

    def distance_from_original(headers):
        data = client.get(f"/v1/review/{item_id}/image", headers=headers).content
        shown = Image.open(io.BytesIO(data)).convert("L").resize(original.size)
        return ImageStat.Stat(ImageChops.difference(shown, original)).mean[0]

    assert distance_from_original(alice) < distance_from_original(bob)  # less blur: closer to the picture
    assert client.get("/v1/review/preferences", headers=bob).json()["own_blur_radius"] is None
    client.put("/v1/review/preferences", headers=alice, json={"blur_radius": None})
    assert client.get("/v1/review/preferences", headers=alice).json()["blur_radius"] == 18


def test_a_reject_can_opt_out_of_the_reviewer_rejected_bank(client, storage):
    kept = queued_item(storage.repository, image=encode(synthetic_scene(4)), image_store=storage.image_store, age_s=5)
    banked = queued_item(storage.repository, image=encode(synthetic_scene(6)), image_store=storage.image_store)
    with storage.session_factory.begin() as session:  # sha256 is enough to bank
        for item_id in (kept, banked):
            session.get(ModerationItem, item_id).phash = None
    alice = login(client, "alice")
    admin = with_key(TestClient(client.app), client_name="ops", scopes=("admin",))
    claim(client, alice)
    assert decide(client, alice, kept, "reject", "spam", "k1", bank=False).status_code == 200
    assert admin.get(f"/v1/banks/{REVIEWER_REJECTED_BANK}").status_code == 404
    claim(client, alice)
    assert decide(client, alice, banked, "reject", "spam", "k2").status_code == 200
    assert admin.get(f"/v1/banks/{REVIEWER_REJECTED_BANK}").json()["entries"] == 1


def test_stats_throughput_reviewer_agreement_and_appeal_overturns(client, storage):
    first, second = queued_item(storage.repository, client="feed", age_s=10), queued_item(storage.repository)
    alice, sam = login(client, "alice"), login(client, "sam", "senior")
    claim(client, alice)
    decide(client, alice, first, "reject", "spam", "a1")
    claim(client, alice)
    decide(client, alice, second, "approve", "policy_ok", "a2")
    upstream = with_key(TestClient(client.app), client_name="feed")
    assert upstream.post(f"/v1/moderations/{first}/appeal", json={"reason": "it is fine"}).status_code == 201
    claim(client, sam, "appeals")
    decide(client, sam, first, "approve", "false_positive", "s1")
    stats = client.get("/v1/review/stats", headers=alice).json()
    assert stats["throughput"]["user:alice"]["decisions"] == 2
    assert stats["throughput"]["user:alice"]["median_handling_s"] >= 0
    assert stats["reviewer_agreement"] == {"items_decided_twice": 1, "agree": 0, "rate": 0.0}
    assert stats["appeals"]["decided"] == 1 and stats["appeals"]["overturn_rate"] == 1.0


def test_item_view_carries_the_policy_thresholds_and_whether_a_raw_prompt_exists(client, storage):
    item_id = queued_item(storage.repository)
    alice = login(client, "alice")
    view = client.get(f"/v1/review/{item_id}", headers=alice).json()
    nsfw = view["thresholds"]["nsfw.probability"]
    # nsfw-borderline reviews from 0.40, nsfw-explicit blocks from 0.85; sexualised-minor also reads
    # nsfw.probability (0.40, with a minor indicator), so the bar carries its mark too.
    marks = [(t["action"], t["value"], t["rule_id"]) for t in nsfw]
    assert {("review", 0.4, "nsfw-borderline"), ("block", 0.85, "nsfw-explicit")} <= set(marks), marks
    assert [value for _, value, _ in marks] == sorted(value for _, value, _ in marks)
    assert view["raw_prompt_stored"] is False and view["client"] == "tests"
    assert view["review"]["enqueued_at"]
