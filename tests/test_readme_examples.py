"""The README's examples paste and run as written: the hash-bank block runs with
bash against a served app (no classifiers: only banks are exercised), every
curl failing on an HTTP error; and an empty import body is refused."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
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
