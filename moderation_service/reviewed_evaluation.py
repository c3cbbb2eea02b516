"""Accuracy on reviewed items (the `moderation dataset export` format): how well
each classifier's scores and a policy's decisions predict the human label.

Reject is the positive class. A policy's `block` predicts reject and `allow` or
`redact` predict approve; `review` abstains and is counted apart.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_fscore_support

from moderation_service.policy import CompiledPolicy, evaluate
from moderation_service.service import prompt_facts


def read_export(folder: Path) -> list[dict[str, Any]]:
    path = Path(folder) / "items.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: write one with `moderation dataset export --out {folder}`")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def numeric_fields(signals: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, float]]:
    """("scores.hate", 0.91), ... for every number in [0, 1] of a signal, less its model identity."""
    for key, value in signals.items():
        name = f"{prefix}{key}"
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) and 0.0 <= value <= 1.0:
            yield name, float(value)
        elif isinstance(value, dict) and key != "model":
            yield from numeric_fields(value, f"{name}.")


def classifier_report(records: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per score field (0..1): AUPRC, and precision/recall/F1 at 0.5, against reject."""
    columns: dict[str, list[tuple[float, int]]] = {}
    for record in records:
        truth = int(record["label"]["verdict"] == "reject")
        for name, value in numeric_fields(record.get("signals") or {}):
            columns.setdefault(name, []).append((value, truth))
    report = {}
    for name, pairs in sorted(columns.items()):
        scores, truth = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
        if truth.min() == truth.max():
            continue  # one label only: nothing to measure
        precision, recall, f1, _ = precision_recall_fscore_support(truth, scores >= 0.5, average="binary",
                                                                   zero_division=0)
        report[name] = {"n": len(pairs), "auprc": float(average_precision_score(truth, scores)),
                        "precision": float(precision), "recall": float(recall), "f1": float(f1)}
    return report


def decision_report(records: list[dict[str, Any]], policy: CompiledPolicy | None) -> dict[str, Any]:
    """Per decision class, the policy's (stored, or ``policy`` replayed) against the human label."""
    predicted, truth, abstained = [], [], 0
    for record in records:
        if policy is None:
            decision = record["policy"]["decision"]
        else:
            signals = {k: {f: v for f, v in s.items() if f != "model"} for k, s in (record["signals"] or {}).items()
                       if "error" not in s}
            failed = {k: s["error"] for k, s in (record["signals"] or {}).items() if "error" in s}
            decision = evaluate(policy, {**signals, **prompt_facts(record.get("prompt_redacted"))}, failed).action
        if decision == "review":
            abstained += 1
            continue
        predicted.append("reject" if decision == "block" else "approve")
        truth.append(record["label"]["verdict"])
    report: dict[str, Any] = {"decided_by_policy": len(predicted), "sent_to_review": abstained}
    for label in ("reject", "approve"):
        if not predicted:
            break
        precision, recall, f1, support = precision_recall_fscore_support(
            truth, predicted, labels=[label], average=None, zero_division=0)
        report[label] = {"precision": float(precision[0]), "recall": float(recall[0]), "f1": float(f1[0]),
                         "support": int(support[0])}
    return report


def format_reports(classifiers: dict[str, dict[str, float]], decisions: dict[str, Any]) -> str:
    lines = ["Per classifier score (reject is positive; P/R/F1 at 0.5)",
             f"{'field':<28}{'n':>6}{'auprc':>8}{'prec':>8}{'recall':>8}{'f1':>8}"]
    for name, row in classifiers.items():
        lines.append(f"{name:<28}{row['n']:>6}{row['auprc']:>8.3f}{row['precision']:>8.3f}{row['recall']:>8.3f}"
                     f"{row['f1']:>8.3f}")
    lines += ["", f"Per decision: {decisions['decided_by_policy']} decided by the policy, "
                  f"{decisions['sent_to_review']} sent to review (abstained)",
              f"{'label':<10}{'support':>8}{'prec':>8}{'recall':>8}{'f1':>8}"]
    for label in ("reject", "approve"):
        if label in decisions:
            row = decisions[label]
            lines.append(f"{label:<10}{row['support']:>8}{row['precision']:>8.3f}{row['recall']:>8.3f}{row['f1']:>8.3f}")
    return "\n".join(lines)
