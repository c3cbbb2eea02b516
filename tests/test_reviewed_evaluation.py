"""`moderation evaluate reviewed` reads the export format and scores classifiers and decisions."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def write_export(folder: Path) -> None:
    folder.mkdir()
    records = []
    for index, (nsfw, policy_decision, verdict) in enumerate([
        (0.9, "block", "reject"), (0.8, "review", "reject"), (0.7, "block", "approve"),
        (0.1, "allow", "approve"), (0.2, "allow", "approve"), (0.6, "allow", "reject"),
    ]):
        records.append({"id": f"i{index}", "prompt_redacted": "a scene", "image_path": None,
                        "signals": {"nsfw": {"model": {"name": "x"}, "probability": nsfw}},
                        "policy": {"name": "default", "decision": policy_decision, "rules": []},
                        "label": {"verdict": verdict}})
    (folder / "items.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))


def test_scores_per_classifier_and_per_decision(tmp_path):
    write_export(tmp_path / "export")
    moderation = str(Path(sys.executable).with_name("moderation"))
    env = {**os.environ, "MODERATION_DATA_DIR": str(tmp_path)}
    result = subprocess.run([moderation, "evaluate", "reviewed", "--export", str(tmp_path / "export")],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    nsfw = next(line for line in lines if line.startswith("nsfw.probability"))
    assert nsfw.split()[1] == "6"
    assert "5 decided by the policy, 1 sent to review" in result.stdout
    reject = next(line for line in lines if line.startswith("reject"))
    # Stored decisions: block/block/allow on rejects-or-not -> reject precision 1/2, recall 1/2.
    assert reject.split()[1:] == ["2", "0.500", "0.500", "0.500"]

    candidate = tmp_path / "strict.yaml"
    candidate.write_text("name: strict\nrules:\n  - {id: a, when: 'nsfw.probability >= 0.55', then: block}\n")
    replayed = subprocess.run([moderation, "evaluate", "reviewed", "--export", str(tmp_path / "export"),
                               "--policy", str(candidate)], env=env, capture_output=True, text=True, timeout=120)
    assert "6 decided by the policy, 0 sent to review" in replayed.stdout
    reject = next(line for line in replayed.stdout.splitlines() if line.startswith("reject"))
    assert reject.split()[1:] == ["3", "0.750", "1.000", "0.857"]
