"""Torch intra-op threads against latency at concurrency 1, side by side in one run.

    python benchmarks/threads.py 0 1 2     (thread counts; 0 is torch's default)

Each count starts its own server (batching on) and sends 40 prompt-only and 40
prompt+image requests one at a time; the first 5 of each are warm-up.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_load import Server, payloads  # noqa: E402


def p50_ms(client: httpx.Client, body: dict, requests: int = 40, warm_up: int = 5) -> float:
    latencies = []
    for index in range(requests):
        started = time.perf_counter()
        response = client.post("/v1/moderations", json={**body, "prompt": f"{body['prompt']} #{index}"})
        latencies.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return statistics.median(latencies[warm_up:])


def main(thread_counts: list[str]) -> None:
    image = payloads("prompt_image")[0]["image"]
    for threads in thread_counts:
        os.environ["MODERATION_TORCH_THREADS"] = threads
        server = Server(batching=True)
        try:
            with httpx.Client(base_url=server.url, headers=server.headers, timeout=60) as client:
                prompt = p50_ms(client, {"prompt": "a watercolour of a lighthouse at dawn"})
                both = p50_ms(client, {"prompt": "a lighthouse", "image": image})
            print(f"torch_threads={threads}: prompt p50 {prompt:.1f} ms, prompt+image p50 {both:.1f} ms", flush=True)
        finally:
            server.stop()


if __name__ == "__main__":
    main(sys.argv[1:] or ["0", "1"])
