"""Dynamic micro-batching per model, in the style of Triton's dynamic batcher.

Concurrent requests for one classifier wait at most ``max_wait_ms`` to be
gathered into one batch of at most ``max_batch`` items, which runs as one
forward pass on the model's own worker thread; each result goes back to the
request that sent it. Each model has its own thread, so a text-only request
never waits behind an image model. Each item is first ``prepare``d by the
classifier on ``executor`` (per request, in parallel), so the model's thread
runs the model alone.

Items wait in a ``FairQueue``, one line per client, so a client that floods a
model delays another client by at most one of its items per batch. A
classifier may also cap a batch's total cost (``item_cost``/``batch_cost_limit``,
characters for PII), so one batch never gathers many long items. A batch
that raises is bisected until the failing item is alone, so only that item's
request gets a failed signal.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from classifiers.base import Classifier, Signal
from moderation_service.fair_queue import Empty, FairQueue

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    item: Any
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop


class DynamicBatcher:
    def __init__(
        self, classifier: Classifier, max_batch: int = 16, max_wait_ms: float = 2.0, executor: Executor | None = None
    ) -> None:
        self.classifier = classifier
        self.executor = executor  # None: the event loop's default executor
        # A classifier with nothing to prepare (PII) spares its requests a thread hop.
        self._prepares = type(classifier).prepare is not Classifier.prepare
        self.max_batch = max(1, max_batch)
        self.max_wait_s = max(0.0, max_wait_ms) / 1000
        self._queue = FairQueue()
        self._item_cost = getattr(classifier, "item_cost", None)
        self._cost_limit = getattr(classifier, "batch_cost_limit", None)
        self.batches_run = 0
        self.items_run = 0
        self.batches_split = 0  # batches that raised and were bisected
        self._thread = threading.Thread(target=self._work, name=f"batcher-{classifier.name}", daemon=True)
        self._thread.start()

    async def classify(self, item: Any, client: str | None = None) -> Signal:
        """The signal for ``item``; ``client`` names the line it waits in (see module doc)."""
        loop = asyncio.get_running_loop()
        prepared = await loop.run_in_executor(self.executor, self.classifier.prepare, item) if self._prepares else item
        future = loop.create_future()
        self._queue.put(_Pending(prepared, future, loop), client)
        return await future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                if len(self._queue):  # other clients' items still wait: serve them first
                    self._queue.put(None)
                    continue
                return
            batch = [first]
            cost = self._cost(first)
            deadline = time.monotonic() + self.max_wait_s
            while len(batch) < self.max_batch and (self._cost_limit is None or cost < self._cost_limit):
                remaining = deadline - time.monotonic()
                try:
                    pending = self._queue.get(timeout=max(0.0, remaining))
                except Empty:
                    break
                if pending is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(pending)
                cost += self._cost(pending)
            self._run(batch)

    def _cost(self, pending: _Pending) -> int:
        return self._item_cost(pending.item) if self._item_cost is not None else 1

    def _run(self, batch: list[_Pending]) -> None:
        try:
            results = self._classify(batch)
        except Exception as exc:
            if len(batch) == 1:  # this item alone fails; the policy's on_error decides for its request
                log.warning("classifier %s failed on one item: %s", self.classifier.name, type(exc).__name__)
                batch[0].loop.call_soon_threadsafe(_set_exception, batch[0].future, exc)
                return
            # One bad item must not fail the others: bisect, so a single poisoned item costs
            # about 2*log2(batch) extra passes and every other item still gets its signal.
            self.batches_split += 1
            middle = len(batch) // 2
            self._run(batch[:middle])
            self._run(batch[middle:])
            return
        self.batches_run += 1
        self.items_run += len(batch)
        for pending, result in zip(batch, results):
            pending.loop.call_soon_threadsafe(_set_result, pending.future, result)

    def _classify(self, batch: list[_Pending]) -> list[Any]:
        results = self.classifier.classify_prepared([pending.item for pending in batch])
        if len(results) != len(batch):
            raise RuntimeError(f"{self.classifier.name} returned {len(results)} signals for {len(batch)} inputs")
        return results


def _set_result(future: asyncio.Future, result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _set_exception(future: asyncio.Future, exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
