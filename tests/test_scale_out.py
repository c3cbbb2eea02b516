"""Two worker processes on one real PostgreSQL, under concurrent load."""
from __future__ import annotations

import asyncio
import base64
import io
import os
import subprocess
import time
from pathlib import Path

import httpx
from PIL import Image
from sqlalchemy import create_engine, text

from conftest import encode, synthetic_scene
from test_serve import MODERATION, create_key, free_port


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

        async def burst() -> list[dict]:
            async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers) as client:
                async def one(index: int) -> dict:
                    # /readyz answers from one worker at a time: a request may still reach the other while it
                    # loads, and gets 503 not_ready ("retry shortly"), which an upstream client retries.
                    # A connection the other worker drops while it starts is retried too: the Idempotency-Key
                    # makes a retried request return the same item, as it would for an upstream client.
                    for _ in range(240):
                        try:
                            response = await client.post("/v1/moderations", headers={"Idempotency-Key": f"k{index}"},
                                                         json={"prompt": f"a kite over the sea #{index}",
                                                               "external_id": f"post-{index}"})
                        except httpx.TransportError:
                            await asyncio.sleep(0.5)
                            continue
                        if response.status_code != 503 or response.json()["error"]["code"] != "not_ready":
                            break
                        await asyncio.sleep(0.5)
                    assert response.status_code == 200, response.text
                    return response.json()
                return await asyncio.gather(*(one(index) for index in range(200)))

        answers = asyncio.run(burst())
        assert len({answer["id"] for answer in answers}) == 200

        def moderate_image(key: str, image: Image.Image, *encoding) -> dict:
            # The burst may all have reached one worker: the other can still answer 503 not_ready, as above.
            for _ in range(240):
                try:
                    response = httpx.post(f"{base}/v1/moderations", headers={**headers, "Idempotency-Key": key},
                                          timeout=60, json={"image": base64.b64encode(encode(image, *encoding)).decode()})
                except httpx.TransportError:
                    time.sleep(0.5)
                    continue
                if response.status_code != 503 or response.json()["error"]["code"] != "not_ready":
                    break
                time.sleep(0.5)
            assert response.status_code == 200, response.text
            return response.json()

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
