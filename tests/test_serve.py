"""`moderation serve` as a person runs it: a real process, real port, real models."""
from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import encode, synthetic_scene

MODERATION = Path(sys.executable).with_name("moderation")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_key(data_dir=None, scopes: str = "moderate", env: dict | None = None,
               client: str = "upstream") -> dict[str, str]:
    """As a person would: `moderation keys create`, then use the key it prints."""
    env = env or {**os.environ, "MODERATION_DATA_DIR": str(data_dir)}
    result = subprocess.run([str(MODERATION), "keys", "create", "--client", client, "--scopes", scopes],
                            env=env, capture_output=True, text=True, timeout=120, check=True)
    return {"Authorization": f"Bearer {result.stdout.strip().splitlines()[-1]}"}


def wait_until_ready(base: str, process: subprocess.Popen, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("the service never became ready")


def start_serve(data_dir) -> tuple[subprocess.Popen, str]:
    """`moderation serve` on a free port, its output captured; the caller waits and terminates."""
    port = free_port()
    process = subprocess.Popen([str(MODERATION), "serve", "--port", str(port)],
                               env={**os.environ, "MODERATION_DATA_DIR": str(data_dir)},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return process, f"http://127.0.0.1:{port}"


def test_serve_starts_answers_and_reports_ready(tmp_path):
    process, base = start_serve(tmp_path / "data")
    try:
        wait_until_ready(base, process)
        image = base64.b64encode(encode(synthetic_scene(11))).decode()
        response = httpx.post(f"{base}/v1/moderations", timeout=60, headers=create_key(tmp_path / "data"),
                              json={"prompt": "a cat wearing a tiny hat", "image": image})
        assert response.status_code == 200, response.text
        assert set(response.json()["signals"]) == {"toxicity", "nsfw", "nsfw_drawings", "pii", "image_hash", "pdq", "text",
                                                   "minor_indicators", "self_harm_indicators"}
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert (tmp_path / "data" / "moderation.db").exists(), output


def test_serve_refuses_an_invalid_policy_and_says_why(tmp_path):
    policy = tmp_path / "broken.yaml"
    policy.write_text("name: broken\nrules:\n  - {id: a, when: 'nsfw.probability > thresholds.missing', then: block}\n")
    env = {**os.environ, "MODERATION_DATA_DIR": str(tmp_path), "MODERATION_POLICY_PATH": str(policy)}
    result = subprocess.run([str(MODERATION), "serve", "--port", str(free_port())], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "undefined threshold 'missing'" in result.stderr


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("MODERATION_MAX_IMAGE_BYTES", "-5", "MODERATION_MAX_IMAGE_BYTES"),
    ("MODERATION_POLICY_PATH", "/nonexistent/policy.yaml", "does not exist"),
])
def test_serve_refuses_invalid_configuration(tmp_path, variable, value, message):
    env = {**os.environ, "MODERATION_DATA_DIR": str(tmp_path), variable: value}
    result = subprocess.run([str(MODERATION), "serve", "--port", str(free_port())], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert message in result.stderr


def test_logs_are_json_with_request_ids_and_no_content(tmp_path):
    process, base = start_serve(tmp_path / "data")
    secret_email = "very.private.person@example.com"
    try:
        wait_until_ready(base, process)
        key = create_key(tmp_path / "data")
        response = httpx.post(f"{base}/v1/moderations", headers={"X-Request-ID": "req-123", **key}, timeout=60,
                              json={"prompt": f"write to {secret_email}"})
        assert response.headers["x-request-id"] == "req-123"
        bad = httpx.post(f"{base}/v1/moderations", timeout=60, headers=key, json={"prompt": secret_email, "colour": "x"})
        assert bad.status_code == 422 and len(bad.headers["x-request-id"]) == 32
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "moderation_service.access"]
    assert any(line.get("request_id") == "req-123" and line["path"] == "/v1/moderations" and line["status"] == 200
               for line in access), output
    assert secret_email not in output
