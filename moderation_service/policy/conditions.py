"""Compiles condition strings such as ``toxicity.scores.hate >= thresholds.hate_block``.

Grammar, one comparison per string (combine with ``all``/``any``/``not`` in YAML):
    operand OP operand          OP: >= > <= < == != in "not in"
    count(path) OP number
A path walks signal fields; walking through a list looks at every element, and a
comparison holds when any value found satisfies it. A missing signal or field
yields no values, so the comparison is false.
"""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

Signals = Mapping[str, Any]
Compiled = Callable[[Signals, dict[str, Any]], bool]

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne,
    "in": lambda value, options: value in options,
    "not in": lambda value, options: value not in options,
}
_COMPARISON = re.compile(r"^\s*(?P<left>.+?)\s+(?P<op>>=|<=|==|!=|>|<|not in|in)\s+(?P<right>.+?)\s*$")
_COUNT = re.compile(r"^count\((?P<path>[A-Za-z_][\w.]*)\)$")
_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


class ConditionError(ValueError):
    pass


@dataclass(frozen=True)
class Operand:
    """Resolves to a list of candidate values; ``label`` names it in reasons."""

    label: str
    resolve: Callable[[Signals], list[Any]]
    is_signal: bool


def compile_comparison(text: str, thresholds: Mapping[str, float], known_signals: set[str] | None) -> Compiled:
    match = _COMPARISON.match(text)
    if not match:
        raise ConditionError(f"cannot parse condition {text!r}: expected 'left OP right'")
    left = _operand(match["left"], thresholds, known_signals)
    right = _operand(match["right"], thresholds, known_signals)
    compare = _OPERATORS[match["op"]]
    if match["op"] in ("in", "not in") and right.is_signal:
        raise ConditionError(f"{text!r}: the right side of 'in' must be a list")

    def evaluate(signals: Signals, observed: dict[str, Any]) -> bool:
        right_values = right.resolve(signals)
        if not right_values:
            return False
        right_value = right_values[0]
        for value in left.resolve(signals):
            try:
                if compare(value, right_value):
                    observed[left.label] = value
                    if right.is_signal or right.label.startswith("thresholds."):
                        observed[right.label] = right_value
                    return True
            except TypeError:
                continue
        return False

    return evaluate


def _operand(text: str, thresholds: Mapping[str, float], known_signals: set[str] | None) -> Operand:
    text = text.strip()
    if count := _COUNT.match(text):
        getter = _path_getter(count["path"], known_signals)
        signal_name = count["path"].split(".", 1)[0]

        def count_values(signals: Signals) -> list[Any]:
            if signal_name not in signals:
                return []
            return [sum(len(v) if isinstance(v, list) else 1 for v in getter(signals))]

        return Operand(text, count_values, True)
    if text.startswith("thresholds."):
        name = text.removeprefix("thresholds.")
        if name not in thresholds:
            raise ConditionError(f"undefined threshold {name!r}")
        value = thresholds[name]
        return Operand(text, lambda _signals: [value], False)
    if text.startswith("[") and text.endswith("]"):
        items = [_scalar(part.strip()) for part in text[1:-1].split(",") if part.strip()]
        return Operand(text, lambda _signals: [items], False)
    if _NUMBER.match(text):
        number = float(text)
        return Operand(text, lambda _signals: [number], False)
    if _PATH.match(text):
        return Operand(text, _path_getter(text, known_signals), True)
    literal = _scalar(text)
    return Operand(text, lambda _signals: [literal], False)


def _scalar(text: str) -> Any:
    if _NUMBER.match(text):
        return float(text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    return text


def _path_getter(path: str, known_signals: set[str] | None) -> Callable[[Signals], list[Any]]:
    signal, *fields = path.split(".")
    if known_signals is not None and signal not in known_signals:
        raise ConditionError(f"unknown signal {signal!r} in {path!r}; known: {sorted(known_signals)}")

    def resolve(signals: Signals) -> list[Any]:
        values = [signals[signal]] if signal in signals else []
        for field in fields:
            values = [child for value in values for child in _children(value, field)]
        return values

    return resolve


def _children(value: Any, field: str) -> list[Any]:
    if isinstance(value, list):
        return [child for element in value for child in _children(element, field)]
    if isinstance(value, Mapping) and field in value:
        return [value[field]]
    return []
