"""One hostile client cannot degrade another: a real `moderation serve` process, one
client sending costly and malformed inputs while another sends ordinary traffic.

Asserts correctness, not timings: every ordinary request is answered 200 with all its
signals and no failed classifier; every hostile request gets a 4xx or a normal answer,
never a 5xx; and the server's resident memory stays within RSS_BOUND of what it used
when it became ready (sampled every 50 ms from /proc).

The classifier deadline is raised to 30 s here: on a shared 2-core CI machine the
default 5 s could be missed for reasons that have nothing to do with the hostile
client. A failed classifier of any other cause (an exception from a poisoned batch,
an unbounded job) still fails the test.
"""
from __future__ import annotations

import base64
import io
import os
import socket
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import httpx
import pytest
from PIL import Image

from conftest import encode, synthetic_scene
from test_serve import MODERATION, create_key, free_port, wait_until_ready

sys.path.insert(0, str(Path(__file__).resolve().parent / "corpus"))
from hostile_requests import JSON_BODIES, MULTIPART  # noqa: E402

RSS_BOUND = 1536 * 1024 * 1024  # 1.5 GiB over the ready process
ORDINARY_REQUESTS = 24
PROMPT_SIGNALS = {"toxicity", "pii", "text", "minor_indicators", "self_harm_indicators"}
IMAGE_SIGNALS = PROMPT_SIGNALS | {"nsfw", "nsfw_drawings", "image_hash", "pdq"}
EMOJI_PROMPT = "\U0001F600\U0001F680\U0001F308\U0001F4A9" * 2000  # 8,000 characters


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path("/proc/self/status").exists():
        pytest.skip("RSS is read from /proc (Linux)")
    data = tmp_path_factory.mktemp("load")
    env = {**os.environ, "MODERATION_DATA_DIR": str(data), "MODERATION_CLASSIFIER_TIMEOUT_MS": "30000",
           "MODERATION_HEADER_READ_TIMEOUT_S": "3", "MODERATION_BODY_READ_TIMEOUT_S": "5",
           "MODERATION_POLICY_WATCH_INTERVAL_S": "0"}
    port = free_port()
    log = open(data / "serve.log", "w")
    process = subprocess.Popen([str(MODERATION), "serve", "--port", str(port)], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process)
        ordinary = create_key(env=env, client="ordinary")
        hostile = create_key(env=env, client="hostile", scopes="moderate")
        yield process, base, ordinary, hostile
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


def ordinary_traffic(base: str, headers: dict[str, str]) -> list[str]:
    """Ordinary requests, two at a time; returns what was wrong with any of them."""
    image = base64.b64encode(encode(synthetic_scene(5), "JPEG")).decode()
    bodies = [{"prompt": "a watercolour of a lighthouse at dusk"},
              {"prompt": "write to ana@example.com about the cat picture", "image": image},
              {"prompt": "a sunny beach with palm trees", "image": image},
              {"prompt": "my phone number is 555-0134, call me"}]
    problems: list[str] = []

    def one(i: int) -> None:
        body = bodies[i % len(bodies)]
        try:
            response = httpx.post(f"{base}/v1/moderations", json=body, headers=headers, timeout=120)
        except httpx.HTTPError as exc:
            problems.append(f"{i}: {type(exc).__name__}")
            return
        if response.status_code != 200:
            problems.append(f"{i}: {response.status_code} {response.text[:200]}")
            return
        signals = response.json()["signals"]
        expected = IMAGE_SIGNALS if "image" in body else PROMPT_SIGNALS
        if set(signals) != expected or any("error" in signal for signal in signals.values()):
            problems.append(f"{i}: signals {signals}")

    threads = []
    for i in range(ORDINARY_REQUESTS):
        threads.append(threading.Thread(target=one, args=(i,)))
        threads[-1].start()
        if len(threads) % 2 == 0:
            for thread in threads[-2:]:
                thread.join()
    for thread in threads:
        thread.join()
    return problems


