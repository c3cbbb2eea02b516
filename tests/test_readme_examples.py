"""The README's examples paste and run as written: the hash-bank block runs with
bash against a served app (no classifiers: only banks are exercised), every
curl failing on an HTTP error; and an empty import body is refused."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import PROJECT_ROOT, with_key
from review_support import ServedApp, review_app

MODERATION = str(Path(sys.executable).with_name("moderation"))


def readme_block(after_heading: str) -> str:
    text = (PROJECT_ROOT / "README.md").read_text()
    section = text[text.index(after_heading):]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_bank_examples_run_as_written(tmp_path):
    block = readme_block("### API (admin key)")
    assert "<64 hex>" not in block and "@list.csv" in block
    with ServedApp(review_app(tmp_path / "data")) as served:
        script = (block.replace(".venv/bin/moderation", MODERATION)
                  .replace("examples/", f"{PROJECT_ROOT / 'examples'}/")
                  .replace("localhost:8000", served.url.removeprefix("http://"))
                  .replace("curl -s ", "curl -sS --fail-with-body "))
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True,
                                text=True, timeout=120,
                                env={**os.environ, "MODERATION_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"imported":1' in result.stdout.replace(" ", "")
    exported = (tmp_path / "known-bad.csv").read_text()
    assert "case-123" in exported and "case-124" in exported


@pytest.mark.parametrize("body", [b"", b"\n", b"  \r\n"])
def test_an_empty_import_body_is_422_import_empty(tmp_path, body):
    with TestClient(review_app(tmp_path / "data")) as client:
        with_key(client, scopes=("admin",))
        assert client.post("/v1/banks", json={"name": "known-bad", "purpose": "block"}).status_code == 201
        response = client.post("/v1/banks/known-bad/import", content=body, headers={"Content-Type": "text/csv"})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "import_empty"
        assert client.get("/v1/banks/known-bad").json()["entries"] == 0


@pytest.mark.slow
def test_the_policy_walk_through_works_on_a_candidate_copy(tmp_path):
    """README "Policies: write your first rule", step by step, on a copy of the live
    folder; the live file changes only at the promote step."""
    text = (PROJECT_ROOT / "README.md").read_text()
    section = text[text.index("## Policies: write your first rule"):text.index("`GET /v1/policies` lists")]
    blocks = re.findall(r"```(sh|yaml)\n(.*?)```", section, re.S)
    # The blocks sit in a numbered list: dedent them, then indent as list items of the file.
    rule, case = [textwrap.indent(textwrap.dedent(body), "  ") for kind, body in blocks if kind == "yaml"]
    shadow_commands = [body for kind, body in blocks if kind == "sh"][1]
    commands = re.findall(r"`(\.venv/bin/moderation policy [^`]+)`", section)
    shutil.copytree(PROJECT_ROOT / "policies", tmp_path / "policies")
    live = (tmp_path / "policies" / "default.yaml").read_text()
    env = {**os.environ, "MODERATION_POLICY_PATH": str(tmp_path / "policies"), "MODERATION_DATA_DIR":
           str(tmp_path / "var"), "HF_HUB_OFFLINE": "1"}

    def run(command: str) -> subprocess.CompletedProcess:
        command = re.sub(r"(?<![\w/])\.venv/bin/moderation", MODERATION, command)
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", command],
                                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        return result

    run("cp -r policies candidate")
    with (tmp_path / "candidate" / "default.yaml").open("a") as handle:
        handle.write(rule)
    with (tmp_path / "candidate" / "tests" / "default.yaml").open("a") as handle:
        handle.write(case)
    lint, test, replay, promote = commands[:4]
    assert "review rules fire" in run(lint).stdout
    run(test)
    assert "0 items replayed" in run(replay).stdout
    assert (tmp_path / "policies" / "default.yaml").read_text() == live  # nothing live changed yet
    shadow = run(shadow_commands)
    assert '"comparisons"' in shadow.stdout
    assert "shadow: default-next" in (tmp_path / "policies" / "default.yaml").read_text()
    run(promote)
    run("cp candidate/tests/default.yaml policies/tests/ && rm -f policies/default-next.yaml")
    assert (tmp_path / "policies" / "default.yaml").read_text() == (tmp_path / "candidate" / "default.yaml").read_text()
    run(f"{MODERATION} policy lint policies/")
