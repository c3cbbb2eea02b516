"""Refuses regexes that could take exponential time on hostile prompts.

Python's ``re`` has no timeout, so the guard is at compile time: a size cap,
no back-references, and no quantified group that itself contains a quantifier
(the ``(a+)+`` shape behind catastrophic backtracking).
"""
from __future__ import annotations

import re

try:
    from re import _constants as sre_constants, _parser as sre_parse  # Python 3.11+
except ImportError:  # pragma: no cover
    import sre_constants, sre_parse  # type: ignore[no-redef]

MAX_PATTERN_LENGTH = 300
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None)}


class RegexTooCostly(ValueError):
    pass


def compile_guarded(pattern: str) -> re.Pattern[str]:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise RegexTooCostly(f"longer than {MAX_PATTERN_LENGTH} characters")
    compiled = re.compile(pattern, re.IGNORECASE)
    _check(sre_parse.parse(pattern), inside_repeat=False)
    return compiled


def _check(parsed, inside_repeat: bool) -> None:
    for op, argument in parsed:
        if op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            raise RegexTooCostly("back-references are not allowed")
        if op in _REPEATS:
            _low, high, sub = argument
            unbounded_or_wide = high == sre_constants.MAXREPEAT or high > 10
            if inside_repeat and unbounded_or_wide:
                raise RegexTooCostly("a quantifier inside a quantified group can backtrack exponentially")
            _check(sub, inside_repeat or high > 1)
        elif op == sre_constants.SUBPATTERN:
            _check(argument[-1], inside_repeat)
        elif op == sre_constants.BRANCH:
            for branch in argument[1]:
                _check(branch, inside_repeat)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            _check(argument[1], inside_repeat)
