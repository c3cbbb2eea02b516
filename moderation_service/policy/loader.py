"""Reads a policy file, validates it and compiles its conditions once."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from moderation_service.policy.conditions import Compiled, ConditionError, compile_comparison

Action = Literal["allow", "block", "review", "redact"]


class PolicyError(ValueError):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActionSpec(_Strict):
    action: Action
    queue: str = "default"
    priority: int = 0
    entities: list[str] = Field(default_factory=list)


Condition = Union[str, dict[str, Any]]


class RuleSpec(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str = ""
    when: Condition
    then: Union[Action, ActionSpec]

    @field_validator("then", mode="after")
    @classmethod
    def _as_spec(cls, value: Union[str, ActionSpec]) -> ActionSpec:
        return ActionSpec(action=value) if isinstance(value, str) else value


class PolicySpec(_Strict):
    name: str
    description: str = ""
    default_action: Action = "allow"
    # What to do when a classifier fails: the failure is reported as a fired rule.
    on_error: ActionSpec = ActionSpec(action="review", queue="classifier-errors")
    thresholds: dict[str, float] = Field(default_factory=dict)
    rules: list[RuleSpec]


@dataclass(frozen=True)
class CompiledRule:
    spec: RuleSpec
    matches: Compiled


@dataclass(frozen=True)
class CompiledPolicy:
    spec: PolicySpec
    rules: tuple[CompiledRule, ...]
    sha256: str

    @property
    def name(self) -> str:
        return self.spec.name


def load_policy(path: Path, known_signals: set[str] | None = None) -> CompiledPolicy:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise PolicyError(f"cannot read policy {path}: {exc}") from exc
    return compile_policy(raw, known_signals, source=str(path))


def compile_policy(raw: bytes, known_signals: set[str] | None = None, source: str = "<policy>") -> CompiledPolicy:
    try:
        document = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: invalid YAML: {exc}") from exc
    try:
        spec = PolicySpec.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise PolicyError(f"{source}: {problems}") from exc
    seen: set[str] = set()
    rules = []
    for rule in spec.rules:
        if rule.id in seen:
            raise PolicyError(f"{source}: duplicate rule id {rule.id!r}")
        seen.add(rule.id)
        try:
            rules.append(CompiledRule(rule, _compile_condition(rule.when, spec.thresholds, known_signals)))
        except ConditionError as exc:
            raise PolicyError(f"{source}: rule {rule.id!r}: {exc}") from exc
    return CompiledPolicy(spec, tuple(rules), hashlib.sha256(raw).hexdigest())


def _compile_condition(condition: Condition, thresholds: dict[str, float], known: set[str] | None) -> Compiled:
    if isinstance(condition, str):
        return compile_comparison(condition, thresholds, known)
    if not isinstance(condition, dict) or len(condition) != 1:
        raise ConditionError(f"a condition is a string or one of all/any/not, got {condition!r}")
    (combinator, operand), = condition.items()
    if combinator == "not":
        inner = _compile_condition(operand, thresholds, known)
        return lambda signals, observed: not inner(signals, {})
    if combinator not in ("all", "any") or not isinstance(operand, list) or not operand:
        raise ConditionError(f"expected all/any with a non-empty list, or not, got {combinator!r}")
    parts = [_compile_condition(part, thresholds, known) for part in operand]
    return _all_of(parts) if combinator == "all" else _any_of(parts)


def _all_of(parts: list[Compiled]) -> Compiled:
    def evaluate(signals, observed):
        found: dict[str, Any] = {}
        if all(part(signals, found) for part in parts):
            observed.update(found)
            return True
        return False
    return evaluate


def _any_of(parts: list[Compiled]) -> Compiled:
    def evaluate(signals, observed):
        # Every true branch contributes its values, so the reason shows all of them.
        results = [part(signals, observed) for part in parts]
        return any(results)
    return evaluate
