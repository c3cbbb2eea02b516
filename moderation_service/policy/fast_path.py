"""Compiles a whole policy's conditions into one generated Python function.

It answers "which rules fire, and on which values?": each distinct scalar field
is read once, and each simple comparison is an inline expression, so a rule
that does not fire costs tens of nanoseconds. The closures in ``conditions``
stay the reference: they decide everything the generator does not inline, and
collect the reason values of fired rules whose values it cannot build itself
(those are returned as None).

Nothing from a policy file is pasted into the source: paths and constants
travel in the function's namespace and are referred to by index.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping, Sequence

from moderation_service.policy.conditions import Compiled, Facts, values_at
from moderation_service.policy.schema import NUMBER, FieldSchema, field_type

_SIMPLE = re.compile(r"^\s*(?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_][\w/-]*)+)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<right>\S+)\s*$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_MEMBERSHIP = re.compile(r"^\s*(?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_][\w/-]*)+)\s+(?P<op>not in|in)\s+\[(?P<items>[^\]\[]*)\]\s*$")
_COUNT = re.compile(r"^\s*count\((?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_][\w/-]*)*)\)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<right>\S+)\s*$")
_WORD = re.compile(r"^\w+$")
_CONTAINS_ANY = re.compile(r"^\s*(?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_][\w/-]*)+)\s+contains_any\s+\[(?P<items>[^\]\[]*)\]\s*$")
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


def _first_in(values: list[Any], options: frozenset) -> Any:
    return next((value for value in values if value.__hash__ is not None and value in options), _MISSING)


def _first_not_in(values: list[Any], options: frozenset) -> Any:
    return next((value for value in values if value.__hash__ is None or value not in options), _MISSING)


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
        self.simple_values: dict[str, list[str]] = {}
        self.first_matches: list[str] = []
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
            return self._membership(text, membership["path"], membership["op"], membership["items"])
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
        # The values its reason reports, as the reference closure records them.
        entries = [f"{self._label(path)}: {variable}"]
        if right.startswith("thresholds."):
            entries.append(f"{self._label(right)}: {constant_ref}")
        self.simple_values[text] = entries
        return f"({guard} and {variable} {op} {constant_ref})"

    def _label(self, text: str) -> str:
        self.constants.append(text)
        return f"C[{len(self.constants) - 1}]"

    def values_source(self, condition: Any) -> str | None:
        """A dict display of a fired rule's values when every part was inlined, else None."""
        if isinstance(condition, str) and condition in self.simple_values:
            return "{" + ", ".join(self.simple_values[condition]) + "}"
        if isinstance(condition, dict) and list(condition) == ["all"] and isinstance(condition["all"], list):
            parts = condition["all"]
            if parts and all(isinstance(part, str) and part in self.simple_values for part in parts):
                return "{" + ", ".join(entry for part in parts for entry in self.simple_values[part]) + "}"
        return None

    def _membership(self, text: str, path: str, op: str, items_text: str) -> str | None:
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
            # The first element satisfying it fires the rule and is its reason, as in the closure.
            values = f"L{self.list_paths.setdefault(path, len(self.list_paths))}"
            found = f"M{len(self.first_matches)}"
            self.first_matches.append(f"{found} = first_{'not_' if op == 'not in' else ''}in({values}, {constant_ref})")
            self.simple_values[text] = [f"{self._label(path)}: {found}"]
            return f"({found} is not MISSING)"
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

    def function(self, expressions: Sequence[str], values: Sequence[str | None]) -> Callable[[Facts], list[tuple]]:
        lines = ["def fires(facts):"]
        for path, index in self.paths.items():
            signal, *fields = path.split(".")
            self.constants.append((signal, tuple(fields)))
            lines.append(f"    P{index} = read(facts, *C[{len(self.constants) - 1}])")
        for path, index in self.list_paths.items():
            signal, *fields = path.split(".")
            self.constants.append((signal, tuple(fields)))
            lines.append(f"    L{index} = read_all(facts, *C[{len(self.constants) - 1}])")
        lines.extend(f"    {line}" for line in self.first_matches)
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
            lines.append(f"        fired.append(({index}, {values[index] or 'None'}))")
        lines.append("    return fired")
        namespace = {"F": self.fallbacks, "C": self.constants, "read": _read_scalar, "read_all": values_at,
                     "first_in": _first_in, "first_not_in": _first_not_in, "count_of": _count_of, "words": _words,
                     "MISSING": _MISSING, "NUMERIC": _NUMERIC_TYPES}
        exec(compile("\n".join(lines), "<policy fast path>", "exec"), namespace)  # noqa: S102 - source built above
        return namespace["fires"]


def compile_fast_path(conditions: Sequence[tuple[Any, Compiled]], thresholds: Mapping[str, float],
                      schemas: Mapping[str, FieldSchema] | None) -> Callable[[Facts], list[int]]:
    """``conditions``: each rule's YAML condition with its reference closure, in rule order."""
    generator = _Generator(thresholds, schemas)
    expressions = [generator.expression(condition, closure) for condition, closure in conditions]
    values = [generator.values_source(condition) for condition, _closure in conditions]
    return generator.function(expressions, values)
