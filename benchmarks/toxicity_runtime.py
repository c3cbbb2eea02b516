"""The text safety model beside the first head (today's baseline), side by side in one run.

    python benchmarks/toxicity_runtime.py [PROMPTS]    # default 600

Scores real data-set prompts (../shared/datasets, HateCheck and I2P) on one
thread: the v1 head (frozen MiniLM + MLP, exported here to onnxruntime as it
was served) and the v2 model on onnxruntime (served) and torch (reference).
Prints per-prompt p50 at batch 1 and the mean at batch 32 as ratios to v1, the
largest raw-score difference between v2's runtimes, and what long prompts cost
(windows of 128 tokens, stride 64) against a short one.
"""
from __future__ import annotations

import csv
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "datasets"
FALLBACK = ["a watercolour of a lighthouse at dawn", "Shut up, you stupid worthless idiot", "hi"]
SCENE = "a quiet harbour at dawn, fishing boats on grey water, gulls over the pier, warm light on old houses. "


def prompts(count: int = 600) -> list[str]:
    texts: list[str] = []
    for path, column in ((SHARED / "hatecheck" / "test_suite_cases.csv", "test_case"),
                         (SHARED / "i2p" / "i2p_benchmark.csv", "prompt")):
        if path.is_file():
            with open(path, newline="") as handle:
                texts += [row[column] for row in csv.DictReader(handle) if row.get(column)]
    random.Random(3).shuffle(texts)
    return texts[:count] or FALLBACK * 50


def legacy_onnx(directory: Path):
    """The v1 head as it was served: encoder + mean pooling + L2 norm + head + sigmoid in one graph."""
    import onnxruntime
    import torch

    from classifiers.toxicity import LegacyHeadBackend, mean_pool_and_normalize

    backend = LegacyHeadBackend()

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder, self.head = backend.encoder.model, backend.head

        def forward(self, input_ids, attention_mask, token_type_ids):
            states = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            return torch.sigmoid(self.head(mean_pool_and_normalize(states, attention_mask)))

    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = backend.encoder.tokenizer(["an example", "a longer example prompt"], padding=True, return_tensors="pt")
    path = directory / "v1.onnx"
    with torch.inference_mode():
        torch.onnx.export(Graph().eval(), tuple(example[n] for n in names), str(path), input_names=names,
                          output_names=["p"], dynamic_axes={n: {0: "b", 1: "t"} for n in names}, opset_version=17, dynamo=False)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    tokenizer = backend.encoder.tokenizer

    def score(texts: list[str], _batch: int) -> np.ndarray:
        feed = tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="np")
        return session.run(None, {n: feed[n].astype(np.int64) for n in names})[0]

    return score


def per_prompt_seconds(score, texts: list[str], batch: int) -> list[float]:
    score(texts[:batch], batch)  # warm-up
    timings = []
    for start in range(0, len(texts), batch):
        chunk = texts[start : start + batch]
        started = time.perf_counter()
        score(chunk, batch)
        timings.append((time.perf_counter() - started) / len(chunk))
    return timings


def main() -> None:
    import torch

    from classifiers.toxicity import _BundledBackend
    from classifiers.toxicity_onnx import OnnxBundledBackend

    torch.set_num_threads(1)
    texts = prompts(int(sys.argv[1]) if len(sys.argv) > 1 else 600)
    served = OnnxBundledBackend("cpu", 128, intra_op_threads=1)
    reference = _BundledBackend(None, "cpu")
    with tempfile.TemporaryDirectory() as directory:
        v1 = legacy_onnx(Path(directory))
        runtimes = {"v1 head, onnxruntime (today)": v1, "v2, onnxruntime (served)": served.score, "v2, torch": reference.score}
        print(f"{len(texts)} prompts, one thread each")
        results = {}
        for name, score in runtimes.items():
            single = per_prompt_seconds(score, texts, 1)
            batched = per_prompt_seconds(score, texts, 32)
            results[name] = (statistics.median(single), statistics.mean(batched))
        base_single, base_batched = results["v1 head, onnxruntime (today)"]
        for name, (single, batched) in results.items():
            print(f"  {name:<30} batch 1 p50 {single * 1000:6.2f} ms ({single / base_single:4.2f}x v1)   "
                  f"batch 32 {batched * 1000:6.2f} ms/prompt ({batched / base_batched:4.2f}x v1)")
        difference = np.abs(served.raw_scores(texts, 32) - reference.raw_scores(texts, 32)).max()
        print(f"  v2 raw-score difference onnxruntime vs torch: max {difference:.2e}")
        short = per_prompt_seconds(served.score, ["a cat on a sofa, oil painting"] * 30, 1)
        print("  long prompts (v2 served, batch 1):")
        for words in (100, 250, 500, 1400):
            text = " ".join((SCENE * 200).split()[:words])
            tokens = len(served.tokenizer(text, add_special_tokens=False)["input_ids"])
            timing = per_prompt_seconds(served.score, [text] * 5, 1)
            print(f"    {len(text):5} characters, {tokens:5} tokens: {statistics.median(timing) * 1000:7.1f} ms "
                  f"({statistics.median(timing) / statistics.median(short):5.1f}x a short prompt)")


if __name__ == "__main__":
    main()
