"""The policy engine: a pure function from (policy, signals) to a decision.

The most severe action wins (block > review > redact > allow); among rules of
the same action the higher rule `priority` wins, then file order. Every rule
that fired is reported, not just the winner.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from moderation_service.policy.compiler import CompiledPolicy
from moderation_service.policy.conditions import CACHE_KEY, FAILED_KEY
from moderation_service.policy.spec import Action, ActionSpec

SEVERITY: dict[str, int] = {"allow": 0, "redact": 1, "review": 2, "block": 3}
# A failure outranks rules of the same action, so its queue tells reviewers a model failed.
FAILURE_PRIORITY = 101


@dataclass(slots=True)
class RuleMatch:
    rule_id: str
    description: str
    action: Action
    values: dict[str, Any]
    queue: str | None = None
    priority: int | None = None
    entities: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Decision:
    action: Action
    reasons: list[RuleMatch]
    policy_name: str
    policy_version: str
    policy_sha256: str
    review_queue: str | None = None
    review_priority: int | None = None
    redact_entities: list[str] = field(default_factory=list)


def evaluate(policy: CompiledPolicy, signals: Mapping[str, Any], failed: Mapping[str, str] | None = None) -> Decision:
    """``signals`` maps signal name to its fields as plain data; ``failed`` maps a
    classifier that raised or timed out to its error."""
    failed = failed or {}
    facts = {**signals, FAILED_KEY: frozenset(failed), CACHE_KEY: {}}
    fired: list[tuple[int, RuleMatch]] = [
        (FAILURE_PRIORITY, _match(f"classifier-error.{name}", f"The {name} classifier failed: {message}",
                                  policy.on_error_for(name), {f"{name}.error": message}))
        for name, message in failed.items()
    ]
    indices = policy.fires(facts) if policy.fires else range(len(policy.rules))
    for index in indices:
        rule = policy.rules[index]
        observed: dict[str, Any] = {}
        # The reference closure decides (again, for fast-path hits) and gathers the values.
        if rule.matches(facts, observed):
            fired.append((rule.spec.priority, _match(rule.spec.id, rule.spec.description, rule.spec.then, observed)))
    identity = (policy.name, policy.version, policy.sha256)
    if not fired:
        return Decision(policy.spec.default_action, [], *identity)
    # max() keeps the first of equals, so file order breaks the remaining ties.
    _, winner = max(fired, key=lambda entry: (SEVERITY[entry[1].action], entry[0]))
    reviewing = winner.action == "review"
    return Decision(
        winner.action,
        [match for _, match in fired],
        *identity,
        review_queue=winner.queue if reviewing else None,
        review_priority=winner.priority if reviewing else None,
        redact_entities=sorted({e for _, match in fired if match.action == "redact" for e in match.entities}),
    )


def _match(rule_id: str, description: str, then: ActionSpec, values: dict[str, Any]) -> RuleMatch:
    action = then.action
    return RuleMatch(
        rule_id, description, action, values,
        queue=then.queue if action == "review" else None,
        priority=then.priority if action == "review" else None,
        entities=list(then.entities) if action == "redact" else [],
    )
