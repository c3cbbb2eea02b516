"""What the `text` and `minor_indicators` signals add to a prompt-only moderation, end to end.

    PYTHONPATH=. python benchmarks/signals_overhead.py [--requests 300]

One process, the real classifiers, two in-process services (TestClient, SQLite):
one with every configured classifier, one without `text` and `minor_indicators`.
Requests alternate between them, so load on the machine hits both alike; prints
each one's p50 and p90 and the ratio.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

PROMPTS = [
    "a watercolour painting of a lighthouse at dawn, soft light",
    "a kid at the beach building a sandcastle, golden hour",
    "portrait of an old fisherman, dramatic lighting, 8k, trending on artstation",
    "ein rotes Fahrrad im Schnee, Aquarell",
    "a cyberpunk city street at night, neon signs, rain",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    arguments = parser.parse_args()
    from fastapi.testclient import TestClient

    from classifiers.registry import build_classifiers, load_config
    from conftest import with_key
    from moderation_service.api.app import create_app
    from moderation_service.settings import Settings

    every = build_classifiers(load_config())
    without = {name: c for name, c in every.items() if name not in ("text", "minor_indicators")}
    timings: dict[str, list[float]] = {"with text + minor_indicators": [], "without": []}
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second, \
            TestClient(create_app(Settings(data_dir=Path(first)), every)) as a, \
            TestClient(create_app(Settings(data_dir=Path(second)), without)) as b:
        clients = {"with text + minor_indicators": with_key(a), "without": with_key(b)}
        for index in range(arguments.requests):
            prompt = PROMPTS[index % len(PROMPTS)]
            for label, client in clients.items():
                started = time.perf_counter()
                response = client.post("/v1/moderations", json={"prompt": prompt})
                timings[label].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text
    p50 = {}
    for label, values in timings.items():
        values = values[10:]  # warm-up
        quantiles = statistics.quantiles(values, n=10)
        p50[label] = statistics.median(values)
        print(f"{label:32} p50 {p50[label]:7.2f} ms   p90 {quantiles[8]:7.2f} ms")
    print(f"ratio (with / without) p50: {p50['with text + minor_indicators'] / p50['without']:.2f}")


if __name__ == "__main__":
    main()
