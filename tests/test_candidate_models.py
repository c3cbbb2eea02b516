"""Candidate models: configuration, shadow scoring off the response path, the report against
reviewers' labels, and hot promotion. The candidate here is a second instance of the real text
model on the torch runtime (the end-to-end test with a retrained candidate is in
tests/test_model_improvement.py)."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from classifiers.registry import ClassifierConfigError, build_candidates, build_classifiers
from conftest import with_key
from moderation_service.api.app import create_app
from moderation_service.candidates.promotion import PromotionRefused, promote
from moderation_service.candidates.report import compare
from moderation_service.candidates.shadow import ShadowScorer
from moderation_service.db.tables import ShadowScore
from moderation_service.reviewed_labels import load_reason_codes
from moderation_service.settings import Settings
from review_support import login

HASHES = {"class": "classifiers.image_hash.ImageHashClassifier"}


def test_a_candidate_must_name_the_live_signal_it_would_replace():
    live = {"image_hash": HASHES}
    built = build_candidates({**live, "hash-candidate": {**HASHES, "shadow": True, "replaces": "image_hash"}})
    assert list(built) == ["hash-candidate"] and built["hash-candidate"][0] == "image_hash"
    assert list(build_classifiers({**live, "hash-candidate": {**HASHES, "shadow": True, "replaces": "image_hash"}})) \
        == ["image_hash"]
    with pytest.raises(ClassifierConfigError, match="replaces"):
        build_candidates({**live, "orphan": {**HASHES, "shadow": True}})
    with pytest.raises(ClassifierConfigError, match="produces signal 'image_hash', not 'pdq'"):
        build_candidates({**live, "pdq": {"class": "classifiers.pdq_hash.PdqHashClassifier"},
                          "wrong": {**HASHES, "shadow": True, "replaces": "pdq"}})


def test_the_shadow_queue_is_bounded_and_counts_what_it_drops(tmp_path):
    class NoRoster:
        def shadows(self):
            return [("x", "toxicity", object())]

    scorer = ShadowScorer(NoRoster(), sessions=None, queue_size=2, batch_size=4)  # never started
    for index in range(5):
        scorer.submit(f"item-{index}", "a prompt", None)
    assert scorer.counts["dropped"] == 3


@pytest.fixture(scope="module")
def torch_candidate():
    from classifiers.toxicity import ToxicityClassifier

    return ToxicityClassifier(runtime="torch")


@pytest.fixture
def client(tmp_path, real_classifiers, torch_candidate, monkeypatch):
    monkeypatch.setenv("MODERATION_QUALITY_SAMPLE_RATE", "1.0")
    monkeypatch.setenv("MODERATION_MODELS_WATCH_INTERVAL_S", "0")  # the test syncs by hand
    settings = Settings(data_dir=tmp_path / "data", policy_watch_interval_s=0)
    app = create_app(settings, dict(real_classifiers), {"toxicity-candidate": ("toxicity", torch_candidate)})
    with TestClient(app) as test_client:
        yield test_client


PROMPTS = ["a watercolour of a lighthouse at dawn", "you are a worthless idiot and everyone hates you",
           "a bowl of ramen on a wooden table", "two dogs playing in the snow", "refugees are a plague on this country",
           "a red bicycle leaning on a wall"]


def test_candidates_score_in_shadow_are_compared_and_promoted_hot(client, torch_candidate, real_classifiers):
    with_key(client)
    responses = [client.post("/v1/moderations", json={"prompt": prompt}).json() for prompt in PROMPTS]
    service = client.app.state.moderation.service
    service.shadow.drain()
    storage = client.app.state.storage
    with storage.session_factory() as session:
        rows = session.scalars(select(ShadowScore)).all()
    assert len(rows) == len(PROMPTS)
    assert {row.entry for row in rows} == {"toxicity-candidate"} and rows[0].model["name"]
    assert all("toxicity-candidate" not in str(response) for response in responses)  # never returned

    with_key(client, scopes=("admin",))
    models = client.get("/v1/models").json()
    assert models["live"]["toxicity"]["entry"] == "toxicity"
    assert [shadow["entry"] for shadow in models["shadow"]] == ["toxicity-candidate"]
    assert "moderation_shadow_scored_total" in client.get("/metrics").text

    # Reviewers label the sampled items; the report compares both models on them.
    reviewer = login(client, "rita")
    while (claimed := client.post("/v1/review/claim", json={"queue": "quality"}, headers=reviewer).json())["item"]:
        item = claimed["item"]
        harmful = item["prompt_redacted"] in (PROMPTS[1], PROMPTS[4])
        client.post(f"/v1/review/{item['id']}/verdict", headers=reviewer,
                    json={"verdict": "reject" if harmful else "approve",
                          "reason_code": "hate" if harmful else "policy_ok", "key": item["id"]})
    policies = client.app.state.policies.current
    report = compare(storage.session_factory, policies, "toxicity-candidate", load_reason_codes(), min_labels=4)
    assert report["items_scored_by_both"] == len(PROMPTS) and report["signal"] == "toxicity"
    hate = report["categories"]["scores.hate"]
    assert hate["labelled"] == len(PROMPTS) and hate["positives"] == 2 and hate["compared"]
    assert hate["candidate"]["auprc"] == pytest.approx(hate["live"]["auprc"], abs=1e-3)  # same weights
    assert report["decision_changes"]["total"] == 0
    toxic = report["categories"].get("scores.toxic")
    assert toxic is None or toxic["positives"] == 0  # "hate" says nothing about the other categories

    with pytest.raises(PromotionRefused, match="reason"):
        promote(storage.session_factory, "toxicity-candidate", report, "test", 0.02, force=True)
    done = promote(storage.session_factory, "toxicity-candidate", report, "test", 0.02)
    assert done.signal == "toxicity" and not done.forced
    assert service.roster.sync(service) == ["toxicity"]
    assert client.app.state.moderation.service.classifiers["toxicity"] is torch_candidate
    models = client.get("/v1/models").json()
    assert models["live"]["toxicity"]["entry"] == "toxicity-candidate"
    assert [shadow["entry"] for shadow in models["shadow"]] == ["toxicity"]  # the old model keeps scoring
    assert models["promotions"][0]["entry"] == "toxicity-candidate"

    with_key(client)
    after = client.post("/v1/moderations", json={"prompt": "a quiet library at night"}).json()
    service.shadow.drain()
    with storage.session_factory() as session:
        entry = session.scalar(select(ShadowScore.entry).where(ShadowScore.item_id == after["id"]))
    assert entry == "toxicity" and after["decision"] == "allow"


def test_a_candidate_that_scores_worse_is_refused_unless_forced(client):
    report = {"signal": "toxicity", "categories": {"scores.hate": {
        "compared": True, "live": {"auprc": 0.9}, "candidate": {"auprc": 0.7}}}}
    sessions = client.app.state.storage.session_factory
    with pytest.raises(PromotionRefused, match="scores.hate 0.900 -> 0.700"):
        promote(sessions, "toxicity-candidate", report, "test", 0.02)
    done = promote(sessions, "toxicity-candidate", report, "test", 0.02, force=True, reason="known regression")
    assert done.forced
    with sessions() as session:
        from moderation_service.db.tables import ModelPromotion

        assert session.scalar(select(func.count()).select_from(ModelPromotion)) == 1
    with pytest.raises(PromotionRefused, match="shadow"):
        promote(sessions, "nothing-scored", {"signal": None, "categories": {}}, "test", 0.02)


def test_the_promotion_log_is_append_only(client):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    sessions = client.app.state.storage.session_factory
    promote(sessions, "toxicity-candidate", {"signal": "toxicity", "categories": {}}, "test", 0.02)
    for statement in ("UPDATE model_promotions SET entry = 'x'", "DELETE FROM model_promotions"):
        with pytest.raises(DatabaseError):
            with sessions.begin() as session:
                session.execute(text(statement))
