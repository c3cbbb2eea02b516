"""End-to-end latency and throughput over HTTP, batching against the naive path.

    python benchmarks/http_load.py [--quick]      (or: make bench)

Starts `moderation serve` in a subprocess once per mode and drives it from this
process with an async httpx load generator at concurrency 1, 8 and 32, for
prompt-only, image-only and prompt+image requests. The modes:

* batched: dynamic batching as shipped;
* naive: one request at a time through each model (batches of one, no wait);
* unbatched: batching off, models called from the service's thread pool, so
  several requests may run one model at once (not serialised, not batched).

Prints p50/p95/p99, requests/s, the per-stage timings the responses report,
peak RSS, the throughput ratios of the same run, and, where the batching goal
is missed, the arithmetic limit (benchmarks/arithmetic_limit.py). Writes
benchmarks/results/http_load.json and a PNG chart of latency against concurrency.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from arithmetic_limit import arithmetic_limit, print_limit  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
MODERATION = Path(sys.executable).with_name("moderation")
GOALS = {"prompt_p50_ms_c1": 25.0, "prompt_image_p50_ms_c1": 80.0, "batching_speedup_c32": 3.0}
PROMPTS = ["a watercolour of a lighthouse at dawn", "portrait of an old sailor, oil on canvas, dramatic light",
           "a cat wearing a tiny wizard hat, studio photo", "neon city street in the rain, cinematic, 35mm",
           "email me at someone@example.com for the full-size print", "a bowl of ramen, top-down food photo"]


def scene_jpeg(seed: int, size: int = 512) -> bytes:
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, size)[:, None, None]
    pixels = (rng.integers(0, 256, 3) * (1 - ramp) + rng.integers(0, 256, 3) * ramp).repeat(size, axis=1)
    pixels = np.clip(pixels + rng.normal(0, 12, pixels.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def payloads(kind: str) -> list[dict]:
    images = [base64.b64encode(scene_jpeg(seed)).decode() for seed in range(8)]
    bodies = []
    for index in range(64):
        body: dict = {}
        if kind in ("prompt", "prompt_image"):
            body["prompt"] = f"{PROMPTS[index % len(PROMPTS)]} #{index}"
        if kind in ("image", "prompt_image"):
            body["image"] = images[index % len(images)]
        bodies.append(body)
    return bodies


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


MODES = {
    "batched": {},
    "naive": {"MODERATION_BATCH_MAX_SIZE": "1", "MODERATION_BATCH_MAX_WAIT_MS": "0"},
    "unbatched": {"MODERATION_BATCHING": "false"},
}


class Server:
    def __init__(self, settings: dict[str, str]) -> None:
        self.port = free_port()
        self.data = tempfile.TemporaryDirectory()
        env = {**os.environ, "MODERATION_DATA_DIR": self.data.name,
               "MODERATION_POLICY_WATCH_INTERVAL_S": "0", "MODERATION_RATE_LIMIT_PER_MINUTE": "0",
               "HF_HUB_OFFLINE": "1", **settings}
        self.process = subprocess.Popen([str(MODERATION), "serve", "--port", str(self.port), "--log-level", "warning"],
                                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        created = subprocess.run([str(MODERATION), "keys", "create", "--client", "bench", "--scopes", "moderate"],
                                 env=env, capture_output=True, text=True, check=True)
        self.headers = {"Authorization": f"Bearer {created.stdout.strip().splitlines()[-1]}"}
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError("the server did not become ready")

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (all its threads)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.data.cleanup()


async def drive(server: "Server", bodies: list[dict], concurrency: int, requests: int) -> dict:
    latencies: list[float] = []
    stages: dict[str, list[float]] = {}
    errors = 0
    counter = iter(range(requests))

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        for index in counter:
            started = time.perf_counter()
            response = await client.post("/v1/moderations", json=bodies[index % len(bodies)])
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                errors += 1
                continue
            for stage, value in response.json()["timings_ms"].items():
                stages.setdefault(stage, []).append(value)
            # The commit's time is a Server-Timing header, not in the (replayable) body.
            if (timing := response.headers.get("server-timing", "")).startswith("store;dur="):
                stages.setdefault("store", []).append(float(timing.removeprefix("store;dur=")))

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits, headers=server.headers) as client:
        await client.post("/v1/moderations", json=bodies[0])  # warm-up
        started, cpu_started = time.perf_counter(), server.cpu_seconds()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed, cpu = time.perf_counter() - started, server.cpu_seconds() - cpu_started
    ordered = sorted(latencies)
    return {
        "requests": len(latencies), "errors": errors, "rps": len(latencies) / elapsed,
        # Server CPU per request, and how many cores it kept busy: tells spare cores from a saturated path.
        "cpu_ms_per_request": cpu * 1000 / max(1, len(latencies)), "cores_busy": cpu / elapsed,
        "p50_ms": ordered[len(ordered) // 2], "p95_ms": ordered[int(len(ordered) * 0.95) - 1],
        "p99_ms": ordered[max(0, int(len(ordered) * 0.99) - 1)],
        "stages_p50_ms": {stage: statistics.median(values) for stage, values in sorted(stages.items())},
    }


def run(quick: bool) -> dict:
    concurrencies = [1, 8, 32]
    kinds = ["prompt", "image", "prompt_image"]
    per_request = {1: 20 if quick else 60, 8: 48 if quick else 160, 32: 96 if quick else 320}
    figures: dict = {"modes": {}}
    for mode, settings in MODES.items():
        server = Server(settings)
        try:
            results = {}
            for kind in kinds:
                bodies = payloads(kind)
                for concurrency in concurrencies:
                    key = f"{kind}@c{concurrency}"
                    results[key] = asyncio.run(drive(server, bodies, concurrency, per_request[concurrency]))
                    line = results[key]
                    print(f"{mode:<10}{kind:<14}c={concurrency:<4}p50 {line['p50_ms']:7.1f}  p95 {line['p95_ms']:7.1f}"
                          f"  p99 {line['p99_ms']:7.1f} ms  {line['rps']:6.1f} req/s  errors {line['errors']}"
                          f"  cpu {line['cpu_ms_per_request']:5.1f} ms/req on {line['cores_busy']:.2f} cores",
                          flush=True)
            figures["modes"][mode] = {"results": results, "peak_rss_mb": server.peak_rss_mb()}
        finally:
            server.stop()
    return figures


def summarise(figures: dict) -> None:
    batched, naive, unbatched = (figures["modes"][mode] for mode in MODES)
    print("\npeak RSS: " + ", ".join(f"{mode} {line['peak_rss_mb']:.0f} MB" for mode, line in figures["modes"].items()))
    print("\nslowest stages (p50 ms, batched, prompt_image@c1):")
    for stage, value in sorted(batched["results"]["prompt_image@c1"]["stages_p50_ms"].items(), key=lambda kv: -kv[1]):
        print(f"  {stage:<12}{value:7.1f}")
    print("\nthroughput ratios, same run:     batched/naive   batched/unbatched")
    ratios, pool_ratios = {}, {}
    for key, line in batched["results"].items():
        ratios[key] = line["rps"] / naive["results"][key]["rps"]
        pool_ratios[key] = line["rps"] / unbatched["results"][key]["rps"]
        print(f"  {key:<30}{ratios[key]:8.2f}x{pool_ratios[key]:16.2f}x")
    figures["ratios"], figures["ratios_to_unbatched"] = ratios, pool_ratios
    checks = [
        ("prompt-only p50 at c=1", batched["results"]["prompt@c1"]["p50_ms"], GOALS["prompt_p50_ms_c1"], "ms", False),
        ("prompt+image p50 at c=1", batched["results"]["prompt_image@c1"]["p50_ms"], GOALS["prompt_image_p50_ms_c1"],
         "ms", False),
        ("batching speed-up, prompt+image at c=32", ratios["prompt_image@c32"], GOALS["batching_speedup_c32"], "x", True),
    ]
    print("\ngoals:")
    for label, value, goal, unit, higher_is_better in checks:
        met = value >= goal if higher_is_better else value <= goal
        gap = "" if met else f" (misses by {abs(value - goal):.1f} {unit})"
        print(f"  {label}: {value:.1f} {unit} against {goal:g} {unit}: {'met' if met else 'MISSED'}{gap}")
    errors = sum(line["errors"] for mode in figures["modes"].values() for line in mode["results"].values())
    print(f"  errors under load: {errors}")
    if ratios["prompt_image@c32"] < GOALS["batching_speedup_c32"]:
        explain_with_arithmetic_limit(figures)


def explain_with_arithmetic_limit(figures: dict) -> None:
    """What batching could give at most: each model's batched rate over its one-at-a-time rate."""
    limit = arithmetic_limit()
    print_limit(limit)
    figures["arithmetic_limit"] = limit
    print("  most batching can multiply each model's own throughput (best batch / batch 1, measured above):")
    for name, model in limit["models"].items():
        rates = list(model["measured_items_per_s"].values())
        print(f"    {name:<10}{rates[-1] / rates[0]:.2f}x")
    print("  the rest of a request (decode, preprocessing, PII, hashes, store, HTTP) is per-item work.")
    cores = limit["cores"]
    print(f"  CPU per request at c=32 and the ceiling it sets ({cores} cores all busy):")
    for kind in ("prompt", "image", "prompt_image"):
        naive, batched = (figures["modes"][mode]["results"][f"{kind}@c32"] for mode in ("naive", "batched"))
        ceiling = cores * 1000 / batched["cpu_ms_per_request"]
        print(f"    {kind:<14}naive {naive['cpu_ms_per_request']:5.1f} ms, batched {batched['cpu_ms_per_request']:5.1f} ms"
              f" on {batched['cores_busy']:.2f} cores busy: at most {ceiling:5.0f} req/s,"
              f" {ceiling / naive['rps']:.1f}x the naive path")


def chart(figures: dict) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 5))
    colours = {"prompt": "tab:blue", "image": "tab:orange", "prompt_image": "tab:green"}  # one per request type
    for mode, style in zip(MODES, ("-", "--", ":")):
        for kind, colour in colours.items():
            points = [(c, figures["modes"][mode]["results"][f"{kind}@c{c}"]["p50_ms"]) for c in (1, 8, 32)]
            axis.plot(*zip(*points), style, color=colour, marker="o", label=f"{kind} ({mode})")
    axis.set_xscale("log", base=2)
    axis.set_xlabel("concurrency")
    axis.set_ylabel("p50 latency (ms)")
    axis.set_title("Latency against concurrency, 2 CPU cores")
    axis.legend(fontsize=8)
    path = RESULTS / "http_latency.png"
    figure.savefig(path, dpi=110, bbox_inches="tight")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests per point")
    arguments = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    figures = run(arguments.quick)
    summarise(figures)
    (RESULTS / "http_load.json").write_text(json.dumps(figures, indent=2))
    print(f"\nwrote {RESULTS / 'http_load.json'} and {chart(figures)}")


if __name__ == "__main__":
    main()
