"""Live model against a candidate, on the items both scored.

Per category (a numeric field of the signal, e.g. ``scores.hate``): against reviewers' labels
(``moderation_service.reviewed_labels``), AUPRC of each model with a paired bootstrap interval
of the difference, and precision and recall at the live policy's threshold for that field.
Beside it, under the live policy, the decisions that would change if the candidate's signal
replaced the live one (counts and example ids). Reads only the database: no model runs.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from moderation_service.db.tables import ModerationItem, ReviewQueueEntry, ShadowScore
from moderation_service.policy import PolicySet, evaluate
from moderation_service.policy_replay import stored_facts
from moderation_service.review.thresholds import threshold_comparisons
from moderation_service.reviewed_evaluation import numeric_fields
from moderation_service.reviewed_labels import ReasonCodeMap

BOOTSTRAP_RESAMPLES = 500
EXAMPLES = 5


def compare(sessions: sessionmaker, policies: PolicySet, entry: str, reason_codes: ReasonCodeMap,
            since: datetime | None = None, min_labels: int = 20, seed: int = 0) -> dict[str, Any]:
    """The report for candidate ``entry``; ``categories[name]`` holds the labelled comparison."""
    query = (select(ShadowScore, ModerationItem, ReviewQueueEntry)
             .join(ModerationItem, ModerationItem.id == ShadowScore.item_id)
             .outerjoin(ReviewQueueEntry, ReviewQueueEntry.item_id == ModerationItem.id)
             .where(ShadowScore.entry == entry).order_by(ShadowScore.id))
    if since is not None:
        query = query.where(ModerationItem.created_at >= since)
    columns: dict[str, dict[str, list]] = {}
    transitions: Counter = Counter()
    examples: dict[str, list[str]] = {}
    items = 0
    signal_name = candidate_model = None
    live_models: Counter = Counter()
    with sessions() as session:
        for shadow, item, review in session.execute(query).yield_per(2000):
            live = (item.signals or {}).get(shadow.signal)
            if not live or "error" in live:
                continue
            items += 1
            signal_name, candidate_model = shadow.signal, shadow.model
            live_models[(live.get("model") or {}).get("version", "unknown")] += 1
            live_scores, candidate_scores = dict(numeric_fields(live)), dict(numeric_fields(shadow.fields))
            labels = _labels_by_field(reason_codes, review, live_scores) if review is not None and \
                review.status == "decided" else {}
            for name, truth in labels.items():
                if name in candidate_scores:
                    column = columns.setdefault(name, {"truth": [], "live": [], "candidate": []})
                    column["truth"].append(truth)
                    column["live"].append(live_scores[name])
                    column["candidate"].append(candidate_scores[name])
            before, after = _decisions(policies, item, shadow)
            if before != after:
                key = f"{before} -> {after}"
                transitions[key] += 1
                if len(examples.setdefault(key, [])) < EXAMPLES:
                    examples[key].append(item.id)
    policy = policies.for_surface("default").spec
    thresholds = _field_thresholds(policy, signal_name) if signal_name else {}
    rng = np.random.default_rng(seed)
    categories = {name: _category(column, thresholds.get(name, 0.5), min_labels, rng)
                  for name, column in sorted(columns.items())}
    return {"candidate": entry, "signal": signal_name, "candidate_model": candidate_model,
            "live_models": dict(live_models), "items_scored_by_both": items,
            "since": since.isoformat() if since else None, "categories": categories,
            "decision_changes": {"total": sum(transitions.values()), "by_transition": dict(transitions),
                                 "examples": examples,
                                 "note": "under the live policy, without prompt.text rules (no raw text is read)"}}


def drops(report: dict[str, Any], margin: float) -> list[str]:
    """Categories where the candidate's AUPRC is below the live model's by more than ``margin``."""
    return [name for name, row in report["categories"].items()
            if row.get("compared") and row["candidate"]["auprc"] < row["live"]["auprc"] - margin]


def _labels_by_field(reason_codes: ReasonCodeMap, review: ReviewQueueEntry, scores: dict[str, float]
                     ) -> dict[str, int]:
    """Reviewer labels keyed by the signal's field names (``scores.hate`` carries category ``hate``)."""
    by_category = {name.rsplit(".", 1)[-1]: name for name in scores}
    labels = reason_codes.labels_for(review.verdict, review.reason_code, tuple(by_category))
    return {by_category[category]: value for category, value in labels.items()}


