"""The policy engine: a pure function from (policy, signals) to a decision.

The most severe action wins (block > review > redact > allow); ties go by rule
order. Every rule that fired is reported, not just the winner.
"""
from __future__ import annotations

from typing import Any, Mapping

from pydantic import BaseModel, Field

from moderation_service.policy.loader import Action, ActionSpec, CompiledPolicy

SEVERITY: dict[str, int] = {"allow": 0, "redact": 1, "review": 2, "block": 3}


class RuleMatch(BaseModel):
    rule_id: str
    description: str
    action: Action
    values: dict[str, Any]
    queue: str | None = None
    priority: int | None = None
    entities: list[str] = Field(default_factory=list)


class Decision(BaseModel):
    action: Action
    reasons: list[RuleMatch]
    review_queue: str | None = None
    review_priority: int | None = None
    redact_entities: list[str] = Field(default_factory=list)


def evaluate(policy: CompiledPolicy, signals: Mapping[str, Any], failed: Mapping[str, str] | None = None) -> Decision:
    """``signals`` maps signal name to its fields as plain data; ``failed`` maps a
    classifier that raised to its error message."""
    fired: list[RuleMatch] = [
        _match(f"classifier-error.{name}", f"The {name} classifier failed: {message}",
               policy.spec.on_error, {f"{name}.error": message})
        for name, message in (failed or {}).items()
    ]
    for rule in policy.rules:
        observed: dict[str, Any] = {}
        if rule.matches(signals, observed):
            fired.append(_match(rule.spec.id, rule.spec.description, rule.spec.then, observed))
    if not fired:
        return Decision(action=policy.spec.default_action, reasons=[])
    winner = max(fired, key=lambda match: SEVERITY[match.action])  # max keeps the first of equals
    redact_entities = sorted({e for match in fired if match.action == "redact" for e in match.entities})
    return Decision(
        action=winner.action,
        reasons=fired,
        review_queue=winner.queue if winner.action == "review" else None,
        review_priority=winner.priority if winner.action == "review" else None,
        redact_entities=redact_entities,
    )


def _match(rule_id: str, description: str, then: ActionSpec, values: dict[str, Any]) -> RuleMatch:
    return RuleMatch(
        rule_id=rule_id,
        description=description,
        action=then.action,
        values=values,
        queue=then.queue if then.action == "review" else None,
        priority=then.priority if then.action == "review" else None,
        entities=list(then.entities) if then.action == "redact" else [],
    )
