"""Compiles condition strings such as ``toxicity.scores.hate >= thresholds.hate_block``.

One comparison per string (combine them with ``all``/``any``/``not`` in YAML):

    operand OP operand      OP: >= > <= < == != in "not in"
    path matches "regex"    a Python regex, size-capped, no nested quantifiers
    path contains_any [w1, w2]   whole words, case-insensitive
    count(path) OP number
    missing(signal)         the signal was not produced (e.g. no image sent)
    failed(signal)          its classifier raised or timed out

A path walks signal fields; walking through a list looks at every element,
and a comparison holds when any value found satisfies it. A missing signal or
field yields no values, so a comparison on it is false.
"""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from moderation_service.policy.regex_guard import RegexTooCostly, compile_guarded
from moderation_service.policy.schema import ANY, NUMBER, STRING, FieldSchema, field_type

FAILED_KEY = "__failed__"  # in the facts: the set of signals whose classifier failed
CACHE_KEY = "__paths__"  # in the facts: a dict the engine gives each evaluation, path -> values
Facts = Mapping[str, Any]
Compiled = Callable[[Facts, dict[str, Any]], bool]

_ORDERING = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
_EQUALITY = {"==": operator.eq, "!=": operator.ne}
_COMPARISON = re.compile(
    r"^\s*(?P<left>.+?)\s+(?P<op>>=|<=|==|!=|>|<|not in|in|matches|contains_any)\s+(?P<right>.+?)\s*$")
_FUNCTION = re.compile(r"^(?P<function>count|missing|failed)\((?P<argument>[A-Za-z_][\w./-]*)\)$")
_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_][\w/-]*)+$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


class ConditionError(ValueError):
    pass


@dataclass(frozen=True)
class Operand:
    """Resolves to the candidate values; ``label`` names it in reasons."""

    label: str
    resolve: Callable[[Facts], list[Any]]
    type: str
    from_signal: bool


@dataclass(frozen=True)
class CompileContext:
    thresholds: Mapping[str, float]
    schemas: Mapping[str, FieldSchema] | None  # None: accept any signal and field


def compile_comparison(text: str, context: CompileContext) -> Compiled:
    text = text.strip()
    if function := _FUNCTION.match(text):
        if function["function"] in ("missing", "failed"):
            return _presence(function["function"], function["argument"], context)
    match = _COMPARISON.match(text)
    if not match:
        raise ConditionError(f"cannot parse {text!r}: expected 'left OP right', missing(signal) or failed(signal)")
    op = match["op"]
    left = _operand(match["left"], context)
    if op == "matches":
        return _matches(left, match["right"])
    right = _operand(match["right"], context)
    if op == "contains_any":
        return _contains_any(left, right)
    _check_types(left, op, right)
    compare = _comparator(op)
    # A threshold, number or list is the same on every call: resolve it once, here.
    constant = None if right.from_signal else right.resolve({})

    def evaluate(facts: Facts, observed: dict[str, Any]) -> bool:
        right_values = constant if constant is not None else right.resolve(facts)
        if not right_values:
            return False
        right_value = right_values[0]
        for value in left.resolve(facts):
            try:
                holds = compare(value, right_value)
            except TypeError:
                continue
            if holds:
                observed[left.label] = value
                if right.from_signal or right.label.startswith("thresholds."):
                    observed[right.label] = right_value
                return True
        return False

    return evaluate


def _comparator(op: str) -> Callable[[Any, Any], bool]:
    if op in _ORDERING:
        return _ORDERING[op]
    if op in _EQUALITY:
        return _EQUALITY[op]
    if op == "in":
        return lambda value, options: value in options
    return lambda value, options: value not in options


def _check_types(left: Operand, op: str, right: Operand) -> None:
    if op in ("in", "not in"):
        if right.type != "list":
            raise ConditionError(f"the right side of {op!r} must be a list like [A, B], not {right.label!r}")
        return
    if right.type == "list":
        raise ConditionError(f"{op!r} compares single values; use 'in' with a list")
    if ANY in (left.type, right.type) or left.type == right.type:
        if op in _ORDERING and STRING in (left.type, right.type):
            raise ConditionError(f"{op!r} needs numbers; {left.label!r} and {right.label!r} are text")
        return
    raise ConditionError(f"type mismatch: {left.label!r} is a {left.type} but {right.label!r} is a {right.type}")


