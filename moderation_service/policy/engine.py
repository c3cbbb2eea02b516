"""The policy engine: a pure function from (policy, signals) to a decision.

The most severe action wins (block > review > redact > allow); among rules of
the same action the higher rule `priority` wins, then file order. Every rule
that fired is reported, not just the winner.
"""
from __future__ import annotations

from typing import Any, Mapping

from pydantic import BaseModel, Field

from moderation_service.policy.compiler import CompiledPolicy
from moderation_service.policy.conditions import FAILED_KEY
from moderation_service.policy.spec import Action, ActionSpec

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
    policy_name: str
    policy_version: str
    policy_sha256: str
    review_queue: str | None = None
    review_priority: int | None = None
    redact_entities: list[str] = Field(default_factory=list)


def evaluate(policy: CompiledPolicy, signals: Mapping[str, Any], failed: Mapping[str, str] | None = None) -> Decision:
    """``signals`` maps signal name to its fields as plain data; ``failed`` maps a
    classifier that raised or timed out to its error."""
    failed = failed or {}
    facts = {**signals, FAILED_KEY: frozenset(failed)}
    # A failure outranks rules of the same action, so its queue tells reviewers a model failed.
    fired: list[tuple[int, RuleMatch]] = [
        (101, _match(f"classifier-error.{name}", f"The {name} classifier failed: {message}",
                     policy.on_error_for(name), {f"{name}.error": message}))
        for name, message in failed.items()
    ]
    for rule in policy.rules:
        observed: dict[str, Any] = {}
        if rule.matches(facts, observed):
            fired.append((rule.spec.priority, _match(rule.spec.id, rule.spec.description, rule.spec.then, observed)))
    identity = {"policy_name": policy.name, "policy_version": policy.version, "policy_sha256": policy.sha256}
    if not fired:
        return Decision(action=policy.spec.default_action, reasons=[], **identity)
    # max() keeps the first of equals, so file order breaks the remaining ties.
    _, winner = max(fired, key=lambda entry: (SEVERITY[entry[1].action], entry[0]))
    reviewing = winner.action == "review"
    return Decision(
        action=winner.action,
        reasons=[match for _, match in fired],
        review_queue=winner.queue if reviewing else None,
        review_priority=winner.priority if reviewing else None,
        redact_entities=sorted({e for _, match in fired if match.action == "redact" for e in match.entities}),
        **identity,
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
