"""/metrics in Prometheus format, counting what the service did."""
from __future__ import annotations

import base64

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from conftest import encode, synthetic_scene, with_key
from moderation_service.api.app import create_app
from moderation_service.settings import Settings


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_metrics_count_decisions_stages_rejections_and_queues(tmp_path, real_classifiers):
    policy = tmp_path / "review.yaml"
    policy.write_text("name: review-images\nrules:\n  - {id: all, when: {not: 'missing(nsfw)'}, "
                      "then: {action: review, queue: images}}\n")
    settings = Settings(data_dir=tmp_path / "data", policy_path=policy)
    with TestClient(create_app(settings, real_classifiers)) as client:
        with_key(client, scopes=("moderate", "admin"))
        image = base64.b64encode(encode(synthetic_scene(1))).decode()
        client.post("/v1/moderations", json={"prompt": "a boat", "image": image, "surface": "feed_post"})
        client.post("/v1/moderations", json={"prompt": "a boat"})
        client.post("/v1/moderations", json={"image": "%%%"})
        response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    assert found[("moderation_decisions_total", (("decision", "review"), ("surface", "feed_post")))] == 1
    assert found[("moderation_decisions_total", (("decision", "allow"), ("surface", "default")))] == 1
    assert found[("moderation_stage_seconds_count", (("stage", "nsfw"),))] == 1
    assert found[("moderation_stage_seconds_count", (("stage", "toxicity"),))] == 2
    assert found[("moderation_rejected_requests_total", (("code", "invalid_base64"),))] == 1
    assert found[("moderation_review_queue_depth", (("queue", "images"),))] == 1
    assert found[("moderation_review_queue_oldest_seconds", (("queue", "images"),))] >= 0
    assert found[("moderation_ready", ())] == 1
