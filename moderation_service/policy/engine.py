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
    reportable: bool = False

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
    # True when any rule that fired, winning or not, is marked `reportable`.
    reportable: bool = False


def evaluate(policy: CompiledPolicy, signals: Mapping[str, Any], failed: Mapping[str, str] | None = None) -> Decision:
    """``signals`` maps signal name to its fields as plain data; ``failed`` maps a
    classifier that raised or timed out to its error."""
    failed = failed or {}
    facts = {**signals, FAILED_KEY: frozenset(failed), CACHE_KEY: {}}
    reasons: list[RuleMatch] = []
    winner: RuleMatch | None = None
    best = (-1, -1)
    for name, message in failed.items():
        reason = _match(f"classifier-error.{name}", f"The {name} classifier failed: {message}",
                        policy.on_error_for(name), {f"{name}.error": message})
        reasons.append(reason)
        if (rank := (SEVERITY[reason.action], FAILURE_PRIORITY)) > best:
            best, winner = rank, reason
    candidates = policy.fires(facts) if policy.fires else [(index, None) for index in range(len(policy.rules))]
    for index, observed in candidates:
        rule = policy.rules[index]
        # Where the fast path could not build the values, the reference closure decides and gathers them.
        if observed is None:
            observed = {}
            if not rule.matches(facts, observed):
                continue
        reason = _reason(rule, observed)
        reasons.append(reason)
        # Strictly greater: the first of equals wins, so file order breaks the remaining ties.
        if (rank := (SEVERITY[reason.action], rule.spec.priority)) > best:
            best, winner = rank, reason
    identity = (policy.name, policy.version, policy.sha256)
    if winner is None:
        return Decision(policy.spec.default_action, [], *identity)
    reviewing = winner.action == "review"
    return Decision(
        winner.action,
        reasons,
        *identity,
        review_queue=winner.queue if reviewing else None,
        review_priority=winner.priority if reviewing else None,
        redact_entities=sorted({e for reason in reasons if reason.action == "redact" for e in reason.entities}),
        reportable=any(reason.reportable for reason in reasons),
    )


def _reason(rule, values: dict[str, Any]) -> RuleMatch:
    rule_id, description, action, queue, priority, entities, reportable = rule.reason_fields
    return RuleMatch(rule_id, description, action, values, queue, priority, list(entities), reportable)


def _match(rule_id: str, description: str, then: ActionSpec, values: dict[str, Any]) -> RuleMatch:
    action = then.action
    return RuleMatch(
        rule_id, description, action, values,
        queue=then.queue if action == "review" else None,
        priority=then.queue_priority if action == "review" else None,
        entities=list(then.entities) if action == "redact" else [],
        reportable=then.reportable,
    )
