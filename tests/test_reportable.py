"""`reportable: true` on a rule's `then`: schema, engine, lint and the YAML case runner."""
from __future__ import annotations

import pytest

from classifiers.registry import load_config
from moderation_service.policy import build_policy_set, evaluate
from moderation_service.policy.schema import signal_schemas
from moderation_service.policy.testing import run_suites

SCHEMAS = signal_schemas(load_config())

POLICY = """\
name: default
rules:
  - id: report-me
    when: nsfw.probability >= 0.5
    then: {action: review, queue: urgent, reportable: true}
  - id: block-me
    when: nsfw.probability >= 0.9
    then: block
"""


def build(text: str):
    built, problems = build_policy_set([("default.yaml", text.encode())], SCHEMAS, serve_all_surfaces=True)
    return built, problems


def test_a_reportable_rule_marks_the_decision_even_when_another_rule_wins():
    built, problems = build(POLICY)
    assert problems == []
    policy = built.for_surface("default")
    decision = evaluate(policy, {"nsfw": {"probability": 0.95}})
    assert decision.action == "block"
    assert decision.reportable is True
    assert [(r.rule_id, r.reportable) for r in decision.reasons] == [("report-me", True), ("block-me", False)]
    assert decision.reasons[0].as_dict()["reportable"] is True


def test_no_reportable_rule_fired_means_not_reportable():
    built, _ = build(POLICY)
    policy = built.for_surface("default")
    assert evaluate(policy, {"nsfw": {"probability": 0.2}}).reportable is False
    assert evaluate(policy, {}).reportable is False


def test_a_misspelt_reportable_is_an_error():
    built, problems = build(POLICY.replace("reportable: true", "reportible: true"))
    assert built is None
    assert any("reportible" in problem.message and problem.severity == "error" for problem in problems)


@pytest.mark.parametrize("action", ["allow", "redact"])
def test_reportable_on_an_allow_or_redact_rule_is_a_lint_warning(action):
    built, problems = build(POLICY.replace("{action: review, queue: urgent, reportable: true}",
                                           f"{{action: {action}, reportable: true}}"))
    assert built is not None
    assert [p.severity for p in problems] == ["warning"]
    assert "'report-me' is reportable but its action is " + action in problems[0].message


def test_policy_test_cases_can_expect_reportable(tmp_path):
    built, _ = build(POLICY)
    (tmp_path / "cases.yaml").write_text("""\
policy: default
cases:
  - name: reported
    signals: {nsfw: {probability: 0.6}}
    expect: {decision: review, reportable: true}
  - name: wrongly expected
    signals: {nsfw: {probability: 0.1}}
    expect: {decision: allow, reportable: true}
""")
    results, problems = run_suites(built, tmp_path)
    assert problems == []
    assert [result.passed for result in results] == [True, False]
    assert "reportable: expected True, got False" in results[1].diff
