"""Policy regexes run on RE2 (google-re2, the ``re2`` module): matching takes time
linear in the text, whatever the pattern, so no policy can backtrack for minutes on
a hostile prompt (``(a|aa)*c``, ``.*.*.*=``).

What RE2 cannot compile is refused when the policy is linted or loaded: back-references,
look-around, possessive quantifiers, repeats over 1000, and programs over ``MAX_PROGRAM_BYTES``.
Patterns match case-insensitively, as before.
"""
from __future__ import annotations

import re2

MAX_PATTERN_LENGTH = 300
MAX_PROGRAM_BYTES = 1 << 20  # RE2's compiled-program budget; a larger pattern fails to compile


class RegexTooCostly(ValueError):
    pass


def _options() -> "re2.Options":
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # RE2 would print to stderr: not a JSON log line
    options.max_mem = MAX_PROGRAM_BYTES
    return options


def compile_guarded(pattern: str):
    """An RE2 pattern object (``search``, ``match``, ``fullmatch`` as in ``re``), or RegexTooCostly."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise RegexTooCostly(f"longer than {MAX_PATTERN_LENGTH} characters")
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        message = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise RegexTooCostly(f"RE2 (linear-time matching) cannot compile it: {message}") from None
