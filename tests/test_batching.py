"""Dynamic batching, exercised with a small fake classifier (it only records the
batches it is given) and once with a real model."""
from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from fastapi.testclient import TestClient

import pytest

from classifiers.base import Classifier, Modality, ModelIdentity, Signal
from moderation_service.api.app import create_app
from moderation_service.batching import DynamicBatcher
from moderation_service.settings import Settings


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


def test_a_failing_item_fails_alone_and_the_batcher_goes_on():
    classifier = RecordingClassifier(fail_on="bad")
    batcher = DynamicBatcher(classifier, max_batch=8, max_wait_ms=50)

    async def run():
        first = await asyncio.gather(*(batcher.classify(text) for text in ("ok", "bad", "fine", "good", "also")),
                                     return_exceptions=True)
        second = await batcher.classify("later")
        return first, second

    try:
        first, second = asyncio.run(run())
    finally:
        batcher.close()
    assert isinstance(first[1], ValueError)
    assert [result.text for i, result in enumerate(first) if i != 1] == ["ok", "fine", "good", "also"]
    assert second.text == "later"
    assert batcher.batches_split >= 1


# Padding in a batch moves raw scores in their last bits; the calibration works on logits, where a raw
# score near 1 (0.99999 against 0.999995) is far apart, so calibrated scores agree to 1e-3, not 1e-4.
CALIBRATED_TOLERANCE = 1e-3


@pytest.mark.parametrize("model", ["toxicity", "pii"])
def test_a_poisoned_item_in_a_real_batch_fails_alone(real_classifiers, model):
    """A lone surrogate makes the real tokenizer (toxicity) and spaCy (PII) raise; mixed into a
    batch of good items from other requests, only its own request loses the signal."""
    classifier = real_classifiers[model]
    batcher = DynamicBatcher(classifier, max_batch=16, max_wait_ms=100)
    good = ["a red bicycle by the sea", "call me at 555-0134 tomorrow", "you are a filthy animal",
            "a quiet lake at dawn", "my name is Ada Lovelace", "I will hurt you", "plain words"]
    texts = good[:3] + ["hello \ud800 world"] + good[3:]

    async def run():
        return await asyncio.gather(*(batcher.classify(text) for text in texts), return_exceptions=True)

    try:
        results = asyncio.run(run())
    finally:
        batcher.close()
    assert isinstance(results[3], Exception)
    answered = results[:3] + results[4:]
    assert not any(isinstance(result, Exception) for result in answered), answered
    for text, signal in zip(good, answered):
        single = classifier.classify(text)
        if model == "toxicity":  # batched padding moves raw scores in the last bits: see below
            assert signal.scores == pytest.approx(single.scores, abs=CALIBRATED_TOLERANCE)
        else:
            assert signal == single
    assert batcher.batches_split >= 1  # it really was one shared batch that raised


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
            assert signal.scores[category] == pytest.approx(value, abs=CALIBRATED_TOLERANCE)


class PreparingClassifier(RecordingClassifier):
    """A test fake whose per-item preparation upper-cases the text and records its thread."""

    def __init__(self) -> None:
        super().__init__()
        self.prepare_threads: set[str] = set()

    def prepare(self, item: str) -> str:
        self.prepare_threads.add(threading.current_thread().name)
        return item.upper()


def test_items_are_prepared_on_the_executor_before_the_batch_thread_runs_the_model():
    classifier = PreparingClassifier()
    with ThreadPoolExecutor(2, thread_name_prefix="prep") as executor:
        batcher = DynamicBatcher(classifier, max_batch=8, max_wait_ms=20, executor=executor)

        async def many():
            return await asyncio.gather(*(batcher.classify(f"t{i}") for i in range(6)))

        try:
            results = asyncio.run(many())
        finally:
            batcher.close()
    assert [r.text for r in results] == [f"T{i}" for i in range(6)]
    assert classifier.prepare_threads and all(name.startswith("prep") for name in classifier.prepare_threads)


def test_the_service_batches_models_but_not_the_per_image_hashes(tmp_path, real_classifiers):
    with TestClient(create_app(Settings(data_dir=tmp_path), real_classifiers)) as client:
        batchers = client.app.state.moderation.require().batchers
        assert {"toxicity", "nsfw", "pii"} <= set(batchers)
        assert not {"image_hash", "pdq"} & set(batchers)


def test_one_clients_flood_of_long_prompts_does_not_hold_back_another_clients_pii(real_classifiers):
    """Issue 12 item 4: with the real PII model, a client's six 8,000-character prompts
    are queued first; another client's short prompt still completes, correctly, after
    at most three of them (in arrival order it would come after all six)."""
    batcher = DynamicBatcher(real_classifiers["pii"], max_batch=16, max_wait_ms=0)
    long_text = ("a quiet harbour at dawn with fishing boats and gulls, " * 160)[:7970] + " mail flood@example.com"
    finished: list[str] = []

    async def scenario():
        async def one(text: str, client: str, tag: str):
            signal = await batcher.classify(text, client)
            finished.append(tag)
            return signal

        flood = [asyncio.create_task(one(long_text, "flooder", f"long-{i}")) for i in range(6)]
        await asyncio.sleep(0)  # every long prompt is queued before the short one
        ordinary = asyncio.create_task(one("mail me at ana.ruiz@example.com", "ordinary", "short"))
        return await asyncio.gather(*flood, ordinary)

    try:
        results = asyncio.run(scenario())
    finally:
        batcher.close()
    assert len(results) == 7 and all("EMAIL_ADDRESS" in {e.type for e in r.entities} for r in results)
    assert results[-1].redacted_text == "mail me at <EMAIL_ADDRESS>"
    assert finished.index("short") <= 3, finished
