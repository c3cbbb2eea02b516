"""Evaluate a toxicity classifier on the held-out split and on HateCheck.

Thresholds come from the classifier (tuned on validation for the bundled
head) and default to 0.5. HateCheck is used for evaluation only; most of its
functionalities hold one gold label, so recall (hateful cases) or accuracy
(non-hateful cases) is the informative column there and AUPRC is undefined.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from classifiers.toxicity import CATEGORIES
from classifiers.toxicity_training import DatasetMissingError, binary_metrics, held_out_test_split

HATECHECK_FILE = Path("hatecheck") / "test_suite_cases.csv"
HATECHECK_SCORES = ("hate", "toxic")
_METRIC_COLUMNS = ("n", "positives", "precision", "recall", "f1", "accuracy", "auprc")


def evaluate_toxicity(classifier: Any, shared_datasets: Path, batch_size: int = 64) -> dict[str, Any]:
    test_examples = held_out_test_split(shared_datasets)
    hatecheck_rows = _load_hatecheck(Path(shared_datasets))
    thresholds: dict[str, float] = dict(getattr(classifier, "thresholds", {}) or {})
    return {
        "model": classifier.identity.as_dict(),
        "thresholds": thresholds,
        "held_out": _evaluate_held_out(classifier, test_examples, thresholds, batch_size),
        "hatecheck": _evaluate_hatecheck(classifier, hatecheck_rows, thresholds, batch_size),
    }


def _scores(classifier: Any, texts: Sequence[str], batch_size: int) -> list[dict[str, float]]:
    scores: list[dict[str, float]] = []
    for start in range(0, len(texts), batch_size):
        scores.extend(signal.scores for signal in classifier.classify_batch(list(texts[start : start + batch_size])))
    return scores


def _evaluate_held_out(classifier, examples, thresholds, batch_size) -> dict[str, Any]:
    scores = _scores(classifier, [example.text for example in examples], batch_size)
    results = {}
    for column, category in enumerate(CATEGORIES):
        rows = [index for index, example in enumerate(examples) if example.mask[column]]
        if not rows or category not in scores[0]:
            continue  # a foreign model may not score this category
        truth = np.array([examples[index].labels[column] for index in rows])
        predicted = np.array([scores[index][category] for index in rows])
        results[category] = binary_metrics(truth, predicted, thresholds.get(category, 0.5))
    return results


def _load_hatecheck(shared_datasets: Path) -> list[dict[str, str]]:
    path = shared_datasets / HATECHECK_FILE
    if not path.is_file():
        raise DatasetMissingError(f"HateCheck not found at {path}; see {shared_datasets / 'README.md'}")
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _evaluate_hatecheck(classifier, rows, thresholds, batch_size) -> dict[str, Any]:
    scores = _scores(classifier, [row["test_case"] for row in rows], batch_size)
    truth = np.array([row["label_gold"] == "hateful" for row in rows], dtype=float)
    functionalities = sorted({row["functionality"] for row in rows})
    results: dict[str, Any] = {"overall": {}, "per_functionality": {}}
    for score_name in HATECHECK_SCORES:
        if score_name not in scores[0]:
            continue
        predicted = np.array([score[score_name] for score in scores])
        threshold = thresholds.get(score_name, 0.5)
        results["overall"][score_name] = binary_metrics(truth, predicted, threshold)
        for functionality in functionalities:
            rows_in = np.array([row["functionality"] == functionality for row in rows])
            metrics = binary_metrics(truth[rows_in], predicted[rows_in], threshold)
            results["per_functionality"].setdefault(functionality, {})[score_name] = metrics
    return results


def format_report(report: dict[str, Any]) -> str:
    model = report.get("model", {})
    lines = [f"Toxicity evaluation: {model.get('name', '?')} {model.get('version', '')}".rstrip(), ""]
    lines.append("Held-out test split (threshold tuned on validation)")
    lines += _table("category", report.get("held_out", {}))
    hatecheck = report.get("hatecheck", {})
    for score_name, overall in hatecheck.get("overall", {}).items():
        lines += ["", f"HateCheck, score '{score_name}' (threshold {overall['threshold']})"]
        lines += _table("functionality", {"OVERALL": overall})
        per_functionality = {
            name: by_score[score_name] for name, by_score in hatecheck.get("per_functionality", {}).items()
        }
        lines += _table("functionality", per_functionality, header=False)
    return "\n".join(lines)


def _table(first_column: str, rows: dict[str, dict[str, Any]], header: bool = True) -> list[str]:
    width = max([len(first_column)] + [len(name) for name in rows]) + 2
    lines = []
    if header:
        lines.append(first_column.ljust(width) + "".join(column.rjust(10) for column in _METRIC_COLUMNS))
    for name, metrics in rows.items():
        cells = "".join(_cell(metrics.get(column)).rjust(10) for column in _METRIC_COLUMNS)
        lines.append(name.ljust(width) + cells)
    return lines


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)
