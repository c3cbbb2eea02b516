"""Torch intra-op threads against latency at concurrency 1, side by side in one run.

    python benchmarks/threads.py 0 1 2     (thread counts; 0 is torch's default)
"""
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_load  # noqa: E402
from http_load import Server  # noqa: E402

for threads in sys.argv[1:]:
    os.environ["MODERATION_TORCH_THREADS"] = threads
    server = Server(True)
    try:
        with httpx.Client(base_url=server.url, headers=server.headers, timeout=60) as c:
            for body in ({"prompt": "a watercolour of a lighthouse at dawn"}, {"prompt": "a lighthouse", "image": http_load.payloads("prompt_image")[0]["image"]}):
                lat = []
                for i in range(40):
                    b = dict(body); b["prompt"] += f" #{i}"
                    s = time.perf_counter(); r = c.post("/v1/moderations", json=b); lat.append((time.perf_counter()-s)*1000)
                    assert r.status_code == 200, r.text
                print(f"torch_threads={threads} {'image' if 'image' in body else 'prompt'} p50 {statistics.median(lat[5:]):.1f} ms")
    finally:
        server.stop()
