"""Enforcement estimates from the quality sample: a statistics test against simulations with a
known truth (coverage of the 95% interval over 100 seeded runs), plus the estimator's edge cases."""
from __future__ import annotations

import numpy as np
import pytest

from moderation_service.quality.estimates import Stratum, enforcement_estimates, wilson_interval

# The three the issue asks for. The overall prevalence is reported too; its coverage measured here is
# 89-93% (a sum over strata whose rarest one is skewed), stated in the README rather than asserted.
MEASURES = ("prevalence_allowed", "precision", "recall")


def simulate(seed: int, population: int = 20_000, sample_rate: float = 0.05, prevalence: float = 0.04):
    """A day of traffic with a known truth. The policy blocks some items, sends others to review (reviewers
    label those, and have not finished: 80% decided) and allows the rest; a uniform sample of the items it
    did not send to review is labelled blind."""
    rng = np.random.default_rng(seed)
    harmful = rng.random(population) < prevalence
    score = np.where(harmful, rng.beta(5, 2, population), rng.beta(1.3, 8, population))
    blocked = score >= 0.8
    reviewed = (score >= 0.55) & ~blocked
    allowed = ~blocked & ~reviewed
    flagged = ~allowed
    truth = {"prevalence_allowed": harmful[allowed].mean(), "precision": harmful[flagged].mean(),
             "recall": flagged[harmful].mean()}
    drawn = rng.random(population) < sample_rate
    decided = rng.random(population) < 0.8
    strata = [
        Stratum("allow", int(allowed.sum()), [(bool(h), sample_rate) for h in harmful[allowed & drawn]]),
        Stratum("block", int(blocked.sum()), [(bool(h), sample_rate) for h in harmful[blocked & drawn]]),
        Stratum("review", int(reviewed.sum()), [(bool(h), 1.0) for h in harmful[reviewed & decided]]),
    ]
    return truth, enforcement_estimates(strata)


def test_the_true_value_lies_inside_the_95_percent_interval_in_at_least_90_of_100_runs():
    covered = dict.fromkeys(MEASURES, 0)
    for seed in range(100):
        truth, estimates = simulate(seed)
        for name, value in truth.items():
            covered[name] += estimates[name].low is not None and estimates[name].low <= value <= estimates[name].high
    print("coverage of the 95% interval in 100 runs:", covered)
    assert all(count >= 90 for count in covered.values()), covered


def test_coverage_holds_for_a_rarer_harm():
    # About a dozen harmful items expected in the allowed sample: the regime the README asks operators
    # to size the sample for (with fewer than ~10 expected, Wilson intervals start to under-cover).
    covered = dict.fromkeys(MEASURES, 0)
    for seed in range(100):
        truth, estimates = simulate(500 + seed, population=100_000, sample_rate=0.05, prevalence=0.02)
        for name, value in truth.items():
            covered[name] += estimates[name].low is not None and estimates[name].low <= value <= estimates[name].high
    print("coverage, rarer harm:", covered)
    assert all(count >= 90 for count in covered.values()), covered


def test_the_estimate_is_unbiased_within_simulation_noise():
    errors = [simulate(1000 + seed)[1]["prevalence_allowed"].estimate - simulate(1000 + seed)[0]["prevalence_allowed"]
              for seed in range(20)]
    assert abs(float(np.mean(errors))) < 0.003


def test_a_simple_random_sample_gives_the_plain_wilson_interval():
    stratum = Stratum("allow", 1_000_000, [(True, 0.0001)] * 7 + [(False, 0.0001)] * 93)
    estimate = enforcement_estimates([stratum])["prevalence_allowed"]
    assert estimate.estimate == pytest.approx(0.07)
    low, high = wilson_interval(0.07, 100)
    assert low == pytest.approx(0.0343, abs=1e-3) and high == pytest.approx(0.1375, abs=1e-3)  # Wilson for 7/100
    assert estimate.low == pytest.approx(low, abs=0.004) and estimate.high == pytest.approx(high, abs=0.004)


def test_weights_follow_the_stored_probabilities():
    # Two halves of a day sampled at different rates: the rarer-sampled units count for more.
    stratum = Stratum("allow", 10_000, [(True, 0.01)] * 10 + [(False, 0.1)] * 90)
    share = enforcement_estimates([stratum])["prevalence_allowed"].estimate
    assert share == pytest.approx(1000 / (1000 + 900))


def test_a_census_is_exact_and_nothing_labelled_means_no_estimate():
    census = Stratum("review", 40, [(True, 1.0)] * 10 + [(False, 1.0)] * 30)
    exact = enforcement_estimates([census])["precision"]
    assert exact.estimate == pytest.approx(0.25) and exact.low == exact.high == pytest.approx(0.25)
    estimates = enforcement_estimates([Stratum("allow", 500, []), census])
    assert estimates["prevalence_allowed"].estimate is None and estimates["recall"].estimate is None
    zero = enforcement_estimates([Stratum("allow", 5_000, [(False, 0.02)] * 100)])["prevalence_allowed"]
    assert zero.estimate == 0.0 and 0 < zero.high < 0.05  # no harm seen is not proof of none


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        enforcement_estimates([Stratum("allow", 10, [(True, 0.0)])])
    with pytest.raises(ValueError):
        enforcement_estimates([Stratum("allow", 10, [(True, 1.5)])])
    with pytest.raises(ValueError):
        enforcement_estimates([], confidence=1.0)
