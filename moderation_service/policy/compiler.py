"""Compiles one effective policy (after ``extends``) into fast closures, once."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from moderation_service.policy.conditions import CompileContext, Compiled, ConditionError, compile_comparison
from moderation_service.policy.problems import Problem
from moderation_service.policy.spec import ActionSpec, PolicySpec, RuleSpec
from moderation_service.policy.vocabulary import redact_entity_problems
from moderation_service.policy.yaml_source import Path, Position, SourceDocument

_BOUND = re.compile(r"^\s*(?P<path>[A-Za-z_][\w./-]*)\s*(?P<op>>=|<=|>|<)\s*(?P<value>\S+)\s*$")


@dataclass(frozen=True)
class RuleOrigin:
    """Where a rule was written, for messages: its file and its path there."""

    document: SourceDocument
    path: Path

    def position(self, *more: Any) -> Position:
        return self.document.position(self.path + more)


@dataclass(frozen=True)
class CompiledRule:
    spec: RuleSpec
    matches: Compiled
    origin: RuleOrigin

    @property
    def reason_fields(self) -> tuple:
        """What this rule's reasons always say: id, description, action, queue, priority, entities, reportable."""
        return self._reason_fields

    def __post_init__(self) -> None:
        # Worked out once here rather than for every item that fires the rule.
        then = self.spec.then
        reviewing = then.action == "review"
        object.__setattr__(self, "_reason_fields", (
            self.spec.id, self.spec.description, then.action, then.queue if reviewing else None,
            then.queue_priority if reviewing else None, tuple(then.entities) if then.action == "redact" else (),
            then.reportable))


@dataclass(frozen=True)
class CompiledPolicy:
    spec: PolicySpec
    rules: tuple[CompiledRule, ...]
    sha256: str
    sources: tuple[str, ...] = field(default=())  # file texts, root of `extends` first
    file: str = ""
    # (index, reason values or None) of the rules that fire, from generated code; see fast_path.
    fires: Callable[[Any], list[tuple[int, dict | None]]] | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def version(self) -> str:
        return self.spec.version

    def on_error_for(self, signal: str) -> ActionSpec:
        return self.spec.on_error.get(signal) or self.spec.on_error.get("default") or ActionSpec(action="review")


def compile_rules(spec: PolicySpec, origins: Mapping[str, RuleOrigin],
                  schemas: Mapping[str, Any] | None) -> tuple[list[CompiledRule], list[Problem]]:
    context = CompileContext(spec.thresholds, schemas)
    compiled: list[CompiledRule] = []
    problems: list[Problem] = []
    for rule in spec.rules:
        origin = origins[rule.id]
        try:
            matches = _compile_condition(rule.when, context, origin, ("when",))
        except _LocatedError as exc:
            problems.append(Problem.at(origin.document.name, exc.position, f"rule {rule.id!r}: {exc.message}"))
            continue
        for index, message in redact_entity_problems(rule.then.entities, schemas):
            problems.append(Problem.at(origin.document.name, origin.position("then", "entities", index),
                                       f"rule {rule.id!r}: {message}"))
        compiled.append(CompiledRule(rule, matches, origin))
    problems.extend(_unreachable_warnings(spec, compiled))
    problems.extend(_warning(rule, f"rule {rule.spec.id!r} is reportable but its action is "
                                   f"{rule.spec.then.action}: an item to report is blocked (or reviewed)")
                    for rule in compiled if rule.spec.then.reportable and rule.spec.then.action in ("allow", "redact"))
    return compiled, problems


class _LocatedError(Exception):
    def __init__(self, message: str, position: Position) -> None:
        self.message = message
        self.position = position


def _compile_condition(condition: Any, context: CompileContext, origin: RuleOrigin, path: Path) -> Compiled:
    if isinstance(condition, str):
        try:
            return compile_comparison(condition, context)
        except ConditionError as exc:
            raise _LocatedError(str(exc), origin.position(*path)) from None
    if not isinstance(condition, dict) or len(condition) != 1:
        raise _LocatedError("a condition is a string, or a mapping with one key: all, any or not",
                            origin.position(*path))
    (combinator, operand), = condition.items()
    inner_path = path + (combinator,)
    if combinator == "not":
        inner = _compile_condition(operand, context, origin, inner_path)
        return lambda facts, observed: not inner(facts, {})
    if combinator not in ("all", "any"):
        raise _LocatedError(f"unknown combinator {combinator!r}; use all, any or not",
                            origin.position(*path, combinator, "<key>"))
    if not isinstance(operand, list) or not operand:
        raise _LocatedError(f"'{combinator}' needs a non-empty list of conditions", origin.position(*inner_path))
    parts = [_compile_condition(part, context, origin, inner_path + (index,)) for index, part in enumerate(operand)]
    return _all_of(parts) if combinator == "all" else _any_of(parts)


def _all_of(parts: list[Compiled]) -> Compiled:
    def evaluate(facts, observed):
        found: dict[str, Any] = {}
        if all(part(facts, found) for part in parts):
            observed.update(found)
            return True
        return False
    return evaluate


def _any_of(parts: list[Compiled]) -> Compiled:
    def evaluate(facts, observed):
        # Every true branch adds its values, so the reason shows all of them.
        results = [part(facts, observed) for part in parts]
        return any(results)
    return evaluate


def _unreachable_warnings(spec: PolicySpec, rules: list[CompiledRule]) -> list[Problem]:
    warnings: list[Problem] = []
    seen: dict[str, RuleSpec] = {}
    for rule in rules:
        key = repr(rule.spec.when)
        earlier = seen.get(key)
        if earlier is not None and earlier.then == rule.spec.then:
            warnings.append(_warning(rule, f"rule {rule.spec.id!r} has the same condition and action as "
                                           f"{earlier.id!r}, so it never changes a decision"))
        seen.setdefault(key, rule.spec)
        if _contradictory(rule.spec.when, spec.thresholds):
            warnings.append(_warning(rule, f"rule {rule.spec.id!r} can never fire: its bounds contradict each other",
                                     "error"))
    return warnings


def _warning(rule: CompiledRule, message: str, severity: str = "warning") -> Problem:
    return Problem.at(rule.origin.document.name, rule.origin.position("when"), message, severity)


def _contradictory(condition: Any, thresholds: Mapping[str, float]) -> bool:
    """True when an `all` bounds one scalar path into an empty interval."""
    if not (isinstance(condition, dict) and isinstance(condition.get("all"), list)):
        return False
    low: dict[str, tuple[float, bool]] = {}
    high: dict[str, tuple[float, bool]] = {}
    for part in condition["all"]:
        bound = _BOUND.match(part) if isinstance(part, str) else None
        if not bound:
            continue
        value = _number(bound["value"], thresholds)
        if value is None:
            continue
        path, op = bound["path"], bound["op"]
        if op in (">", ">="):
            current = low.get(path)
            if current is None or value > current[0] or (value == current[0] and op == ">"):
                low[path] = (value, op == ">")
        else:
            current = high.get(path)
            if current is None or value < current[0] or (value == current[0] and op == "<"):
                high[path] = (value, op == "<")
    for path in low.keys() & high.keys():
        (lower, strict_low), (upper, strict_high) = low[path], high[path]
        if lower > upper or (lower == upper and (strict_low or strict_high)):
            return True
    return False


def _number(text: str, thresholds: Mapping[str, float]) -> float | None:
    if text.startswith("thresholds."):
        return thresholds.get(text.removeprefix("thresholds."))
    try:
        return float(text)
    except ValueError:
        return None
