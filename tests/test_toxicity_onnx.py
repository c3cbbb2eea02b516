"""The ONNX runtime of the bundled text safety model against its torch reference,
on real weights and real data set prompts (long ones read in several windows),
and the length buckets both use."""
from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.text_batches import BUCKET_LENGTH_RATIO, BUCKET_LENGTH_SLACK, length_buckets, tokenized_buckets
from classifiers.toxicity import CATEGORIES, ToxicityClassifier
from classifiers.base import sha256_of_files
from classifiers.toxicity import bundled_weight_files
from classifiers.toxicity_onnx import SCORE_TOLERANCE, export_graph, graph_path

from conftest import SHARED_DATASETS
EDGE_CASES = [
    "hi",
    "A watercolor painting of a lighthouse at sunset, highly detailed.",
    "Shut up, you stupid worthless bitch, I will kill you.",
    "çà et là, 東京の夜景, مرحبا, 🙂🙂🙂",
    "word " * 400,  # past one window: read in overlapping windows by both
    "a calm lake at dawn. " * 60 + "I will kill you.",
]


_WORDS = ("a portrait of an old sailor, oil painting, dramatic light; you are a stupid worthless idiot; "
          "I will hurt you if you come back; cyberpunk city at night, neon, rain, 8k; those people are vermin "
          "and should leave; a cat sleeping on a windowsill; shut up, nobody likes you; mountains, fog, sunrise; "
          "kill it with fire, the bug in my code; 東京の夜景, çà et là, مرحبا").split()


def _own_prompts(count: int) -> list[str]:
    """Prompts of every length from 1 to ~150 words, from a fixed vocabulary: inputs the
    test builds itself when the shared data sets are absent."""
    rng = random.Random(11)
    return [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 150))) for _ in range(count)]


def _prompts(count: int) -> list[str]:
    texts = list(EDGE_CASES)
    if SHARED_DATASETS.is_dir():
        with open(SHARED_DATASETS / "hatecheck" / "test_suite_cases.csv", newline="") as handle:
            texts += [row["test_case"] for row in csv.DictReader(handle)]
        with open(SHARED_DATASETS / "i2p" / "i2p_benchmark.csv", newline="") as handle:
            texts += [row["prompt"] for row in csv.DictReader(handle) if row.get("prompt")]
    else:
        texts += _own_prompts(count)
    random.Random(5).shuffle(texts)
    return texts[:count] + EDGE_CASES


@pytest.fixture(scope="module")
def runtimes() -> tuple[ToxicityClassifier, ToxicityClassifier]:
    return ToxicityClassifier(runtime="onnx"), ToxicityClassifier(runtime="torch")


@pytest.mark.slow
def test_onnx_probabilities_match_torch_within_the_stated_tolerance(runtimes) -> None:
    onnx, torch_ = runtimes
    texts = _prompts(600)
    # The back ends' raw probabilities (max over windows, before calibration): the
    # signal's rounding would hide a drift below 1e-5, and a steep calibration step could magnify one.
    onnx_scores = onnx._backend.raw_scores(texts, batch_size=32)
    torch_scores = torch_._backend.raw_scores(texts, batch_size=32)
    assert onnx_scores.shape == torch_scores.shape == (len(texts), len(CATEGORIES))
    assert float(np.abs(onnx_scores - torch_scores).max()) <= SCORE_TOLERANCE
    # And the calibrated scores the service reports agree too, category by category.
    for a, b in zip(onnx._backend.score(texts[:50], 32), torch_._backend.score(texts[:50], 32)):
        assert a == pytest.approx(b, abs=1e-3)


@pytest.mark.slow
def test_onnx_is_the_cpu_default_and_names_its_runtime(runtimes) -> None:
    onnx, torch_ = runtimes
    default = ToxicityClassifier()
    assert default.runtime == "onnx" and default.device == "cpu"
    assert default.identity.version.endswith("+onnxruntime")
    # Same source weights, so decisions made by either runtime name the same weights.
    assert onnx.identity.weights_sha256 == torch_.identity.weights_sha256


@pytest.mark.slow
def test_graph_export_is_reproducible_and_named_by_its_sources(tmp_path: Path) -> None:
    first, second = export_graph(tmp_path / "a.onnx"), export_graph(tmp_path / "b.onnx")
    assert first.read_bytes() == second.read_bytes()
    assert not list(tmp_path.glob("*.partial"))
    name = graph_path(tmp_path, sha256_of_files(*bundled_weight_files())).name
    changed = tmp_path / "config.json"
    changed.write_text("{}")
    assert graph_path(tmp_path, sha256_of_files(*bundled_weight_files()[:2], changed)).name != name


def test_bad_runtime_choices_are_refused_before_loading_anything() -> None:
    with pytest.raises(ValueError, match="runtime must be one of"):
        ToxicityClassifier(runtime="tensorrt")
    with pytest.raises(ValueError, match="committed model only"):
        ToxicityClassifier(runtime="onnx", model_dir="/nonexistent")
    with pytest.raises(ValueError, match="committed model only"):
        ToxicityClassifier(runtime="onnx", text_model_dir="/nonexistent")
    with pytest.raises(ValueError, match="not both"):
        ToxicityClassifier(model_dir="/a", text_model_dir="/b")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=128), max_size=80), st.integers(min_value=1, max_value=16))
def test_length_buckets_cover_each_text_once_within_the_bounds(lengths: list[int], max_batch: int) -> None:
    buckets = length_buckets(lengths, max_batch)
    assert sorted(index for bucket in buckets for index in bucket) == list(range(len(lengths)))
    for bucket in buckets:
        assert 1 <= len(bucket) <= max_batch
        shortest, longest = min(lengths[i] for i in bucket), max(lengths[i] for i in bucket)
        assert longest <= shortest * BUCKET_LENGTH_RATIO + BUCKET_LENGTH_SLACK


def test_buckets_pad_only_to_their_own_longest_text() -> None:
    """A test fake tokenizer: one token per word, so lengths are easy to read."""

    class WordTokenizer:
        pad_token_id = 0
        padding_side = "right"

        def __call__(self, texts, truncation, max_length):
            ids = [[i + 1 for i, _ in enumerate(text.split())][:max_length] for text in texts]
            return {"input_ids": ids, "attention_mask": [[1] * len(row) for row in ids]}

    texts = ["a b", "a " * 100, "a", "a b c"]
    batches = list(tokenized_buckets(WordTokenizer(), texts, max_length=64, max_batch=8))
    assert [indices for indices, _ in batches] == [[2, 0, 3], [1]]
    short = batches[0][1]
    assert short["input_ids"].shape == (3, 3) and short["input_ids"].dtype == np.int64
    assert short["attention_mask"].tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    assert batches[1][1]["input_ids"].shape == (1, 64)
