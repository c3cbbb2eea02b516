"""Policy regexes run on RE2: the patterns that backtrack exponentially in Python's `re`
match in linear time, and what RE2 cannot compile is refused at lint."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from classifiers.registry import load_config
from moderation_service.policy import PolicyError, evaluate
from moderation_service.policy.policy_set import compile_single_policy
from moderation_service.policy.regex_guard import compile_guarded
from moderation_service.policy.schema import signal_schemas
from moderation_service.service import prompt_facts

sys.path.insert(0, str(Path(__file__).resolve().parent / "corpus"))
from hostile_requests import CATASTROPHIC_REGEXES, CATASTROPHIC_TEXTS, UNSUPPORTED_REGEXES  # noqa: E402

SCHEMAS = signal_schemas(load_config())
PROJECT = Path(__file__).resolve().parent.parent


def regex_policy(pattern: str):
    assert '"' not in pattern and "'" not in pattern  # YAML single quotes keep backslashes as they are
    return compile_single_policy(f"name: x\nrules: [{{id: r, when: 'prompt.text matches \"{pattern}\"', then: block}}]",
                                 SCHEMAS)


@pytest.mark.parametrize("pattern", UNSUPPORTED_REGEXES)
def test_what_re2_cannot_compile_is_refused_with_a_reason(pattern):
    with pytest.raises(PolicyError, match="RE2"):
        regex_policy(pattern)


def test_policy_regexes_still_match_as_before():
    ssn = regex_policy("\\b\\d{3}-\\d{2}-\\d{4}\\b")
    assert evaluate(ssn, prompt_facts("my ssn is 123-45-6789 ok")).action == "block"
    assert evaluate(ssn, prompt_facts("my ssn is 1234-45-6789 ok")).action == "allow"
    assert evaluate(regex_policy("(a|aa)*c"), prompt_facts("AAAC")).action == "block"  # case-insensitive
    assert evaluate(regex_policy("(a|aa)*c"), prompt_facts("aaab")).action == "allow"


def test_catastrophic_patterns_finish_on_their_worst_texts():
    """Run in a child process: on Python's `re` these never finish (36 characters of `(a|aa)*c`
    took 7 s; 5,000 take longer than the universe), so the parent kills it and the test fails
    instead of hanging. RE2 does all of them in milliseconds; the limit below is not a benchmark."""
    script = f"""
import sys
sys.path.insert(0, {str(PROJECT)!r})
sys.path.insert(0, {str(PROJECT / 'tests' / 'corpus')!r})
from hostile_requests import CATASTROPHIC_REGEXES, CATASTROPHIC_TEXTS
from moderation_service.policy.regex_guard import compile_guarded
for pattern in CATASTROPHIC_REGEXES:
    compiled = compile_guarded(pattern)
    for text in CATASTROPHIC_TEXTS:
        compiled.search(text)
print("done", len(CATASTROPHIC_REGEXES) * len(CATASTROPHIC_TEXTS))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"done {len(CATASTROPHIC_REGEXES) * len(CATASTROPHIC_TEXTS)}"


def test_the_compiled_pattern_is_re2():
    assert type(compile_guarded("a+")).__module__.startswith("re2")
