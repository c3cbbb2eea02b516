"""`moderation policy replay` tells the truth: the policy in force replays with zero
changes, items a prompt.text rule could decide are counted apart when only the
redacted prompt is stored, `extends` resolves against the live folder, and the
CSV lands under the data folder; `promote` makes a candidate live only when it
lints and passes its cases."""
from __future__ import annotations

import base64
import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from conftest import PROJECT_ROOT, encode, synthetic_scene, with_key
from moderation_service.api.app import create_app
from moderation_service.settings import Settings

MODERATION = str(Path(sys.executable).with_name("moderation"))
# A prompt.text rule that reads exactly what PII redaction removes.
PROMPT_RULE = """
  - id: brand-name
    description: Prompts that name the brand go to a person.
    when: prompt.text contains_any [acme]
    then: {action: review, queue: text}
"""
PROMPTS = [
    "a lighthouse at dawn, send it to acme@example.org",  # PII: redacted, the rule read the raw text
    "a calm lake at noon",                                 # no PII: the stored prompt is the raw one
    "a poster for the acme rocket company",                # no PII, and the rule fires on it
]


@pytest.fixture
def live_folder(tmp_path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    for name in ("default.yaml", "avatar.yaml"):
        shutil.copy(PROJECT_ROOT / "policies" / name, folder / name)
    with (folder / "default.yaml").open("a") as handle:
        handle.write(PROMPT_RULE)
    return folder


def _seed(tmp_path: Path, live_folder: Path, classifiers, **settings) -> dict[str, dict]:
    app_settings = Settings(data_dir=tmp_path / "data", policy_path=live_folder, **settings)
    with with_key(TestClient(create_app(app_settings, classifiers))) as client:
        bodies = {prompt: client.post("/v1/moderations", json={"prompt": prompt}).json() for prompt in PROMPTS}
        image = base64.b64encode(encode(synthetic_scene(3))).decode()
        bodies["image"] = client.post("/v1/moderations", json={"image": image}).json()
    return bodies


def _moderation(*arguments: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([MODERATION, *arguments], capture_output=True, text=True, timeout=180, cwd=cwd,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", **env})


def test_the_policy_in_force_replays_with_zero_changes_and_redacted_items_apart(tmp_path, live_folder,
                                                                                real_classifiers):
    bodies = _seed(tmp_path, live_folder, real_classifiers)
    assert bodies[PROMPTS[0]]["decision"] == "review"  # read on the raw prompt
    assert bodies[PROMPTS[2]]["decision"] == "review"
    assert bodies[PROMPTS[1]]["decision"] == "allow"
    env = {"MODERATION_DATA_DIR": str(tmp_path / "data"), "MODERATION_POLICY_PATH": str(live_folder)}
    result = _moderation("policy", "replay", "--policy", str(live_folder / "default.yaml"), "--csv", "-",
                         cwd=tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert "3 items replayed; 0 decisions would change" in result.stderr
    assert (f"1 items not replayable without raw text: a prompt.* rule could decide them and only the redacted "
            f"prompt is stored") in result.stderr
    assert bodies[PROMPTS[0]]["id"] in result.stderr
    rows = {row["item_id"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    assert len(rows) == 4
    assert rows[bodies[PROMPTS[0]]["id"]]["replayed_decision"] == "not replayable without raw text"
    assert rows[bodies[PROMPTS[2]]["id"]]["replayed_rules"] == "brand-name"
    assert not list(tmp_path.glob("*.csv"))  # nothing written where the command ran


def test_with_raw_prompts_stored_every_item_replays_exactly(tmp_path, live_folder, real_classifiers):
    key = Fernet.generate_key().decode()
    _seed(tmp_path, live_folder, real_classifiers, store_raw_prompts=True, raw_prompt_key=key)
    env = {"MODERATION_DATA_DIR": str(tmp_path / "data"), "MODERATION_POLICY_PATH": str(live_folder),
           "MODERATION_STORE_RAW_PROMPTS": "true", "MODERATION_RAW_PROMPT_KEY": key}
    same = _moderation("policy", "replay", "--policy", str(live_folder / "default.yaml"), cwd=tmp_path, **env)
    assert same.returncode == 0, same.stderr
    assert "4 items replayed; 0 decisions would change" in same.stdout
    assert "not replayable" not in same.stdout
    written = Path(same.stdout.strip().splitlines()[-1].removeprefix("wrote "))
    assert written.parent == tmp_path / "data" / "exports" and written.name.startswith("replay-default-")
    # A candidate without the prompt rule, outside the live folder: the two items it decided change.
    candidate = tmp_path / "candidate" / "default.yaml"
    candidate.parent.mkdir()
    candidate.write_text((live_folder / "default.yaml").read_text().replace(PROMPT_RULE, ""))
    changed = _moderation("policy", "replay", "--policy", str(candidate), "--csv", str(tmp_path / "c.csv"), **env)
    assert changed.returncode == 0, changed.stderr
    assert "4 items replayed; 2 decisions would change" in changed.stdout
    assert "review -> redact: 1" in changed.stdout and "review -> allow: 1" in changed.stdout


def test_replay_resolves_extends_against_the_live_folder(tmp_path, live_folder, real_classifiers):
    _seed(tmp_path, live_folder, real_classifiers)
    env = {"MODERATION_DATA_DIR": str(tmp_path / "data"), "MODERATION_POLICY_PATH": str(live_folder)}
    result = _moderation("policy", "replay", "--policy", str(live_folder / "avatar.yaml"), "--csv",
                         str(tmp_path / "avatar.csv"), **env)
    assert result.returncode == 0, result.stderr
    assert "extends unknown policy" not in result.stderr
    assert "items replayed" in result.stdout


PROMOTE_CASES = """\
policy: default
cases:
  - name: an explicit image is blocked
    signals: {nsfw: {probability: 0.97}}
    expect: {decision: block, rules_include: [nsfw-explicit]}
"""


def test_promote_replaces_the_live_file_only_when_the_candidate_is_sound(tmp_path, live_folder):
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "default.yaml").write_text(PROMOTE_CASES)
    env = {"MODERATION_DATA_DIR": str(tmp_path / "data"), "MODERATION_POLICY_PATH": str(live_folder)}
    live_before = (live_folder / "default.yaml").read_text()
    candidate = tmp_path / "candidate.yaml"

    candidate.write_text(live_before.replace("nsfw_block: 0.85", "nsfw_block: 1.5"))  # can never fire
    refused = _moderation("policy", "promote", str(candidate), "--cases", str(cases), **env)
    assert refused.returncode == 1
    assert "never holds" in refused.stderr and "not promoted" in refused.stderr
    candidate.write_text(live_before.replace("nsfw_block: 0.85", "nsfw_block: 0.99"))  # lints, fails the case
    failing = _moderation("policy", "promote", str(candidate), "--cases", str(cases), **env)
    assert failing.returncode == 1 and "not promoted" in failing.stderr
    assert (live_folder / "default.yaml").read_text() == live_before

    candidate.write_text(live_before.replace("nsfw_block: 0.85", "nsfw_block: 0.9"))
    promoted = _moderation("policy", "promote", str(candidate), "--cases", str(cases), **env)
    assert promoted.returncode == 0, promoted.stderr
    assert f"promoted {candidate} to {live_folder / 'default.yaml'}" in promoted.stdout
    assert (live_folder / "default.yaml").read_text() == candidate.read_text()
    assert sorted(path.name for path in live_folder.iterdir()) == ["avatar.yaml", "default.yaml"]
