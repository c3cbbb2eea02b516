"""The score thresholds a policy compares against, for the console's score bars.

Reads ``path >= number`` (or ``>``, or ``thresholds.name``) out of each rule's ``when`` and returns,
per signal path, the thresholds with the action of the rule that uses them:
``{"nsfw.probability": [{"value": 0.4, "action": "review", "rule_id": "nsfw-borderline"}, ...]}``.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

_AT_LEAST = re.compile(r"^\s*(?P<path>[a-z_][\w.]*)\s*(?:>=|>)\s*(?P<value>thresholds\.\w+|[0-9.]+)\s*$")


def _conditions(when: Any):
    if isinstance(when, str):
        yield when
    elif isinstance(when, Mapping):
        for value in when.values():
            yield from _conditions(value)
    elif isinstance(when, (list, tuple)):
        for value in when:
            yield from _conditions(value)


def policy_thresholds(policy) -> dict[str, list[dict[str, Any]]]:
    """``policy``: a CompiledPolicy; an unknown shape gives {} rather than an error (display only)."""
    found: dict[str, list[dict[str, Any]]] = {}
    try:
        named = dict(policy.spec.thresholds or {})
        for rule in policy.rules:
            then = rule.spec.then
            action = then if isinstance(then, str) else getattr(then, "action", None)
            for condition in _conditions(rule.spec.when):
                match = _AT_LEAST.match(condition)
                if not match or match["path"].startswith("thresholds."):
                    continue
                text = match["value"]
                value = named.get(text.removeprefix("thresholds.")) if text.startswith("thresholds.") else float(text)
                if isinstance(value, (int, float)):
                    found.setdefault(match["path"], []).append(
                        {"value": float(value), "action": action, "rule_id": rule.spec.id})
    except (AttributeError, TypeError, ValueError):
        return {}
    for entries in found.values():
        entries.sort(key=lambda e: e["value"])
    return found
