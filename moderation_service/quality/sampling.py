"""Which live items go to blind quality review, and with what inclusion probability.

Two samples, each with a daily budget (UTC):

- ``uniform``: every item the policy did not send to review is drawn with
  probability ``sample_rate``. This is the probability sample that the
  enforcement estimates (``moderation_service.quality.estimates``) rest on.
- ``uncertainty``: an item not drawn uniformly, allowed or blocked with a
  score within ``uncertainty_margin`` of a threshold its policy compares that
  score with, is drawn with probability ``uncertainty_rate`` (active learning:
  the items a model is least sure of teach it most).

The probability is stored with the queue entry (``review_queue.sampling`` and
``sampling_probability``), so estimates and training can weight by ``1/p``.
Items the policy sends to review are not sampled: reviewers label them anyway.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from moderation_service.policy.spec import PolicySpec
from moderation_service.quality.config import QualitySettings
from moderation_service.review.thresholds import threshold_comparisons

UNIFORM = "uniform"
UNCERTAINTY = "uncertainty"

@dataclass(frozen=True)
class Sample:
    kind: str  # uniform or uncertainty
    probability: float
    queue: str


class QualitySampler:
    """``count_today(kind, since)`` returns how many samples of ``kind`` were taken since ``since``."""

    def __init__(self, settings: QualitySettings, count_today: Callable[[str, datetime], int],
                 rng: random.Random | None = None) -> None:
        self.settings = settings
        self._count_today = count_today
        self._rng = rng or random.Random()

    def draw(self, action: str, policy: PolicySpec, facts: Mapping[str, Any]) -> Sample | None:
        """The coin flips alone (no I/O): a candidate sample, still subject to ``within_budget``."""
        if action == "review":
            return None
        settings = self.settings
        if settings.sample_rate and self._rng.random() < settings.sample_rate:
            return Sample(UNIFORM, settings.sample_rate, settings.queue)
        if (settings.uncertainty_rate and action in ("allow", "block")
                and near_a_threshold(policy, facts, settings.uncertainty_margin)
                and self._rng.random() < settings.uncertainty_rate):
            return Sample(UNCERTAINTY, settings.uncertainty_rate, settings.queue)
        return None

    def within_budget(self, sample: Sample, now: datetime | None = None) -> bool:
        """True while today's samples of this kind are fewer than its daily budget (reads the database)."""
        now = now or datetime.now(timezone.utc)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        budget = self.settings.daily_budget if sample.kind == UNIFORM else self.settings.uncertainty_daily_budget
        return self._count_today(sample.kind, midnight) < budget


def near_a_threshold(policy: PolicySpec, facts: Mapping[str, Any], margin: float) -> bool:
    for comparison in threshold_comparisons(policy):
        value = _resolve(facts, comparison.path)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value - comparison.value) <= margin:
            return True
    return False


def _resolve(facts: Mapping[str, Any], path: str) -> Any:
    value: Any = facts
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value

