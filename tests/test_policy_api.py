"""Policies through the API: listing, source, hot reload, shadow and replay."""
from __future__ import annotations

import base64
import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import PROJECT_ROOT, encode, synthetic_scene, with_key
from moderation_service.api.app import create_app
from moderation_service.auth import ApiKeyStore
from moderation_service.settings import Settings

# Reviews every image. (`nsfw.probability >= 0` would say the same, and lint refuses
# it: a comparison every value satisfies is a mistake more often than a wish.)
CANDIDATE = """\
name: candidate
version: "2"
extends: default
rules:
  - {id: nsfw-borderline, when: {not: "missing(nsfw)"}, then: review}
"""


@pytest.fixture
def policy_dir(tmp_path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    for name in ("default.yaml", "avatar.yaml"):
        shutil.copy(PROJECT_ROOT / "policies" / name, folder / name)
    return folder


def make_client(tmp_path, policy_dir, real_classifiers, **overrides):
    settings = Settings(data_dir=tmp_path / "data", policy_path=policy_dir, **overrides)
    return with_key(TestClient(create_app(settings, real_classifiers)), scopes=("moderate", "admin"))


def admin_key(client: TestClient) -> dict[str, str]:
    store = ApiKeyStore(client.app.state.storage.session_factory)
    return {"Authorization": f"Bearer {store.create('ops', ['admin']).secret}"}


def image_b64(seed: int) -> str:
    return base64.b64encode(encode(synthetic_scene(seed))).decode()


def test_list_and_source_of_active_policies(tmp_path, policy_dir, real_classifiers):
    with make_client(tmp_path, policy_dir, real_classifiers) as client:
        listing = client.get("/v1/policies").json()
        by_name = {policy["name"]: policy for policy in listing["policies"]}
        assert set(by_name) == {"default", "avatar"}
        assert by_name["avatar"]["surfaces"] == ["avatar", "profile_banner"]
        assert by_name["avatar"]["extends"] == "default"
        source = client.get("/v1/policies/avatar")
        assert source.status_code == 200 and "extends: default" in source.text
        assert source.headers["etag"] == by_name["avatar"]["sha256"]
        assert client.get("/v1/policies/nope").json()["error"]["code"] == "not_found"
        # The stored decision records the policy that decided it, with its version.
        body = client.post("/v1/moderations", json={"image": image_b64(1), "surface": "avatar"}).json()
        assert body["policy"] == {"name": "avatar", "sha256": by_name["avatar"]["sha256"], "version": "1"}


def test_reload_needs_admin_and_an_invalid_policy_never_replaces_a_valid_one(tmp_path, policy_dir, real_classifiers):
    with make_client(tmp_path, policy_dir, real_classifiers, policy_watch_interval_s=0) as client:
        assert client.post("/v1/policies/reload", headers={"Authorization": ""}).status_code == 401
        headers = admin_key(client)
        before = {p["name"]: p["sha256"] for p in client.get("/v1/policies").json()["policies"]}

        (policy_dir / "default.yaml").write_text("name: default\nrules:\n  - {id: x, when: 'nsfw.nope > 1', then: block}\n")
        refused = client.post("/v1/policies/reload", headers=headers)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_policy"
        assert "nsfw has no field 'nope'" in refused.json()["error"]["details"]["problems"][0]
        listing = client.get("/v1/policies").json()
        assert {p["name"]: p["sha256"] for p in listing["policies"]} == before
        assert listing["last_reload"]["applied"] is False
        assert client.post("/v1/moderations", json={"prompt": "hello there"}).status_code == 200

        (policy_dir / "default.yaml").write_text("name: default\nversion: '9'\nrules: []\n")
        applied = client.post("/v1/policies/reload", headers=headers)
        assert applied.status_code == 200 and applied.json()["applied"] is True
        versions = {p["name"]: p["version"] for p in client.get("/v1/policies").json()["policies"]}
        assert versions["default"] == "9"


def test_a_changed_file_is_picked_up_without_a_call(tmp_path, policy_dir, real_classifiers):
    with make_client(tmp_path, policy_dir, real_classifiers, policy_watch_interval_s=0.1) as client:
        (policy_dir / "default.yaml").write_text("name: default\nversion: watched\nrules: []\n")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            versions = {p["name"]: p["version"] for p in client.get("/v1/policies").json()["policies"]}
            if versions["default"] == "watched":
                break
            time.sleep(0.1)
        assert versions["default"] == "watched"


def test_shadow_is_stored_never_returned_and_reported(tmp_path, policy_dir, real_classifiers):
    (policy_dir / "candidate.yaml").write_text(CANDIDATE)
    default = (policy_dir / "default.yaml").read_text().replace('version: "1"', 'version: "1"\nshadow: candidate')
    (policy_dir / "default.yaml").write_text(default)
    with make_client(tmp_path, policy_dir, real_classifiers) as client:
        ids = [client.post("/v1/moderations", json={"image": image_b64(seed)}).json() for seed in (2, 3)]
        assert [body["decision"] for body in ids] == ["allow", "allow"]  # the live decision only
        report = client.get("/v1/policies/shadow-report").json()
    [comparison] = report["comparisons"]
    assert comparison["live_policy"] == "default" and comparison["shadow_policy"] == "candidate"
    assert comparison["items"] == 2 and comparison["changes"] == {"allow -> review": 2}
    assert {entry["item_id"] for entry in report["disagreement_sample"]} == {body["id"] for body in ids}


def test_replay_reports_what_a_candidate_would_change(tmp_path, policy_dir, real_classifiers):
    with make_client(tmp_path, policy_dir, real_classifiers) as client:
        image_item = client.post("/v1/moderations", json={"image": image_b64(4)}).json()
        client.post("/v1/moderations", json={"prompt": "a calm lake at noon"})
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(CANDIDATE.replace("extends: default\n", ""))
    out = tmp_path / "replay.csv"
    env = {**os.environ, "MODERATION_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run([str(Path(sys.executable).with_name("moderation")), "policy", "replay",
                             "--policy", str(candidate), "--since", "2000-01-01", "--csv", str(out)],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "2 items replayed; 1 decisions would change" in result.stdout
    assert f"allow -> review: 1  (e.g. {image_item['id']})" in result.stdout
    rows = list(csv.DictReader(out.open()))
    assert {row["replayed_decision"] for row in rows} == {"allow", "review"}
