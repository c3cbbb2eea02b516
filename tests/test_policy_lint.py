"""`moderation policy lint`: every problem at file:line:column, in a plain sentence."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

MODERATION = str(Path(sys.executable).with_name("moderation"))

BROKEN = {
    "default.yaml": """\
name: default
colour: blue
thresholds: {nsfw_block: 0.9}
rules:
  - id: unknown-signal
    when: nudity.score > 0.5
    then: block
  - id: unknown-field
    when: nsfw.prob > 0.5
    then: block
  - id: type-mismatch
    when: nsfw.probability == explicit
    then: block
  - id: undefined-threshold
    when: nsfw.probability >= thresholds.nsfw_blok
    then: block
  - id: unknown-signal
    when: nsfw.probability >= 0.1
    then: review
  - id: bad-regex
    when: prompt.text matches "([a-z"
    then: block
  - id: costly-regex
    when: prompt.text matches "(?=a)b"
    then: block
""",
    "loop-a.yaml": "name: loop-a\nextends: loop-b\n",
    "loop-b.yaml": "name: loop-b\nextends: loop-a\n",
}


def lint(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([MODERATION, "policy", "lint", str(folder)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})


@pytest.fixture(scope="module")
def broken_report(tmp_path_factory) -> tuple[int, str, Path]:
    folder = tmp_path_factory.mktemp("broken")
    for name, text in BROKEN.items():
        (folder / name).write_text(text)
    result = lint(folder)
    return result.returncode, result.stderr, folder


@pytest.mark.parametrize(("file", "line", "column", "fragment"), [
    ("default.yaml", 2, 1, "unknown key 'colour'"),
    ("default.yaml", 6, 11, "unknown signal 'nudity'"),
    ("default.yaml", 9, 11, "nsfw has no field 'prob'"),
    ("default.yaml", 12, 11, "type mismatch"),
    ("default.yaml", 15, 11, "undefined threshold 'nsfw_blok'"),
    ("default.yaml", 17, 9, "duplicate rule id 'unknown-signal'"),
    ("default.yaml", 21, 11, "regex"),
    ("default.yaml", 24, 11, "RE2 (linear-time matching) cannot compile it"),
    ("loop-a.yaml", 2, 10, "extends cycle"),
])
def test_each_problem_is_reported_where_it_is(broken_report, file, line, column, fragment):
    returncode, stderr, folder = broken_report
    assert returncode == 1
    expected_prefix = f"{folder / file}:{line}:{column}: error:"
    matching = [entry for entry in stderr.splitlines() if entry.startswith(expected_prefix)]
    assert any(fragment in entry for entry in matching), stderr


def test_an_unreachable_rule_is_a_warning_not_an_error(tmp_path):
    (tmp_path / "default.yaml").write_text("""\
name: default
rules:
  - id: impossible
    when: {all: ["nsfw.probability > 0.9", "nsfw.probability < 0.2"]}
    then: block
  - id: first
    when: nsfw.probability > 0.5
    then: review
  - id: copy-of-first
    when: nsfw.probability > 0.5
    then: review
""")
    result = lint(tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{tmp_path / 'default.yaml'}:4:11: warning: rule 'impossible' can never fire" in result.stderr
    assert "rule 'copy-of-first' has the same condition and action as 'first'" in result.stderr


def test_the_shipped_policies_lint_clean():
    result = lint(Path(__file__).resolve().parent.parent / "policies")
    assert result.returncode == 0, result.stderr
    assert "default ok" in result.stdout and "avatar ok" in result.stdout


def test_problems_after_a_bad_rule_still_point_at_the_right_line(tmp_path):
    (tmp_path / "default.yaml").write_text("""\
name: default
rules:
  - id: bad-action
    when: nsfw.probability > 0.5
    then: banish
  - id: later
    when: nsfw.missing_field > 0.5
    then: block
""")
    result = lint(tmp_path)
    assert result.returncode == 1
    assert f"{tmp_path / 'default.yaml'}:5:11: error: rules.0.then" in result.stderr
    assert f"{tmp_path / 'default.yaml'}:7:11: error: rule 'later': nsfw has no field 'missing_field'" in result.stderr