def request_kinds(base: str, headers: dict[str, str]):
    """The malformed and costly requests of tests/corpus/hostile_requests.py, and more."""
    big_nothing = b"[" + b"{}," * 4_000_000 + b"{}]"  # 12 MiB, sent without a key
    while True:
        for body, _status, _code in JSON_BODIES.values():
            yield lambda body=body: httpx.post(f"{base}/v1/moderations", content=body, timeout=120,
                                               headers={**headers, "content-type": "application/json"})
        for fields, _status, _code in MULTIPART.values():
            yield lambda fields=fields: httpx.post(f"{base}/v1/moderations", files=fields, headers=headers,
                                                   timeout=120)
        yield lambda: httpx.put(f"{base}/v1/webhooks/endpoint", content=big_nothing, timeout=120,
                                headers={"content-type": "application/json"})
        yield lambda: httpx.put(f"{base}/v1/webhooks/endpoint", json={"url": "http://169.254.169.254/"},
                                headers=headers, timeout=120)
        yield lambda: httpx.post(f"{base}/v1/auth/login", json={"username": "admin", "password": "guess-guess"},
                                 timeout=120)
        yield lambda: httpx.get(f"{base}/v1/webhooks/deliveries", headers=headers, timeout=120)


def emoji_prompts(base: str, headers: dict[str, str]):
    while True:
        yield lambda: httpx.post(f"{base}/v1/moderations", json={"prompt": EMOJI_PROMPT}, headers=headers,
                                 timeout=120)


def tall_png(width: int, height: int) -> bytes:
    """A grey PNG of width x height made of zero rows: a few KB that decode to width*height bytes."""
    raw = zlib.compress((b"\0" + b"\0" * width) * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        import struct

        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    import struct

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def image_kinds(base: str, headers: dict[str, str]):
    gradient = Image.linear_gradient("L").resize((6000, 6000)).convert("RGB")
    buffer = io.BytesIO()
    gradient.save(buffer, "JPEG", progressive=True, quality=50)
    images = [tall_png(1, 39_999_999), tall_png(39_999_999, 1), buffer.getvalue()]
    while True:
        for image in images:
            yield lambda image=image: httpx.post(f"{base}/v1/moderations", headers=headers, timeout=300,
                                                 files={"image": ("x", image, "application/octet-stream")})


def slow_sockets(port: int, stop: threading.Event) -> None:
    """Ten connections that send their headers one byte at a time, reopened when closed."""
    head = b"POST /v1/moderations HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 5000 + b"\r\n\r\n"
    sockets: list[tuple[socket.socket, int]] = []
    while not stop.is_set():
        while len(sockets) < 10:
            sockets.append((socket.create_connection(("127.0.0.1", port)), 0))
        kept = []
        for sock, sent in sockets:
            try:
                sock.send(head[sent:sent + 1])
                kept.append((sock, sent + 1))
            except OSError:
                sock.close()
        sockets = kept
        stop.wait(0.2)
    for sock, _ in sockets:
        sock.close()


KINDS = {
    "malformed and costly requests": request_kinds,
    "8,000-character emoji prompts": emoji_prompts,
    "large and odd images": image_kinds,
}


@pytest.mark.parametrize("kind", [
    "malformed and costly requests",
    "8,000-character emoji prompts",
    "large and odd images",
])
def test_a_hostile_client_does_not_degrade_an_ordinary_one(server, kind):
    process, base, ordinary, hostile = server
    start_rss = rss_bytes(process.pid)
    peak = [start_rss]
    stop = threading.Event()
    hostile_answers: list[int] = []

    def sample() -> None:
        while not stop.is_set() and process.poll() is None:
            peak[0] = max(peak[0], rss_bytes(process.pid))
            stop.wait(0.05)

    def attack() -> None:
        for send in KINDS[kind](base, hostile):
            if stop.is_set():
                return
            try:
                hostile_answers.append(send().status_code)
            except httpx.HTTPError:
                hostile_answers.append(0)  # the server may close a connection it will not read

    workers = [threading.Thread(target=sample), threading.Thread(target=attack), threading.Thread(target=attack),
               threading.Thread(target=slow_sockets, args=(int(base.rsplit(":", 1)[1]), stop))]
    for worker in workers:
        worker.start()
    try:
        time.sleep(1)  # the hostile client is at it before the ordinary one starts
        problems = ordinary_traffic(base, ordinary)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=300)
    assert process.poll() is None, "the server died"
    assert not problems, problems
    assert hostile_answers, "the hostile client sent nothing"
    assert not [status for status in hostile_answers if status >= 500], hostile_answers
    grown = peak[0] - start_rss
    assert grown < RSS_BOUND, f"RSS grew by {grown / 2**20:.0f} MiB (bound {RSS_BOUND / 2**20:.0f} MiB)"
    print(f"{kind}: {len(hostile_answers)} hostile requests, RSS {start_rss / 2**20:.0f} MiB at start, "
          f"peak {peak[0] / 2**20:.0f} MiB")
