"""The whole loop on the real models: an image goes to review, a reviewer rejects
it, and a re-encoded copy is then blocked without review."""
from __future__ import annotations

import base64
import shutil

from fastapi.testclient import TestClient

from conftest import PROJECT_ROOT, encode, synthetic_scene, with_key
from moderation_service.api.app import create_app
from moderation_service.settings import Settings
from review_support import login


def test_a_rejected_image_blocks_its_near_duplicates(tmp_path, real_classifiers):
    policies = tmp_path / "policies"
    policies.mkdir()
    default = (PROJECT_ROOT / "policies" / "default.yaml").read_text()
    # Every image goes to review first, so a person sees it (`>= 0` would be refused: it always holds).
    (policies / "default.yaml").write_text(default.replace("when: nsfw.probability >= thresholds.nsfw_review",
                                                           'when: {not: "missing(nsfw)"}'))
    shutil.copy(PROJECT_ROOT / "policies" / "avatar.yaml", policies / "avatar.yaml")
    settings = Settings(data_dir=tmp_path / "data", policy_path=policies, policy_watch_interval_s=0)
    scene = synthetic_scene(51)
    with TestClient(create_app(settings, real_classifiers)) as client:
        with_key(client)
        first = client.post("/v1/moderations", json={"image": base64.b64encode(encode(scene)).decode()}).json()
        assert first["decision"] == "review"

        reviewer = login(client, "alice")
        claimed = client.post("/v1/review/claim", json={"queue": first["review"]["queue"]}, headers=reviewer).json()
        assert claimed["item"]["id"] == first["id"]
        verdict = client.post(f"/v1/review/{first['id']}/verdict", headers=reviewer,
                              json={"verdict": "reject", "reason_code": "nudity",
                                    "key": "v1"})
        assert verdict.status_code == 200, verdict.text

        copy = scene.resize((320, 320))
        second = client.post("/v1/moderations", json={"image": base64.b64encode(encode(copy, "JPEG", quality=70)).decode()}).json()
        with_key(client, scopes=("admin",))
        metrics = client.get("/metrics").text
    duplicates = second["signals"]["image_hash"]["near_duplicates"]
    assert duplicates[0]["item_id"] == first["id"] and duplicates[0]["decision"] == "block"
    assert second["decision"] == "block"
    fired = {reason["rule_id"] for reason in second["reasons"]}
    assert {"near-duplicate-of-blocked", "hash-bank-block"} <= fired
    assert second["signals"]["banks"]["matches"][0]["bank"] == "reviewer-rejected"
    assert 'moderation_bank_matches_total{bank="reviewer-rejected"}' in metrics
