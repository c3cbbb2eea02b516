"""PII classifier latency per prompt: today's classifier against the one before normalisation, side by side.

    python benchmarks/pii_runtime.py [--prompts 400]

Both load in one process; prompts (I2P from ../shared/datasets when present,
then presidio-research's synthetic sentences, else built-in ones) are
classified one at a time, alternating between the two classifiers so load on
the machine hits both alike. Prints p50 and p90 per prompt for each and the
ratio (ours / baseline); the issue's bound is p50 within 1.2x. The baseline is
``benchmarks/pii_baseline.py``, ``classifiers/pii.py`` as it was before issue 13.
Also times one 8,000-character (the service's limit) hostile prompt of each
kind, where the baseline was slowest: about two minutes in all, most of it
the baseline's.
"""
from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
SHARED = ROOT.parent / "shared" / "datasets"
BUILT_IN = [
    "a watercolor fox in a misty forest at dawn, soft light, 4k",
    "portrait of Ada Lovelace at her desk, oil painting",
    "contact me at jane.roe@example.com for the commission",
    "cyberpunk street at night, neon signs, rain, 35mm",
    "my card 4111 1111 1111 1111 was charged twice",
    "a cat wearing a tiny hat, studio lighting",
    "call 212-555-0187 to book the shoot in Paris",
]


def prompts(count: int) -> list[str]:
    found: list[str] = []
    i2p = SHARED / "i2p" / "i2p_benchmark.csv"
    if i2p.is_file():
        with open(i2p, newline="") as handle:
            found += [row["prompt"] for row in csv.DictReader(handle) if row.get("prompt")][: count // 2]
    synth = SHARED / "presidio-synth" / "synth_dataset_v2.json"
    if synth.is_file():
        found += [row["full_text"] for row in json.loads(synth.read_text())][: count - len(found)]
    while len(found) < count:
        found += BUILT_IN
    return found[:count]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=400)
    args = parser.parse_args()
    from classifiers.pii import PresidioPiiClassifier
    from pii_baseline import PresidioPiiClassifier as BaselinePiiClassifier

    systems = {"baseline": BaselinePiiClassifier(), "ours": PresidioPiiClassifier()}
    texts = prompts(args.prompts)
    timings: dict[str, list[float]] = {name: [] for name in systems}
    for text in texts:
        for name, classifier in systems.items():
            started = time.perf_counter()
            classifier.classify_batch([text])
            timings[name].append((time.perf_counter() - started) * 1000)
    print(f"{len(texts)} prompts, one at a time, alternating")
    for name, values in timings.items():
        print(f"{name:>9}: p50 {statistics.median(values):7.2f} ms   p90 {percentile(values, 0.9):7.2f} ms")
    ratio = statistics.median(timings["ours"]) / statistics.median(timings["baseline"])
    print(f"p50 ratio ours/baseline: {ratio:.2f} (bound 1.2)")
    print("8,000-character hostile prompts (ms):")
    for label, text in (("emoji", "😀" * 8000), ("dots", "." * 8000), ("bangs", "!" * 8000),
                        ("prose", ("a cat in a hat " * 600)[:8000])):
        cells = []
        for name, classifier in systems.items():
            started = time.perf_counter()
            classifier.classify_batch([text])
            cells.append(f"{name} {(time.perf_counter() - started) * 1000:8.0f}")
        print(f"  {label:>6}: " + "   ".join(cells))


if __name__ == "__main__":
    main()
