"""Design-based estimates of the live policy's quality from a labelled probability sample.

Pure functions, no I/O. Traffic is stratified by the policy's decision, whose
counts are known exactly (every item is stored): ``allow``, ``redact``,
``block`` and ``review``. In each stratum a sample is labelled by reviewers:
the uniform quality sample for the first three (each unit with its inclusion
probability ``p``), and the decided reviews for ``review``. Per stratum the
harmful share is the Hajek ratio with weights ``1/p``, and the stratum's total
is that share times its known size (post-stratification, Sarndal et al. 1992,
ch. 7). Its variance is the binomial one on Kish's effective sample size with
the finite-population correction; a share of exactly 0 or 1 is given the
variance of (x + 1/2) / (n + 1), so an interval never collapses to a point.
Ratios of totals (recall) use the delta method. Every interval is Wilson's
score interval (Wilson 1927) on the design-effective sample size S(1-S)/V
(Korn & Graubard 1998; S the smoothed estimate), so it stays inside [0, 1]
for rare harms.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Sequence

FLAGGED_DECISIONS = ("block", "review")  # what "the policy enforced" means for precision and recall


@dataclass(frozen=True)
class Stratum:
    """Items the policy decided ``decision``: how many there were, and the labelled sample of them."""

    decision: str
    population: int
    # (harmful, inclusion probability in (0, 1]) per labelled unit
    labelled: Sequence[tuple[bool, float]] = field(default_factory=tuple)

    @property
    def flagged(self) -> bool:
        return self.decision in FLAGGED_DECISIONS

    def harmful_total(self) -> tuple[float, float, float] | None:
        """(estimated harmful items, its variance, the smoothed total that the variance is computed at);
        None when nothing in a non-empty stratum is labelled. Raises ValueError for an inclusion
        probability outside (0, 1]."""
        if self.population == 0:
            return 0.0, 0.0, 0.0
        if not self.labelled:
            return None
        weights = []
        for _, probability in self.labelled:
            if not 0 < probability <= 1:
                raise ValueError(f"inclusion probabilities must be in (0, 1], got {probability}")
            weights.append(1.0 / probability)
        total = sum(weights)
        share = sum(w for (harmful, _), w in zip(self.labelled, weights) if harmful) / total
        n = len(self.labelled)
        n_eff = total * total / sum(w * w for w in weights)
        fpc = max(0.0, 1.0 - n / self.population)
        smoothed = (share * n_eff + 0.5) / (n_eff + 1)
        variance = self.population ** 2 * fpc * smoothed * (1 - smoothed) / n_eff
        smoothed_total = self.population * smoothed if fpc > 0 else self.population * share
        return self.population * share, variance, smoothed_total


@dataclass(frozen=True)
class Proportion:
    """An estimated proportion with a ``confidence`` interval [low, high]; all None when not estimable."""

    estimate: float | None
    low: float | None
    high: float | None
    units: int  # labelled units behind it
    confidence: float

    def as_dict(self) -> dict:
        rounded = (lambda value: None if value is None else round(value, 6))
        return {"estimate": rounded(self.estimate), "ci_low": rounded(self.low), "ci_high": rounded(self.high),
                "units": self.units, "confidence": self.confidence}


def wilson_interval(estimate: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for a proportion ``estimate`` observed on ``n`` (possibly fractional) units."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    denominator = 1 + z * z / n
    centre = (estimate + z * z / (2 * n)) / denominator
    half = z * math.sqrt(estimate * (1 - estimate) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion(estimate: float, smoothed: float, variance: float, units: int, confidence: float) -> Proportion:
    """Wilson interval around ``estimate`` on the design-effective size ``S(1-S)/V``, with ``S`` the
    smoothed estimate (never exactly 0 or 1 while there is sampling error); exact when V is 0."""
    if variance <= 0:
        return Proportion(estimate, estimate, estimate, units, confidence)
    low, high = wilson_interval(estimate, smoothed * (1 - smoothed) / variance, confidence)
    return Proportion(estimate, low, high, units, confidence)


def _share(strata: Sequence[Stratum], confidence: float) -> Proportion:
    """Harmful share of the items in ``strata``."""
    size = sum(s.population for s in strata)
    units = sum(len(s.labelled) for s in strata)
    totals = [s.harmful_total() for s in strata]
    if size == 0 or any(t is None for t in totals):
        return Proportion(None, None, None, units, confidence)
    return proportion(sum(t[0] for t in totals) / size, sum(t[2] for t in totals) / size,
                      sum(t[1] for t in totals) / size ** 2, units, confidence)


def enforcement_estimates(strata: Sequence[Stratum], confidence: float = 0.95) -> dict[str, Proportion]:
    """The live policy's quality: ``prevalence_allowed`` (harmful share of what it did not flag),
    ``precision`` (harmful share of what it flagged), ``recall`` (flagged share of what is harmful)
    and ``prevalence`` (harmful share of all traffic). Raises ValueError for a confidence outside (0, 1)."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be in (0, 1)")
    flagged = [s for s in strata if s.flagged]
    passed = [s for s in strata if not s.flagged]
    estimates = {"prevalence_allowed": _share(passed, confidence), "precision": _share(flagged, confidence),
                 "prevalence": _share(strata, confidence)}
    caught, missed = [s.harmful_total() for s in flagged], [s.harmful_total() for s in passed]
    units = sum(len(s.labelled) for s in strata)
    if any(t is None for t in caught + missed) or sum(t[0] for t in caught + missed) <= 0:
        estimates["recall"] = Proportion(None, None, None, units, confidence)
    else:
        a, b = sum(t[0] for t in caught), sum(t[0] for t in missed)
        va, vb = sum(t[1] for t in caught), sum(t[1] for t in missed)
        a_s, b_s = sum(t[2] for t in caught), sum(t[2] for t in missed)
        variance = (b_s * b_s * va + a_s * a_s * vb) / (a_s + b_s) ** 4  # delta method, at the smoothed point
        estimates["recall"] = proportion(a / (a + b), a_s / (a_s + b_s), variance, units, confidence)
    return estimates
