"""Dynamic batching, exercised with a small fake classifier (it only records the
batches it is given) and once with a real model."""
from __future__ import annotations

import asyncio
from typing import Sequence

import pytest

from classifiers.base import Classifier, Modality, ModelIdentity, Signal
from moderation_service.batching import DynamicBatcher


class EchoSignal(Signal):
    text: str


class RecordingClassifier(Classifier[str, EchoSignal]):
    """A test fake: echoes its input and records batch sizes."""

    name = "echo"
    modality = Modality.TEXT

    def __init__(self, fail_on: str | None = None) -> None:
        self.identity = ModelIdentity("echo", "0", "0" * 64)
        self.batches: list[int] = []
        self.fail_on = fail_on

    def classify_batch(self, inputs: Sequence[str]) -> list[EchoSignal]:
        self.batches.append(len(inputs))
        if self.fail_on in inputs:
            raise ValueError("boom")
        return [EchoSignal(text=text) for text in inputs]


def test_concurrent_requests_are_gathered_and_answered_in_order():
    classifier = RecordingClassifier()
    batcher = DynamicBatcher(classifier, max_batch=8, max_wait_ms=50)

    async def many():
        return await asyncio.gather(*(batcher.classify(f"t{i}") for i in range(20)))

    try:
        results = asyncio.run(many())
    finally:
        batcher.close()
    assert [r.text for r in results] == [f"t{i}" for i in range(20)]
    assert sum(classifier.batches) == 20
    assert max(classifier.batches) == 8 and len(classifier.batches) < 20


def test_a_failing_batch_fails_each_of_its_requests_and_the_batcher_goes_on():
    classifier = RecordingClassifier(fail_on="bad")
    batcher = DynamicBatcher(classifier, max_batch=4, max_wait_ms=20)

    async def run():
        first = await asyncio.gather(batcher.classify("bad"), batcher.classify("ok"), return_exceptions=True)
        second = await batcher.classify("fine")
        return first, second

    try:
        first, second = asyncio.run(run())
    finally:
        batcher.close()
    assert all(isinstance(result, ValueError) for result in first)
    assert second.text == "fine"


def test_batched_scores_equal_single_scores_on_the_real_toxicity_model(real_classifiers):
    toxicity = real_classifiers["toxicity"]
    batcher = DynamicBatcher(toxicity, max_batch=16, max_wait_ms=20)
    texts = ["a red bicycle", "you are a filthy animal", "a quiet lake", "I will hurt you"]

    async def run():
        return await asyncio.gather(*(batcher.classify(text) for text in texts))

    try:
        batched = asyncio.run(run())
    finally:
        batcher.close()
    for text, signal in zip(texts, batched):
        single = toxicity.classify(text)
        for category, value in single.scores.items():
            assert signal.scores[category] == pytest.approx(value, abs=1e-4)
