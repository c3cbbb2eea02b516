"""Calibration and operating thresholds of the text safety model, read off the scores it serves.

Each category is calibrated on the validation split: isotonic regression or Platt scaling, whichever
has the lower 2-fold cross-validated log loss (``choose_calibration``). The raw scores calibrated are
the ones the service serves (``served_raw_scores``: every window of the whole text, the max per
category), not the 48-token prefix that training reads. Calibrated on the prefix, a threshold did
not read as the precision it promised once whole texts were scored: served, the self-harm line
promised at validation precision 0.80 reached 0.46, and sexual's 0.81 reached 0.71, because long
posts score higher read whole (model card, "Calibration and thresholds").

Operating thresholds maximise F0.5 on the calibrated validation scores, ties broken towards recall
(``best_fbeta_threshold``): the lowest threshold whose F0.5 is within ``OPERATING_TOLERANCE`` of the
maximum. The F0.5 curves are flat near their maximum (hate's stays within 0.01 of it from 0.46 to 0.90),
so the exact argmax lands by chance: in three retrains of one recipe, hate's was 0.86, 0.74 and 0.66 on
served validation scores, and the lowest threshold within 0.01 of the maximum 0.46, 0.48 and 0.51.
0.01 is about the bootstrap standard error of the maximum itself (0.008 for hate, up to 0.039 by category).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from classifiers.text_training_data import CATEGORIES, LabelledText

MIN_CALIBRATION_POSITIVES = 20  # below this a category keeps its raw sigmoid (stated in the card)
TARGET_PRECISIONS = (0.5, 0.8, 0.9)
# Operating thresholds maximise F-beta on validation with beta 0.5: a moderation service pays more for
# blocking the innocent (identity statements, counter-speech, homonyms) than the F1 optimum admits.
OPERATING_BETA = 0.5
OPERATING_TOLERANCE = 0.01  # F-beta this close to the maximum counts as a tie (module doc)
OPERATING_RULE = (f"lowest threshold with F-beta (beta {OPERATING_BETA}) within {OPERATING_TOLERANCE} of its maximum "
                  "on calibrated validation scores as served (whole text, windowed); 0.5 where uncalibrated")


def _log_loss(truth: np.ndarray, predicted: np.ndarray) -> float:
    predicted = np.clip(predicted, 1e-6, 1 - 1e-6)
    return float(-np.mean(truth * np.log(predicted) + (1 - truth) * np.log(1 - predicted)))


def fit_calibration(truth: np.ndarray, raw: np.ndarray, method: str) -> dict[str, Any]:
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, truth)
        return {"method": "isotonic", "x": [round(float(v), 6) for v in iso.X_thresholds_],
                "y": [round(float(v), 6) for v in iso.y_thresholds_]}
    from sklearn.linear_model import LogisticRegression

    clipped = np.clip(raw.astype(np.float64), 1e-7, 1 - 1e-7)
    logits = np.log(clipped / (1 - clipped)).reshape(-1, 1)
    fitted = LogisticRegression(C=1e4).fit(logits, truth)
    return {"method": "platt", "a": round(float(fitted.coef_[0, 0]), 6), "b": round(float(fitted.intercept_[0]), 6)}


def choose_calibration(truth: np.ndarray, raw: np.ndarray, seed: int) -> tuple[dict[str, Any], dict[str, float]]:
    """Isotonic vs Platt by 2-fold cross-validated log loss on validation; refit the winner on all of it."""
    from classifiers.text_model import calibrate

    if truth.sum() < MIN_CALIBRATION_POSITIVES or truth.sum() == truth.size:
        return {"method": "none", "reason": f"{int(truth.sum())} validation positives"}, {}
    folds = np.random.default_rng(seed).permutation(truth.size) % 2
    losses = {}
    for method in ("isotonic", "platt"):
        per_fold = []
        for fold in (0, 1):
            fit_rows, test_rows = folds != fold, folds == fold
            if truth[fit_rows].sum() == 0:
                continue
            calibration = fit_calibration(truth[fit_rows], raw[fit_rows], method)
            per_fold.append(_log_loss(truth[test_rows], calibrate(raw[test_rows], calibration)))
        losses[method] = float(np.mean(per_fold)) if per_fold else float("inf")
    losses["none"] = _log_loss(truth, raw)
    winner = min(("isotonic", "platt"), key=lambda method: losses[method])
    return fit_calibration(truth, raw, winner), {name: round(value, 4) for name, value in losses.items()}


def _floor4(threshold: float) -> float:
    """A threshold stored to four decimals, rounded down: the item scoring exactly it still meets it."""
    return math.floor(float(threshold) * 10_000) / 10_000


def best_fbeta_threshold(truth: np.ndarray, scores: np.ndarray, beta: float = 1.0, tolerance: float = 0.0) -> float:
    """The lowest threshold whose F-beta on calibrated validation scores is within ``tolerance`` of the
    maximum (0: the argmax itself); 0.5 with nothing to tune on. beta < 1 weighs precision above recall
    (0.5: precision counts twice)."""
    from sklearn.metrics import precision_recall_curve

    if truth.size == 0 or truth.sum() in (0, truth.size):
        return 0.5
    precision, recall, thresholds = precision_recall_curve(truth, scores)
    weight = beta * beta
    fbeta = (1 + weight) * precision[:-1] * recall[:-1] / np.clip(weight * precision[:-1] + recall[:-1], 1e-12, None)
    # thresholds ascend: the first one within the tolerance is the lowest
    return _floor4(thresholds[int(np.argmax(fbeta >= fbeta.max() - tolerance))])


def best_f1_threshold(truth: np.ndarray, scores: np.ndarray) -> float:
    """The F1-optimal threshold (the multilingual head's operating rule)."""
    return best_fbeta_threshold(truth, scores, 1.0)


def threshold_for_precision(truth: np.ndarray, scores: np.ndarray, precision: float) -> dict[str, float] | None:
    """Lowest threshold whose validation precision reaches ``precision``, with its recall."""
    from sklearn.metrics import precision_recall_curve

    if truth.sum() == 0:
        return None
    precisions, recalls, thresholds = precision_recall_curve(truth, scores)
    ok = np.nonzero(precisions[:-1] >= precision)[0]
    if ok.size == 0:
        return None
    index = int(ok[0])
    return {"threshold": _floor4(thresholds[index]), "precision": round(float(precisions[index]), 4),
            "recall": round(float(recalls[index]), 4)}


def calibrate_and_threshold(val_raw: np.ndarray, val_rows: Sequence[LabelledText], seed: int) -> tuple[dict, dict, dict, dict]:
    """Per category, from raw validation scores as served (rows, categories): the calibration chosen by
    measurement, its log losses, the thresholds reaching each target precision and the operating threshold."""
    from classifiers.text_model import calibrate

    labels = np.asarray([row.labels for row in val_rows], dtype=np.float64).reshape(-1, len(CATEGORIES))
    mask = np.asarray([row.mask for row in val_rows], dtype=np.float64).reshape(-1, len(CATEGORIES)) > 0
    calibration, calibration_losses, thresholds, operating = {}, {}, {}, {}
    for column, category in enumerate(CATEGORIES):
        rows = mask[:, column]
        truth, raw = labels[rows, column], val_raw[rows, column]
        calibration[category], calibration_losses[category] = choose_calibration(truth, raw, seed)
        calibrated = calibrate(raw, calibration[category])
        thresholds[category] = {f"p{int(p * 100)}": threshold_for_precision(truth, calibrated, p) for p in TARGET_PRECISIONS}
        # Too few validation positives to calibrate: too few to tune a threshold on either.
        operating[category] = (best_fbeta_threshold(truth, calibrated, OPERATING_BETA, OPERATING_TOLERANCE)
                               if calibration[category]["method"] != "none" else 0.5)
    return calibration, calibration_losses, thresholds, operating


def calibration_fields(val_raw: np.ndarray, val_rows: Sequence[LabelledText], seed: int) -> dict[str, Any]:
    """The model config's calibration keys, from raw validation scores as served (``served_raw_scores``)."""
    calibration, losses, by_precision, operating = calibrate_and_threshold(val_raw, val_rows, seed)
    return {"calibration": calibration, "calibration_log_loss": losses, "thresholds_by_precision": by_precision,
            "thresholds": operating, "thresholds_rule": OPERATING_RULE}


def served_raw_scores(model: Any, tokenizer: Any, config: dict[str, Any], texts: Sequence[str],
                      batch_size: int = 64) -> np.ndarray:
    """(texts, categories) raw sigmoid scores of a text safety model in memory, read as the service reads
    text (``classifiers.toxicity.WindowedScorer``: every window, max per category). ``texts`` are
    normalised already (training rows are)."""
    from classifiers.toxicity import _BundledBackend

    model.eval()
    return _BundledBackend.in_memory(model, tokenizer, config).raw_scores([text or " " for text in texts], batch_size)
