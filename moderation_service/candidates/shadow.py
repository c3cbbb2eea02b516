"""Shadow scoring: every item is scored by the candidate models after its response is sent.

A bounded queue feeds one background thread. When the queue is full the item is dropped and
counted, so shadow work can never hold a request or grow memory without bound. Scores go to
``shadow_scores`` with the candidate's model identity; nothing here is returned to a client
or read by a policy.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from prometheus_client.core import CounterMetricFamily
from sqlalchemy.orm import sessionmaker

from classifiers.base import DecodedImage, Modality
from moderation_service.candidates.roster import Roster
from moderation_service.db.tables import ShadowScore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShadowJob:
    item_id: str
    prompt: str | None
    image: DecodedImage | None


class ShadowScorer:
    def __init__(self, roster: Roster, sessions: sessionmaker, queue_size: int, batch_size: int) -> None:
        self.roster = roster
        self._sessions = sessions
        self._queue: queue.Queue[ShadowJob] = queue.Queue(maxsize=queue_size)
        self._batch_size = batch_size
        self._stop = threading.Event()
        self.counts = {"scored": 0, "dropped": 0, "failed": 0}
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return bool(self.roster.shadows())

    def submit(self, item_id: str, prompt: str | None, image: DecodedImage | None) -> None:
        """Never blocks: past the queue's size the job is dropped and counted."""
        try:
            self._queue.put_nowait(ShadowJob(item_id, prompt, image))
        except queue.Full:
            self.counts["dropped"] += 1

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="shadow-scorer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def drain(self, timeout_s: float = 30.0) -> None:
        """Blocks until every submitted job is scored (tests and shutdown)."""
        import time

        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                jobs = [self._queue.get(timeout=0.5)]
            except queue.Empty:
                continue
            while len(jobs) < self._batch_size:
                try:
                    jobs.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self.score(jobs)
            finally:
                for _ in jobs:
                    self._queue.task_done()

    def score(self, jobs: list[ShadowJob]) -> None:
        rows = []
        now = datetime.now(timezone.utc)
        for entry, signal, model in self.roster.shadows():
            wanted = [(job, job.prompt if model.modality is Modality.TEXT else job.image) for job in jobs]
            wanted = [(job, value) for job, value in wanted if value is not None]
            if not wanted:
                continue
            try:
                signals = model.classify_batch([value for _, value in wanted])
            except Exception:  # one candidate's failure must not stop the others
                self.counts["failed"] += len(wanted)
                log.exception("shadow model %s failed on %d items", entry, len(wanted))
                continue
            identity = model.identity.as_dict()
            rows += [ShadowScore(item_id=job.item_id, entry=entry, signal=signal, model=identity,
                                 fields=result.model_dump(mode="json"), created_at=now)
                     for (job, _), result in zip(wanted, signals)]
        if not rows:
            return
        try:
            with self._sessions.begin() as session:
                session.add_all(rows)
            self.counts["scored"] += len(rows)
        except Exception:
            self.counts["failed"] += len(rows)
            log.exception("storing %d shadow scores failed", len(rows))

    def collect(self) -> Any:
        """Prometheus collector: moderation_shadow_{scored,dropped,failed}_total."""
        for name, value in self.counts.items():
            family = CounterMetricFamily(f"moderation_shadow_{name}", f"Shadow-model scores {name}")
            family.add_metric([], value)
            yield family