def _decisions(policies: PolicySet, item: ModerationItem, shadow: ShadowScore) -> tuple[str, str]:
    policy = policies.for_surface(item.surface)
    facts, failed, _exact = stored_facts(item)
    facts.pop("prompt", None)  # the redacted text would change prompt.text rules for both sides alike
    live = evaluate(policy, facts, failed).action
    candidate_facts = {**facts, shadow.signal: {k: v for k, v in shadow.fields.items() if k != "model"}}
    return live, evaluate(policy, candidate_facts, failed).action


def _field_thresholds(policy, signal: str) -> dict[str, float]:
    """The lowest threshold the policy compares each of the signal's fields with (its review line)."""
    found: dict[str, float] = {}
    for comparison in threshold_comparisons(policy):
        if comparison.path.startswith(signal + "."):
            name = comparison.path[len(signal) + 1:]
            found[name] = min(comparison.value, found.get(name, comparison.value))
    return found


def _category(column: dict[str, list], threshold: float, min_labels: int, rng) -> dict[str, Any]:
    truth = np.array(column["truth"], dtype=int)
    live, candidate = np.array(column["live"]), np.array(column["candidate"])
    row: dict[str, Any] = {"labelled": int(truth.size), "positives": int(truth.sum()), "threshold": threshold}
    if truth.size < min_labels or truth.min() == truth.max():
        row["compared"] = False
        row["why_not"] = f"needs {min_labels} labelled items with both classes"
        return row
    row["compared"] = True
    for name, scores in (("live", live), ("candidate", candidate)):
        flagged = scores >= threshold
        true_positives = int((flagged & (truth == 1)).sum())
        precision = true_positives / int(flagged.sum()) if flagged.any() else None
        row[name] = {"auprc": round(float(average_precision_score(truth, scores)), 4),
                     "precision": None if precision is None else round(precision, 4),
                     "recall": round(true_positives / int(truth.sum()), 4)}
    differences, live_runs, candidate_runs = [], [], []
    for _ in range(BOOTSTRAP_RESAMPLES):
        sample = rng.integers(0, truth.size, truth.size)
        if truth[sample].min() == truth[sample].max():
            continue
        a = average_precision_score(truth[sample], live[sample])
        b = average_precision_score(truth[sample], candidate[sample])
        live_runs.append(a)
        candidate_runs.append(b)
        differences.append(b - a)
    for name, runs in (("live", live_runs), ("candidate", candidate_runs)):
        row[name]["auprc_ci"] = [round(float(np.percentile(runs, 2.5)), 4), round(float(np.percentile(runs, 97.5)), 4)]
    row["auprc_gain"] = round(row["candidate"]["auprc"] - row["live"]["auprc"], 4)
    row["auprc_gain_ci"] = [round(float(np.percentile(differences, 2.5)), 4),
                            round(float(np.percentile(differences, 97.5)), 4)]
    return row


def format_report(report: dict[str, Any]) -> str:
    lines = [f"candidate {report['candidate']} for signal {report['signal']}: "
             f"{report['items_scored_by_both']} items scored by both",
             f"{'field':<28}{'n':>6}{'pos':>6}{'live AUPRC':>14}{'cand AUPRC':>14}{'gain [95% CI]':>24}"]
    for name, row in report["categories"].items():
        if not row["compared"]:
            lines.append(f"{name:<28}{row['labelled']:>6}{row['positives']:>6}  ({row['why_not']})")
            continue
        gain = f"{row['auprc_gain']:+.3f} [{row['auprc_gain_ci'][0]:+.3f}, {row['auprc_gain_ci'][1]:+.3f}]"
        lines.append(f"{name:<28}{row['labelled']:>6}{row['positives']:>6}{row['live']['auprc']:>14.3f}"
                     f"{row['candidate']['auprc']:>14.3f}{gain:>24}")
    changes = report["decision_changes"]
    lines.append(f"decisions that would change under the live policy: {changes['total']}")
    for key, count in changes["by_transition"].items():
        lines.append(f"  {key}: {count}  (e.g. {', '.join(changes['examples'][key])})")
    return "\n".join(lines)
