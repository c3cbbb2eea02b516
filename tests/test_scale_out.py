"""Two worker processes on one real PostgreSQL, under concurrent load."""
from __future__ import annotations

import base64
import io
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image
from sqlalchemy import create_engine, text

from conftest import encode, synthetic_scene
from test_serve import MODERATION, create_key, free_port


def post_until_ready(client: httpx.Client, key: str, body: dict) -> dict:
    """POST /v1/moderations as an upstream client does while a worker starts: /readyz answers from one
    worker at a time, so a request may reach the other while it loads and get 503 not_ready ("retry
    shortly"), or have its connection dropped; both are retried, and the Idempotency-Key makes a retried
    request return the same item."""
    for _ in range(240):
        try:
            response = client.post("/v1/moderations", headers={"Idempotency-Key": key}, json=body)
        except httpx.TransportError:
            time.sleep(0.5)
            continue
        if response.status_code != 503 or response.json()["error"]["code"] != "not_ready":
            break
        time.sleep(0.5)
    assert response.status_code == 200, response.text
    return response.json()


def test_two_workers_share_one_database_and_one_view_of_earlier_images(tmp_path: Path, postgres_url: str):
    env = {**os.environ, "MODERATION_DATA_DIR": str(tmp_path), "MODERATION_DATABASE_URL": postgres_url,
           "MODERATION_RATE_LIMIT_PER_MINUTE": "0", "MODERATION_BANKS_SYNC_INTERVAL_S": "0.5"}
    headers = create_key(env=env, client="scale")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(MODERATION), "serve", "--port", str(port), "--workers", "2",
                               "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        ready = 0
        while time.monotonic() < deadline and ready < 6:  # several answers: both workers are up
            try:
                ready = ready + 1 if httpx.get(f"{base}/readyz", timeout=2).status_code == 200 else 0
            except httpx.TransportError:
                ready = 0
            time.sleep(0.5)
        assert ready >= 6, "the workers did not become ready"

        with httpx.Client(base_url=base, timeout=60, headers=headers) as client, ThreadPoolExecutor(32) as pool:
            answers = list(pool.map(lambda index: post_until_ready(
                client, f"k{index}", {"prompt": f"a kite over the sea #{index}", "external_id": f"post-{index}"}), range(200)))
            assert len({answer["id"] for answer in answers}) == 200

            def moderate_image(key: str, image: Image.Image, *encoding) -> dict:
                return post_until_ready(client, key, {"image": base64.b64encode(encode(image, *encoding)).decode()})

            original = synthetic_scene(41)
            first = moderate_image("image-first", original)
            time.sleep(2)  # a few sync rounds
            copy = Image.open(io.BytesIO(encode(original.resize((300, 300)), "JPEG", quality=70))).convert("RGB")
            for attempt in range(8):
                again = moderate_image(f"image-copy-{attempt}", copy, "JPEG")
                found = [duplicate["item_id"] for duplicate in again["signals"]["image_hash"]["near_duplicates"]]
                assert first["id"] in found
    finally:
        server.terminate()
        server.wait(timeout=60)

    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        stored = {row.external_id: (row.id, row.decision) for row in connection.execute(text(
            "select external_id, id, decision from moderation_items where external_id like 'post-%'"))}
    engine.dispose()
    assert stored == {answer["external_id"]: (answer["id"], answer["decision"]) for answer in answers}
