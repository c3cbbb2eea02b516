"""Quality sampling on the real service: uniform and uncertainty samples with daily budgets,
blind review, and the enforcement estimate from reviewers' labels."""
from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient

from conftest import PROJECT_ROOT, with_key
from moderation_service.api.app import create_app
from moderation_service.policy import load_policy_set
from moderation_service.quality.config import QualitySettings
from moderation_service.quality.sampling import UNCERTAINTY, UNIFORM, QualitySampler, near_a_threshold
from moderation_service.review.thresholds import threshold_comparisons
from moderation_service.settings import Settings
from review_support import login

DEFAULT_POLICY = load_policy_set(PROJECT_ROOT / "policies").for_surface("default").spec


def test_threshold_comparisons_are_read_from_the_policy_rules():
    found = {c.path: c.value for c in threshold_comparisons(DEFAULT_POLICY)}
    assert found["nsfw.probability"] in (DEFAULT_POLICY.thresholds["nsfw_block"],
                                         DEFAULT_POLICY.thresholds["nsfw_review"])
    assert any(path.startswith("toxicity.scores.") for path in found)


def test_near_a_threshold_looks_at_every_compared_score():
    review_at = DEFAULT_POLICY.thresholds["nsfw_review"]
    assert near_a_threshold(DEFAULT_POLICY, {"nsfw": {"probability": review_at - 0.05}}, margin=0.1)
    assert not near_a_threshold(DEFAULT_POLICY, {"nsfw": {"probability": review_at - 0.3}}, margin=0.1)
    assert not near_a_threshold(DEFAULT_POLICY, {}, margin=0.1)  # no signal: nothing to be near


def test_draws_follow_the_rates_and_never_take_items_already_sent_to_review():
    counts = {UNIFORM: 0}
    sampler = QualitySampler(QualitySettings(sample_rate=0.2, uncertainty_rate=0.5, uncertainty_margin=0.1),
                             lambda kind, since: 0, random.Random(7))
    near = {"nsfw": {"probability": DEFAULT_POLICY.thresholds["nsfw_review"] - 0.01}}
    far = {"nsfw": {"probability": 0.0}}
    draws = [sampler.draw("allow", DEFAULT_POLICY, far) for _ in range(5000)]
    counts[UNIFORM] = sum(1 for d in draws if d is not None)
    assert all(d is None or (d.kind == UNIFORM and d.probability == 0.2) for d in draws)
    assert 0.17 < counts[UNIFORM] / 5000 < 0.23
    near_draws = [sampler.draw("allow", DEFAULT_POLICY, near) for _ in range(5000)]
    kinds = [d.kind for d in near_draws if d is not None]
    # 0.2 uniform, then half of the remaining 0.8 for uncertainty
    assert 0.36 < kinds.count(UNCERTAINTY) / 5000 < 0.44
    assert all(sampler.draw("review", DEFAULT_POLICY, near) is None for _ in range(200))


def test_the_daily_budget_counts_from_utc_midnight():
    seen = []
    sampler = QualitySampler(QualitySettings(sample_rate=1.0, daily_budget=3), lambda kind, since: seen.append(since) or 3)
    sample = sampler.draw("allow", DEFAULT_POLICY, {})
    now = datetime(2026, 11, 29, 15, 30, tzinfo=timezone.utc)
    assert not sampler.within_budget(sample, now)
    assert seen == [datetime(2026, 11, 29, tzinfo=timezone.utc)]


def test_invalid_settings_are_refused_at_start_up(monkeypatch):
    monkeypatch.setenv("MODERATION_QUALITY_SAMPLE_RATE", "1.5")
    with pytest.raises(ValueError):
        QualitySettings()


@pytest.fixture
def sampled_client(tmp_path, real_classifiers, monkeypatch):
    monkeypatch.setenv("MODERATION_QUALITY_SAMPLE_RATE", "1.0")
    monkeypatch.setenv("MODERATION_QUALITY_DAILY_BUDGET", "4")
    settings = Settings(data_dir=tmp_path / "data", policy_watch_interval_s=0)
    with TestClient(create_app(settings, real_classifiers)) as client:
        yield client


def test_sampled_items_are_reviewed_blind_and_feed_the_enforcement_estimate(sampled_client):
    client = sampled_client
    with_key(client)
    prompts = ["a watercolour of a lighthouse at dawn", "a bowl of ramen on a wooden table",
               "two dogs playing in the snow", "a red bicycle leaning on a wall", "a quiet library at night"]
    moderated = [client.post("/v1/moderations", json={"prompt": p}).json() for p in prompts]
    assert all(m["decision"] == "allow" for m in moderated), [m["decision"] for m in moderated]
    # The client never learns its item was sampled.
    assert all(m.get("review") is None for m in moderated)
    assert all(client.get(f"/v1/moderations/{m['id']}").json().get("review") is None for m in moderated)

    reviewer = login(client, "quinn")
    labels = {}
    while True:
        claimed = client.post("/v1/review/claim", json={"queue": "quality"}, headers=reviewer).json()
        if claimed["item"] is None:
            break
        item = claimed["item"]
        # Blind: no decision, no fired rules, no scores.
        assert item["blind"] is True and item["policy"]["decision"] is None and item["reportable"] is False
        assert item["reasons"] == [] and item["signals"] == {}
        assert item["prompt_redacted"] in prompts
        verdict = "reject" if len(labels) == 0 else "approve"
        response = client.post(f"/v1/review/{item['id']}/verdict", headers=reviewer,
                               json={"verdict": verdict, "reason_code": "other", "key": f"q{len(labels)}"})
        assert response.status_code == 200, response.text
        labels[item["id"]] = verdict
    assert len(labels) == 4  # the daily budget: the fifth item was not sampled

    rejected = next(i for i, v in labels.items() if v == "reject")
    after = client.get(f"/v1/moderations/{rejected}").json()
    assert after["final_decision"] == "block" and after["review"]["queue"] == "quality"
    seen = client.get(f"/v1/review/{rejected}", headers=reviewer).json()
    assert "blind" not in seen and seen["policy"]["decision"] == "allow"  # visible once decided

    report = client.get("/v1/stats/enforcement", headers=reviewer)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["strata"]["allow"] == {"items": 5, "labelled": 4, "labelled_harmful": 1, "waiting": 0}
    allowed = body["estimates"]["prevalence_allowed"]
    assert allowed["estimate"] == pytest.approx(0.25) and allowed["ci_low"] < 0.25 < allowed["ci_high"]
    assert body["estimates"]["precision"]["estimate"] is None  # nothing was flagged
    assert client.get("/v1/stats/enforcement", headers=reviewer, params={"confidence": 2}).status_code == 422


def test_the_export_carries_the_sampling_probability(sampled_client, tmp_path):
    from moderation_service.review.export import export_dataset

    client = sampled_client
    with_key(client)
    item = client.post("/v1/moderations", json={"prompt": "a kite over a green hill"}).json()
    reviewer = login(client, "quinn")
    claimed = client.post("/v1/review/claim", json={"queue": "quality"}, headers=reviewer).json()["item"]
    assert claimed["id"] == item["id"]
    client.post(f"/v1/review/{item['id']}/verdict", headers=reviewer,
                json={"verdict": "approve", "reason_code": "policy_ok", "key": "e1"})
    storage = client.app.state.storage
    export_dataset(storage.session_factory, storage.image_store, tmp_path / "export")
    import json

    record = json.loads((tmp_path / "export" / "items.jsonl").read_text().splitlines()[0])
    assert record["label"]["sampling"] == "uniform" and record["label"]["sampling_probability"] == 1.0
