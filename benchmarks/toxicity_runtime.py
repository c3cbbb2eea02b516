"""The bundled toxicity model on torch, onnxruntime, and onnxruntime int8, side by side in one run.

    python benchmarks/toxicity_runtime.py

Scores real data-set prompts (../shared/datasets, HateCheck and I2P) with each
runtime at batch 1 and 32, all on one thread, and prints the time per prompt
relative to torch and the largest score difference from torch. The int8 graph
is onnxruntime's dynamic quantisation (per-channel MatMul weights) of the
served graph; it is measured here, not served, because of that difference.
"""
from __future__ import annotations

import csv
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "datasets"
FALLBACK = ["a watercolour of a lighthouse at dawn", "Shut up, you stupid worthless idiot", "hi"]


def prompts(count: int = 1000) -> list[str]:
    texts: list[str] = []
    for path, column in ((SHARED / "hatecheck" / "test_suite_cases.csv", "test_case"),
                         (SHARED / "i2p" / "i2p_benchmark.csv", "prompt")):
        if path.is_file():
            with open(path, newline="") as handle:
                texts += [row[column] for row in csv.DictReader(handle) if row.get(column)]
    random.Random(3).shuffle(texts)
    return texts[:count] or FALLBACK * 50


def timed_scores(backend, texts: list[str], batch: int) -> tuple[np.ndarray, float]:
    backend.score(texts[:batch], batch)  # warm-up
    started = time.perf_counter()
    rows = []
    for start in range(0, len(texts), batch):
        rows += backend.score(texts[start : start + batch], batch)
    seconds = (time.perf_counter() - started) / len(texts)
    return np.array([list(row.values()) for row in rows]), seconds


def main() -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from classifiers.toxicity import BUNDLED_HEAD_DIR, _BundledBackend
    from classifiers.toxicity_onnx import OnnxBundledBackend

    torch.set_num_threads(1)
    texts = prompts()
    reference = _BundledBackend(BUNDLED_HEAD_DIR, "cpu", 128)
    served = OnnxBundledBackend("cpu", 128, intra_op_threads=1)
    with tempfile.TemporaryDirectory() as directory:
        int8_path = Path(directory) / "int8.onnx"
        quantize_dynamic(str(served.graph_file), str(int8_path), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])
        int8 = OnnxBundledBackend("cpu", 128, intra_op_threads=1, graph=int8_path)
        print(f"{len(texts)} prompts, one thread each")
        for batch in (1, 32):
            expected, torch_seconds = timed_scores(reference, texts, batch)
            for name, backend in (("onnxruntime", served), ("onnxruntime int8", int8)):
                scores, seconds = timed_scores(backend, texts, batch)
                difference = np.abs(scores - expected)
                print(f"  batch {batch:<3}{name:<18}{torch_seconds / seconds:5.2f}x torch's speed "
                      f"({seconds * 1000:.2f} ms/prompt), score difference max {difference.max():.2e}, "
                      f"p99 {np.quantile(difference, 0.99):.2e}")


if __name__ == "__main__":
    main()
