"""The score thresholds a policy compares against: one parser for the console's score bars, the
quality sampler's "near a threshold" test and the candidate-model report.

``threshold_comparisons`` reads ``path OP bound`` (OP one of ``>= > <= <``; bound a number or
``thresholds.name``) out of each rule's ``when``. ``policy_thresholds`` returns, per signal path,
the lower bounds with the action of the rule that uses them:
``{"nsfw.probability": [{"value": 0.4, "action": "review", "rule_id": "nsfw-borderline"}, ...]}``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

_COMPARISON = re.compile(
    r"^\s*(?P<path>[A-Za-z_][\w./-]*)\s*(?P<op>>=|>|<=|<)\s*(?P<bound>thresholds\.\w+|-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class ThresholdComparison:
    path: str  # e.g. "toxicity.scores.hate"
    op: str  # >=, >, <= or <
    value: float
    rule_id: str
    action: str | None


def _conditions(when: Any) -> Iterator[str]:
    if isinstance(when, str):
        yield when
    elif isinstance(when, Mapping):
        for value in when.values():
            yield from _conditions(value)
    elif isinstance(when, (list, tuple)):
        for value in when:
            yield from _conditions(value)


def threshold_comparisons(spec) -> list[ThresholdComparison]:
    """Every ordering comparison of a signal path with a number or named threshold in ``spec``
    (a PolicySpec); comparisons of other shapes, and undefined threshold names, are skipped."""
    named = dict(spec.thresholds or {})
    found = []
    for rule in spec.rules:
        then = rule.then
        action = then if isinstance(then, str) else getattr(then, "action", None)
        for condition in _conditions(rule.when):
            match = _COMPARISON.match(condition)
            if not match or match["path"].startswith("thresholds."):
                continue
            bound = match["bound"]
            value = named.get(bound.removeprefix("thresholds.")) if bound.startswith("thresholds.") else float(bound)
            if isinstance(value, (int, float)):
                found.append(ThresholdComparison(match["path"], match["op"], float(value), rule.id, action))
    return found


def policy_thresholds(policy) -> dict[str, list[dict[str, Any]]]:
    """``policy``: a CompiledPolicy; an unknown shape gives {} rather than an error (display only)."""
    found: dict[str, list[dict[str, Any]]] = {}
    try:
        comparisons = threshold_comparisons(policy.spec)
    except (AttributeError, TypeError, ValueError):
        return {}
    for comparison in comparisons:
        if comparison.op in (">=", ">"):
            found.setdefault(comparison.path, []).append(
                {"value": comparison.value, "action": comparison.action, "rule_id": comparison.rule_id})
    for entries in found.values():
        entries.sort(key=lambda e: e["value"])
    return found
