"""Prometheus metrics, served at /metrics. Each app gets its own registry, so
tests (and several apps in one process) never share counters."""
from __future__ import annotations

from typing import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

STAGE_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.decisions = Counter("moderation_decisions", "Moderations by decision and surface",
                                 ["decision", "surface"], registry=self.registry)
        self.stage_seconds = Histogram("moderation_stage_seconds", "Time per stage of a moderation",
                                       ["stage"], buckets=STAGE_BUCKETS_S, registry=self.registry)
        self.classifier_errors = Counter("moderation_classifier_errors", "Classifier failures",
                                         ["classifier"], registry=self.registry)
        self.rejected = Counter("moderation_rejected_requests", "Requests refused with a 4xx, by code",
                                ["code"], registry=self.registry)
        self.bank_matches = Counter("moderation_bank_matches", "Hash-bank matches, by bank",
                                    ["bank"], registry=self.registry)
        self.retroactive_blocks = Counter("moderation_retroactive_blocks", "Published items taken down by a "
                                          "retro-hunt, by bank", ["bank"], registry=self.registry)
        self.ready = Gauge("moderation_ready", "1 once every model is loaded", registry=self.registry)

    def record_moderation(self, decision: str, surface: str, timings_ms: dict[str, float],
                          failed: list[str]) -> None:
        self.decisions.labels(decision=decision, surface=surface).inc()
        for stage, milliseconds in timings_ms.items():
            self.stage_seconds.labels(stage=stage).observe(milliseconds / 1000)
        for name in failed:
            self.classifier_errors.labels(classifier=name).inc()

    def add_queue_collector(self, read_depths: Callable[[], list[tuple[str, int, float]]]) -> None:
        """``read_depths`` gives (queue, pending items, age in seconds of the oldest)."""
        self.registry.register(_QueueCollector(read_depths))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _QueueCollector:
    def __init__(self, read_depths: Callable[[], list[tuple[str, int, float]]]) -> None:
        self._read = read_depths

    def collect(self):
        depth = GaugeMetricFamily("moderation_review_queue_depth", "Pending review items", labels=["queue"])
        oldest = GaugeMetricFamily("moderation_review_queue_oldest_seconds", "Age of the oldest pending item",
                                   labels=["queue"])
        for queue, count, age in self._read():
            depth.add_metric([queue], count)
            oldest.add_metric([queue], age)
        yield depth
        yield oldest
