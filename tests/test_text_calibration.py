"""Calibration and operating thresholds of the text safety model (classifiers/text_calibration.py).

The promise under test: a calibrated score reads as a precision for the scores the service serves
(whole texts, read in windows), and the operating lines do not hang on a hair of a flat F0.5 curve.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from classifiers.text_calibration import OPERATING_BETA, OPERATING_TOLERANCE, best_fbeta_threshold, served_raw_scores
from classifiers.text_categories import CATEGORIES
from classifiers.text_model import MODEL_DIR, calibrate, load_model
from tests.conftest import SHARED_DATASETS

needs_datasets = pytest.mark.skipif(not SHARED_DATASETS.is_dir(), reason=f"shared data sets absent: {SHARED_DATASETS}")


def _fbeta(truth: np.ndarray, scores: np.ndarray, threshold: float, beta: float = OPERATING_BETA) -> float:
    chosen = scores >= threshold
    true_positives = float((chosen & truth).sum())
    weight = beta * beta
    return (1 + weight) * true_positives / ((1 + weight) * true_positives + weight * (truth & ~chosen).sum() + (chosen & ~truth).sum())


def test_a_tie_on_the_f_beta_curve_goes_to_the_lower_threshold() -> None:
    # 80 positives at 0.95; 10 more positives and 3 negatives at 0.6. F0.5 is 0.9756 at 0.95 and
    # 0.9741 at 0.6: the argmax keeps 0.95, a tolerance of 0.01 takes the ten positives too.
    truth = np.array([True] * 90 + [False] * 3)
    scores = np.array([0.95] * 80 + [0.6] * 13)
    assert best_fbeta_threshold(truth, scores, 0.5) == 0.95
    assert best_fbeta_threshold(truth, scores, 0.5, tolerance=0.01) == 0.6
    assert best_fbeta_threshold(truth, scores, 0.5, tolerance=0.001) == 0.95


def test_the_chosen_line_is_the_lowest_within_the_tolerance_of_the_best() -> None:
    rng = np.random.default_rng(5)
    truth = rng.random(600) < 0.3
    scores = np.clip(np.where(truth, rng.normal(0.7, 0.2, 600), rng.normal(0.35, 0.2, 600)), 0, 1).round(3)
    candidates = np.unique(scores)
    best = max(_fbeta(truth, scores, value) for value in candidates)
    chosen = best_fbeta_threshold(truth, scores, 0.5, tolerance=0.02)
    assert _fbeta(truth, scores, chosen) >= best - 0.02
    assert all(_fbeta(truth, scores, value) < best - 0.02 for value in candidates[candidates < chosen])
    assert best_fbeta_threshold(truth, scores, 0.5) >= chosen


def test_nothing_to_tune_on_gives_half() -> None:
    assert best_fbeta_threshold(np.zeros(5, bool), np.linspace(0, 1, 5), 0.5, OPERATING_TOLERANCE) == 0.5
    assert best_fbeta_threshold(np.ones(5, bool), np.linspace(0, 1, 5), 0.5, OPERATING_TOLERANCE) == 0.5


@pytest.fixture(scope="module")
def shipped():
    return load_model(MODEL_DIR)


@pytest.mark.slow
def test_served_scores_read_a_threat_past_the_prefix_training_reads(shipped) -> None:
    """Training reads the first 48 tokens of a row; the service reads it whole. Calibration uses the
    service's reading: a threat after about 60 tokens of scene scores as the service scores it."""
    from classifiers.text_model_training import cache_lower_states, predict_raw, tokenize
    from classifiers.toxicity import _BundledBackend

    model, tokenizer, config = shipped
    scene = ("a quiet harbour at dawn with fishing boats tied to the pier, gulls circling over the nets, "
             "a lighthouse on the rocks and mist lifting off the water while the town wakes up slowly, "
             "children feeding ducks by the old stone bridge and a baker opening the shutters of his shop, ")
    texts = [scene + "I will kill you tomorrow at your house", "I will kill you tomorrow at your house"]
    served = served_raw_scores(model, tokenizer, config, texts)
    threat = CATEGORIES.index("harassment/threatening")
    assert served[0, threat] > 0.5 and served[1, threat] > 0.5
    prefix = predict_raw(model, cache_lower_states(model, tokenize(tokenizer, texts, 48)))
    assert prefix[0, threat] < 0.5 < prefix[1, threat]  # the prefix never reaches the threat
    # the same numbers the service's torch backend serves
    backend = _BundledBackend(MODEL_DIR, "cpu")
    assert np.allclose(served, backend.raw_scores(texts, 64), atol=1e-5)


@pytest.mark.slow
@needs_datasets
def test_the_shipped_config_is_what_recalibration_computes_and_keeps_its_promises(tmp_path: Path, shipped) -> None:
    """`moderation train text --recalibrate` on the shipped weights gives the shipped calibration and
    thresholds (within float tolerance: CPUs differ in the last bits). Recalibration scores validation as
    the service does, so the committed by-precision lines hold for served scores: a change to windows
    or normalisation without recalibrating fails here."""
    from classifiers.text_model_training import recalibrate_text_model

    for name in ("config.json", "model.safetensors"):
        shutil.copy(MODEL_DIR / name, tmp_path / name)
    result = recalibrate_text_model(SHARED_DATASETS, tmp_path, log=lambda _line: None)
    committed = json.loads((MODEL_DIR / "config.json").read_text())
    rebuilt = json.loads((tmp_path / "config.json").read_text())
    assert rebuilt["version"] == committed["version"]
    probe = np.linspace(0.01, 0.99, 99)
    for category in CATEGORIES:
        assert abs(result["thresholds"][category] - committed["thresholds"][category]) <= 0.02, category
        drift = np.abs(calibrate(probe, rebuilt["calibration"][category]) - calibrate(probe, committed["calibration"][category]))
        assert drift.max() <= 0.01, category
        for target, line in (committed["thresholds_by_precision"][category] or {}).items():
            again = rebuilt["thresholds_by_precision"][category][target]
            assert (line is None) == (again is None), (category, target)
            if line:
                assert abs(line["threshold"] - again["threshold"]) <= 0.02, (category, target)


def test_a_stored_threshold_never_rises_above_the_item_it_was_read_at() -> None:
    # Rounded to the nearest 4 decimals, 0.69447 became 0.6945 and left its own positive below the line.
    truth = np.array([True, True, False, False])
    scores = np.array([0.91, 0.69447, 0.3, 0.1])
    line = best_fbeta_threshold(truth, scores, 0.5)
    assert line == 0.6944 and (scores[truth] >= line).all()


def test_recalibrate_refuses_a_folder_without_a_model_and_conflicting_flags(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from moderation_service.cli import app

    missing = CliRunner().invoke(app, ["train", "text", "--recalibrate", "--out", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "no text safety model in --out" in missing.output
    conflicting = CliRunner().invoke(app, ["train", "text", "--recalibrate", "--top-layers", "2", "--out", str(tmp_path)])
    assert conflicting.exit_code == 2 and "--recalibrate" in conflicting.output
