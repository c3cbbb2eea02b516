"""The shape of a policy file, validated with pydantic (unknown keys refused)."""
from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Action = Literal["allow", "block", "review", "redact"]
RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,99}$"
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActionSpec(_Strict):
    action: Action
    queue: str = Field(default="default", pattern=NAME_PATTERN)
    # The item's place in its review queue (higher first). Not the rule-level
    # `priority`, which decides which rule wins. Spelled `priority` before.
    queue_priority: int = Field(default=0, ge=0, le=100)
    entities: list[str] = Field(default_factory=list)
    # The item must be reported to the authorities (e.g. NCMEC for sexualised minors):
    # the decision carries `reportable: true` when any rule that fired says so.
    reportable: bool = False

    @model_validator(mode="before")
    @classmethod
    def _old_spelling(cls, value: Any) -> Any:
        if isinstance(value, dict) and "priority" in value:
            if "queue_priority" in value:
                raise ValueError("give queue_priority only; priority is its deprecated spelling")
            value = {("queue_priority" if key == "priority" else key): item for key, item in value.items()}
        return value


def as_action_spec(value: Union[str, dict[str, Any], ActionSpec]) -> Any:
    return {"action": value} if isinstance(value, str) else value


Condition = Union[str, dict[str, Any]]


class RuleSpec(_Strict):
    id: str = Field(pattern=RULE_ID_PATTERN)
    description: str = ""
    when: Condition
    then: ActionSpec
    # Breaks ties between rules of the same action; higher first, then file order.
    priority: int = Field(default=0, ge=0, le=100)

    _then = field_validator("then", mode="before")(lambda cls, value: as_action_spec(value))


class PolicySpec(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    version: str = Field(default="unversioned", max_length=64)
    description: str = ""
    extends: str | None = None
    surfaces: list[str] = Field(default_factory=list)
    shadow: str | None = None
    default_action: Action = "allow"
    # One action for any failed classifier, or per signal with a `default`.
    on_error: dict[str, ActionSpec] = Field(
        default_factory=lambda: {"default": ActionSpec(action="review", queue="classifier-errors")})
    thresholds: dict[str, float] = Field(default_factory=dict)
    rules: list[RuleSpec] = Field(default_factory=list)

    @field_validator("on_error", mode="before")
    @classmethod
    def _on_error_shapes(cls, value: Any) -> Any:
        if isinstance(value, str) or (isinstance(value, dict) and "action" in value):
            return {"default": as_action_spec(value)}
        if isinstance(value, dict):
            return {key: as_action_spec(spec) for key, spec in value.items()}
        return value


DEPRECATED_THEN_KEYS = {"priority": "queue_priority"}


def deprecated_action_keys(data: Any) -> list[tuple[tuple, str, str]]:
    """(path of the key, old, new) for each deprecated spelling in a policy's raw data."""
    found: list[tuple[tuple, str, str]] = []

    def visit(spec: Any, path: tuple) -> None:
        if isinstance(spec, dict):
            found.extend((path + (old,), old, new) for old, new in DEPRECATED_THEN_KEYS.items() if old in spec)

    rules = data.get("rules") if isinstance(data, dict) else None
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(rule, dict):
            visit(rule.get("then"), ("rules", index, "then"))
    on_error = data.get("on_error") if isinstance(data, dict) else None
    if isinstance(on_error, dict) and "action" not in on_error:
        for key, spec in on_error.items():
            visit(spec, ("on_error", key))
    else:
        visit(on_error, ("on_error",))
    return found
