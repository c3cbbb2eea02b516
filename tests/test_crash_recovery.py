"""kill -9 under load on real PostgreSQL, restart, retry: nothing acknowledged is
lost and nothing retried is stored twice."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from test_serve import MODERATION, create_key, free_port, wait_until_ready

REQUESTS = 2000
CONCURRENCY = 8
KILL_AFTER = 600


def start(env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen([str(MODERATION), "serve", "--port", str(port), "--log-level", "warning"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", process)
    except AssertionError:
        process.kill()
        raise
    return process


def test_kill_minus_nine_mid_load_loses_and_duplicates_nothing(tmp_path: Path, postgres_url: str):
    env = {**os.environ, "MODERATION_DATA_DIR": str(tmp_path), "MODERATION_DATABASE_URL": postgres_url,
           "MODERATION_RATE_LIMIT_PER_MINUTE": "0", "MODERATION_POLICY_WATCH_INTERVAL_S": "0"}
    headers = create_key(env=env, client="crash")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = {"process": start(env, port)}
    acknowledged: dict[str, str] = {}  # idempotency key -> item id from a 2xx
    attempts = {"retried": 0, "killed": False}

    async def send(client: httpx.AsyncClient, index: int) -> None:
        key = f"publish-{index}"
        while True:
            try:
                response = await client.post("/v1/moderations", headers={**headers, "Idempotency-Key": key},
                                             json={"prompt": f"a lighthouse at dawn, variation {index}"})
            except httpx.TransportError:
                attempts["retried"] += 1
                await asyncio.sleep(0.5)  # the server is down: retry, as an upstream would
                continue
            if response.status_code == 200:
                item_id = response.json()["id"]
                assert acknowledged.setdefault(key, item_id) == item_id, "a retry got a different item"
                if len(acknowledged) == KILL_AFTER and not attempts["killed"]:
                    attempts["killed"] = True
                    server["process"].send_signal(signal.SIGKILL)
                    server["process"].wait()
                    server["process"] = await asyncio.to_thread(start, env, port)
                return
            if response.status_code == 503:
                await asyncio.sleep(0.5)
                continue
            raise AssertionError(f"{response.status_code}: {response.text}")

    async def load() -> None:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(REQUESTS):
            queue.put_nowait(index)

        async def worker(client):
            while not queue.empty():
                await send(client, queue.get_nowait())

        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))

    try:
        asyncio.run(load())
    finally:
        server["process"].terminate()
        server["process"].wait(timeout=30)

    assert attempts["killed"] and attempts["retried"] > 0, attempts
    assert len(acknowledged) == REQUESTS
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "select idempotency_key, id from moderation_items where client = 'crash'")).all()
    engine.dispose()
    stored = {}
    for key, item_id in rows:
        assert key not in stored, f"{key} stored twice"
        stored[key] = item_id
    assert stored == acknowledged


def test_verdicts_sent_across_a_kill_are_recorded_or_refused_never_lost(tmp_path: Path, postgres_url: str):
    policy = tmp_path / "review-all.yaml"
    policy.write_text("name: review-all\nrules:\n  - {id: everything, when: {not: 'missing(prompt)'}, then: review}\n")
    env = {**os.environ, "MODERATION_DATA_DIR": str(tmp_path), "MODERATION_DATABASE_URL": postgres_url,
           "MODERATION_POLICY_PATH": str(policy), "MODERATION_RATE_LIMIT_PER_MINUTE": "0",
           "MODERATION_POLICY_WATCH_INTERVAL_S": "0", "MODERATION_NEW_USER_PASSWORD": "correct horse battery"}
    headers = create_key(env=env, client="crash")
    subprocess.run([str(MODERATION), "users", "create", "--username", "alice"], env=env, check=True,
                   capture_output=True, timeout=120)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(env, port)
    acknowledged: dict[str, str] = {}  # item -> verdict a 2xx confirmed
    killed = retried = 0
    try:
        with httpx.Client(base_url=base, timeout=60) as http:
            for index in range(120):
                response = http.post("/v1/moderations", headers=headers, json={"prompt": f"a quiet pond #{index}"})
                assert response.json()["decision"] == "review"
            token = http.post("/v1/auth/login", json={"username": "alice", "password": "correct horse battery"})
            http.headers["Authorization"] = f"Bearer {token.json()['token']}"
            while True:
                claimed = http.post("/v1/review/claim", json={"queue": "default"}).json()
                if claimed["item"] is None:
                    break
                item_id = claimed["item"]["id"]
                verdict = "reject" if len(acknowledged) % 2 else "approve"
                body = {"verdict": verdict, "reason_code": "spam", "key": f"verdict-{item_id}"}
                if len(acknowledged) == 40 and not killed:
                    # Kill the server while this verdict is on its way, then retry it as a client would.
                    server.send_signal(signal.SIGKILL)
                    server.wait()
                    killed += 1
                while True:
                    try:
                        response = http.post(f"/v1/review/{item_id}/verdict", json=body)
                        break
                    except httpx.TransportError:
                        retried += 1
                        if server.poll() is not None:
                            server = start(env, port)
                assert response.status_code == 200, response.text
                acknowledged[item_id] = verdict
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert killed == 1 and retried >= 1
    assert len(acknowledged) == 120
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        recorded = connection.execute(text(
            "select item_id, verdict from review_queue where status = 'decided'")).all()
        audit_rows = connection.execute(text(
            "select item_id, count(*) from review_audit where action = 'verdict' group by item_id")).all()
    engine.dispose()
    assert dict(recorded) == acknowledged
    assert all(count == 1 for _item, count in audit_rows) and len(audit_rows) == 120