def _matches(left: Operand, pattern_text: str) -> Compiled:
    if left.type not in (STRING, ANY):
        raise ConditionError(f"'matches' needs text; {left.label!r} is a {left.type}")
    literal = _scalar(pattern_text.strip())
    if not isinstance(literal, str) or not pattern_text.strip()[0] in "'\"":
        raise ConditionError(f"the pattern after 'matches' must be quoted, got {pattern_text!r}")
    try:
        pattern = compile_guarded(literal)
    except (re.error, RegexTooCostly) as exc:
        raise ConditionError(f"regex {literal!r}: {exc}") from None

    def evaluate(facts: Facts, observed: dict[str, Any]) -> bool:
        for value in left.resolve(facts):
            if isinstance(value, str) and (found := pattern.search(value)):
                observed[left.label] = found.group(0)
                return True
        return False

    return evaluate


def _contains_any(left: Operand, words: Operand) -> Compiled:
    if left.type not in (STRING, ANY):
        raise ConditionError(f"'contains_any' needs text; {left.label!r} is a {left.type}")
    if words.type != "list":
        raise ConditionError("'contains_any' needs a list of words like [word1, word2]")
    [word_list] = words.resolve({})
    alternatives = "|".join(re.escape(str(word).casefold()) for word in word_list)
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")

    def evaluate(facts: Facts, observed: dict[str, Any]) -> bool:
        for value in left.resolve(facts):
            if isinstance(value, str) and (found := pattern.search(value.casefold())):
                observed[left.label] = found.group(0)
                return True
        return False

    return evaluate


def _presence(function: str, signal: str, context: CompileContext) -> Compiled:
    if context.schemas is not None and signal not in context.schemas:
        raise ConditionError(f"unknown signal {signal!r}; known: {', '.join(sorted(context.schemas))}")

    def evaluate(facts: Facts, observed: dict[str, Any]) -> bool:
        failed = signal in facts.get(FAILED_KEY, ())
        holds = failed if function == "failed" else (signal not in facts and not failed)
        if holds:
            observed[f"{function}({signal})"] = True
        return holds

    return evaluate


def _operand(text: str, context: CompileContext) -> Operand:
    text = text.strip()
    if function := _FUNCTION.match(text):
        if function["function"] != "count":
            raise ConditionError(f"{function['function']}() is a whole condition, not a value")
        getter = _path_getter(function["argument"], context)[0]
        signal_name = function["argument"].split(".", 1)[0]

        def count_values(facts: Facts) -> list[Any]:
            if signal_name not in facts:
                return []
            return [sum(len(v) if isinstance(v, list) else 1 for v in getter(facts))]

        return Operand(text, count_values, NUMBER, True)
    if text.startswith("thresholds."):
        name = text.removeprefix("thresholds.")
        if name not in context.thresholds:
            raise ConditionError(f"undefined threshold {name!r}")
        value = context.thresholds[name]
        return Operand(text, lambda _facts: [value], NUMBER, False)
    if text.startswith("[") and text.endswith("]"):
        items = [_scalar(part.strip()) for part in text[1:-1].split(",") if part.strip()]
        return Operand(text, lambda _facts: [items], "list", False)
    if _NUMBER.match(text):
        number = float(text)
        return Operand(text, lambda _facts: [number], NUMBER, False)
    if _PATH.match(text):
        getter, schema = _path_getter(text, context)
        return Operand(text, getter, schema.type if schema.kind == "scalar" else ANY, True)
    literal = _scalar(text)
    return Operand(text, lambda _facts: [literal], "boolean" if isinstance(literal, bool) else STRING, False)


def _scalar(text: str) -> Any:
    if _NUMBER.match(text):
        return float(text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    return text


def _path_getter(path: str, context: CompileContext) -> tuple[Callable[[Facts], list[Any]], FieldSchema]:
    schema = FieldSchema("scalar", ANY)
    if context.schemas is not None:
        try:
            schema, _ = field_type(context.schemas, path)
        except KeyError as exc:
            raise ConditionError(str(exc.args[0])) from None
    signal, *fields = path.split(".")

    # Signals are plain JSON data (dicts and lists), so builtin checks suffice. Many
    # rules read the same field: each path is walked once per evaluation and cached.
    field_names = tuple(fields)

    def resolve(facts: Facts) -> list[Any]:
        cache = facts.get(CACHE_KEY)
        if cache is not None and (hit := cache.get(path)) is not None:
            return hit
        values = values_at(facts, signal, field_names)
        if cache is not None:
            cache[path] = values
        return values

    return resolve, schema


def values_at(facts: Facts, signal: str, fields: tuple[str, ...]) -> list[Any]:
    """Every value at signal.field.field..., walking through lists."""
    if signal not in facts:
        return []
    values = [facts[signal]]
    for name in fields:
        found: list[Any] = []
        for value in values:
            _collect(value, name, found)
        values = found
    return values


def _collect(value: Any, name: str, found: list[Any]) -> None:
    if isinstance(value, dict):
        if name in value:
            found.append(value[name])
    elif isinstance(value, list):
        for element in value:
            _collect(element, name, found)
