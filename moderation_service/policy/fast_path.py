"""Compiles a whole policy's conditions into one generated Python function.

It answers only "which rules fire?": each distinct scalar field is read once,
and each simple comparison is an inline expression, so a rule that does not
fire costs tens of nanoseconds. The closures in ``conditions`` stay the
reference: they decide everything the generator does not inline, and they
collect the values shown in the reasons of the rules that did fire.

Nothing from a policy file is pasted into the source: paths and constants
travel in the function's namespace and are referred to by index.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping, Sequence

from moderation_service.policy.conditions import Compiled, Facts, values_at
from moderation_service.policy.schema import NUMBER, FieldSchema, field_type

_SIMPLE = re.compile(r"^\s*(?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<right>\S+)\s*$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_MEMBERSHIP = re.compile(r"^\s*(?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\s+(?P<op>not in|in)\s+\[(?P<items>[^\]\[]*)\]\s*$")
_COUNT = re.compile(r"^\s*count\((?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<right>\S+)\s*$")
_WORD = re.compile(r"^\w+$")
_CONTAINS_ANY = re.compile(r"^\s*(?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\s+contains_any\s+\[(?P<items>[^\]\[]*)\]\s*$")
_ORDERING = {">=", ">", "<=", "<"}
_MISSING = object()
_NUMERIC_TYPES = (int, float, bool)


def _read_scalar(facts: Facts, signal: str, fields: tuple[str, ...]) -> Any:
    value = facts.get(signal, _MISSING)
    for name in fields:
        if value.__class__ is not dict:
            return _MISSING
        value = value.get(name, _MISSING)
    return value


def _any_in(values: list[Any], options: frozenset) -> bool:
    return any(value.__hash__ is not None and value in options for value in values)


def _any_not_in(values: list[Any], options: frozenset) -> bool:
    return any(value.__hash__ is None or value not in options for value in values)


def _count_of(values: list[Any]) -> int:
    return sum(len(value) if isinstance(value, list) else 1 for value in values)


_TOKEN = re.compile(r"\w+")


def _words(text: Any) -> frozenset[str]:
    return frozenset(_TOKEN.findall(text.casefold())) if text.__class__ is str else frozenset()


class _Generator:
    def __init__(self, thresholds: Mapping[str, float], schemas: Mapping[str, FieldSchema] | None) -> None:
        self.thresholds = thresholds
        self.schemas = schemas
        self.paths: dict[str, int] = {}
        self.list_paths: dict[str, int] = {}
        self.word_paths: dict[str, int] = {}
        self.constants: list[Any] = []
        self.fallbacks: list[Compiled] = []

    def expression(self, condition: Any, fallback: Compiled) -> str:
        """Source for one condition; anything not inlined calls its reference closure."""
        if isinstance(condition, dict) and len(condition) == 1:
            (combinator, operand), = condition.items()
            if combinator in ("all", "any") and isinstance(operand, list):
                joiner = " and " if combinator == "all" else " or "
                parts = [self.expression(part, None) for part in operand]
                if None not in parts:
                    return "(" + joiner.join(parts) + ")"
            elif combinator == "not":
                inner = self.expression(operand, None)
                if inner is not None:
                    return f"(not {inner})"
        elif isinstance(condition, str) and (inline := self._comparison(condition)) is not None:
            return inline
        if fallback is None:
            return None  # the caller falls back for the whole condition
        self.fallbacks.append(fallback)
        return f"F[{len(self.fallbacks) - 1}](facts, {{}})"

    def _comparison(self, text: str) -> str | None:
        if self.schemas is None:
            return None
        if membership := _MEMBERSHIP.match(text):
            return self._membership(membership["path"], membership["op"], membership["items"])
        if words := _CONTAINS_ANY.match(text):
            return self._contains_any(words["path"], words["items"])
        if count := _COUNT.match(text):
            return self._count(count["path"], count["op"], count["right"])
        match = _SIMPLE.match(text)
        if not match:
            return None
        path, op, right = match["path"], match["op"], match["right"]
        schema = self._scalar_schema(path)
        constant = self._constant(right)
        if schema is None or constant is None:
            return None
        if op in _ORDERING and schema.type != NUMBER:
            return None
        variable = f"P{self.paths.setdefault(path, len(self.paths))}"
        self.constants.append(constant)
        constant_ref = f"C[{len(self.constants) - 1}]"
        guard = f"{variable}.__class__ in NUMERIC" if op in _ORDERING else f"{variable} is not MISSING"
        return f"({guard} and {variable} {op} {constant_ref})"

    def _membership(self, path: str, op: str, items_text: str) -> str | None:
        from moderation_service.policy.conditions import _scalar

        try:
            schema, through_list = field_type(self.schemas, path)
        except KeyError:
            return None
        if schema.kind != "scalar":
            return None
        items = frozenset(_scalar(part.strip()) for part in items_text.split(",") if part.strip())
        self.constants.append(items)
        constant_ref = f"C[{len(self.constants) - 1}]"
        if through_list:
            # Any element satisfying it fires the rule, as the reference closure does.
            values = f"L{self.list_paths.setdefault(path, len(self.list_paths))}"
            return f"any_{'not_' if op == 'not in' else ''}in({values}, {constant_ref})"
        variable = f"P{self.paths.setdefault(path, len(self.paths))}"
        if op == "in":
            return f"({variable} is not MISSING and {variable}.__hash__ is not None and {variable} in {constant_ref})"
        return f"({variable} is not MISSING and ({variable}.__hash__ is None or {variable} not in {constant_ref}))"

    def _contains_any(self, path: str, items_text: str) -> str | None:
        from moderation_service.policy.conditions import _scalar

        if self._scalar_schema(path) is None:
            return None
        words = [str(_scalar(part.strip())).casefold() for part in items_text.split(",") if part.strip()]
        if words and all(_WORD.match(word) for word in words):
            # Single words: one tokenisation per item, then a set test per rule.
            self.constants.append(frozenset(words))
            self.paths.setdefault(path, len(self.paths))
            tokens = f"W{self.word_paths.setdefault(path, len(self.word_paths))}"
            return f"(not C[{len(self.constants) - 1}].isdisjoint({tokens}))"
        self.constants.append(re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(word) for word in words)})(?!\w)"))
        variable = f"P{self.paths.setdefault(path, len(self.paths))}"
        return f"({variable}.__class__ is str and C[{len(self.constants) - 1}].search({variable}.casefold()) is not None)"

    def _count(self, path: str, op: str, right: str) -> str | None:
        try:
            field_type(self.schemas, path)
        except KeyError:
            return None
        constant = self._constant(right)
        if constant is None:
            return None
        self.constants.append(constant)
        values = f"L{self.list_paths.setdefault(path, len(self.list_paths))}"
        signal = path.split(".", 1)[0]
        self.constants.append(signal)
        # A missing signal has no count, so the comparison is false (as in the closure).
        return f"(C[{len(self.constants) - 1}] in facts and count_of({values}) {op} C[{len(self.constants) - 2}])"

    def _scalar_schema(self, path: str) -> FieldSchema | None:
        """The field's schema when it is one value per item (no list on the way)."""
        try:
            schema, through_list = field_type(self.schemas, path)
        except KeyError:
            return None
        return None if through_list or schema.kind != "scalar" else schema

    def _constant(self, text: str) -> float | None:
        if text.startswith("thresholds."):
            return self.thresholds.get(text.removeprefix("thresholds."))
        return float(text) if _NUMBER.match(text) else None

    def function(self, expressions: Sequence[str]) -> Callable[[Facts], list[int]]:
        lines = ["def fires(facts):"]
        for path, index in self.paths.items():
            signal, *fields = path.split(".")
            self.constants.append((signal, tuple(fields)))
            lines.append(f"    P{index} = read(facts, *C[{len(self.constants) - 1}])")
        for path, index in self.list_paths.items():
            signal, *fields = path.split(".")
            self.constants.append((signal, tuple(fields)))
            lines.append(f"    L{index} = read_all(facts, *C[{len(self.constants) - 1}])")
        for path, index in self.word_paths.items():
            variable = f"P{self.paths.setdefault(path, len(self.paths))}"
            lines.append(f"    W{index} = words({variable})")
        lines.append("    fired = []")
        shared: dict[str, str] = {}
        for index, expression in enumerate(expressions):
            # Rules with the same condition share one evaluation of it.
            if expression in shared:
                lines.append(f"    if {shared[expression]}:")
            else:
                shared[expression] = f"B{len(shared)}"
                lines.append(f"    {shared[expression]} = {expression}")
                lines.append(f"    if {shared[expression]}:")
            lines.append(f"        fired.append({index})")
        lines.append("    return fired")
        namespace = {"F": self.fallbacks, "C": self.constants, "read": _read_scalar, "read_all": values_at,
                     "any_in": _any_in, "any_not_in": _any_not_in, "count_of": _count_of, "words": _words,
                     "MISSING": _MISSING, "NUMERIC": _NUMERIC_TYPES}
        exec(compile("\n".join(lines), "<policy fast path>", "exec"), namespace)  # noqa: S102 - source built above
        return namespace["fires"]


def compile_fast_path(conditions: Sequence[tuple[Any, Compiled]], thresholds: Mapping[str, float],
                      schemas: Mapping[str, FieldSchema] | None) -> Callable[[Facts], list[int]]:
    """``conditions``: each rule's YAML condition with its reference closure, in rule order."""
    generator = _Generator(thresholds, schemas)
    expressions = [generator.expression(condition, closure) for condition, closure in conditions]
    return generator.function(expressions)
