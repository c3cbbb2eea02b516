"""The policy language beyond the basics: extends, surfaces, text conditions,
presence, per-signal on_error, priorities, and the YAML test-case runner."""
from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.registry import load_config
from moderation_service.offline_classify import classify_offline
from moderation_service.images import ImageLimits
from moderation_service.policy import PolicyError, build_policy_set, evaluate, load_policy_set
from moderation_service.policy.policy_set import compile_single_policy
from moderation_service.policy.schema import signal_schemas
from moderation_service.policy.testing import format_results, run_suites, uncovered_rules

SCHEMAS = signal_schemas(load_config())
POLICIES = Path(__file__).resolve().parent.parent / "policies"


def policy_set_of(**files: str):
    built, problems = build_policy_set([(f"{name}.yaml", text.encode()) for name, text in files.items()],
                                       SCHEMAS, serve_all_surfaces=False)
    if built is None:
        raise PolicyError([p for p in problems if p.severity == "error"])
    return built


def test_surfaces_pick_their_policy_and_default_serves_the_rest():
    shipped = load_policy_set(POLICIES, SCHEMAS)
    assert shipped.for_surface("avatar").name == "avatar"
    assert shipped.for_surface("profile_banner").name == "avatar"
    assert shipped.for_surface("feed_post").name == "default"
    signals = {"nsfw": {"probability": 0.3}}
    assert evaluate(shipped.for_surface("feed_post"), signals).action == "allow"
    assert evaluate(shipped.for_surface("avatar"), signals).action == "review"


def test_extends_overrides_thresholds_and_rules_by_id_and_keeps_the_rest():
    built = policy_set_of(
        default="""
name: default
thresholds: {high: 0.9, low: 0.5}
on_error: {action: block}
rules:
  - {id: a, when: "nsfw.probability >= thresholds.high", then: block}
  - {id: b, when: "nsfw.probability >= thresholds.low", then: review}
""",
        strict="""
name: strict
extends: default
surfaces: [kids]
thresholds: {low: 0.2}
rules:
  - {id: b, when: "nsfw.probability >= thresholds.low", then: {action: review, queue: kids}}
  - {id: c, when: "count(pii.entities) > 0", then: block}
""")
    strict = built.for_surface("kids")
    assert [rule.spec.id for rule in strict.rules] == ["a", "b", "c"]
    assert strict.spec.thresholds == {"high": 0.9, "low": 0.2}
    assert strict.on_error_for("nsfw").action == "block"  # inherited
    decision = evaluate(strict, {"nsfw": {"probability": 0.3}})
    assert (decision.action, decision.review_queue) == ("review", "kids")
    assert strict.sha256 != built.policies["default"].sha256


def test_a_surface_served_twice_and_a_missing_default_are_errors():
    with pytest.raises(PolicyError, match="already served"):
        policy_set_of(default="name: default\nsurfaces: [x]\n", other="name: other\nsurfaces: [x]\n")
    with pytest.raises(PolicyError, match="no policy is named 'default'"):
        policy_set_of(other="name: other\n")
    with pytest.raises(PolicyError, match="shadow names unknown policy"):
        policy_set_of(default="name: default\nshadow: nope\n")


def test_text_conditions_see_the_normalised_prompt():
    policy = compile_single_policy("""
name: words
rules:
  - {id: banned-word, when: "prompt.text contains_any [kill, murder]", then: block}
  - {id: card-pattern, when: 'prompt.text matches "\\b\\d{4} \\d{4} \\d{4} \\d{4}\\b"', then: review}
  - {id: long, when: "prompt.length > 100", then: review}
""", SCHEMAS)

    def decide(prompt: str) -> list[str]:
        from moderation_service.service import prompt_facts
        return [reason.rule_id for reason in evaluate(policy, prompt_facts(prompt)).reasons]

    assert decide("I will k i l l you") == ["banned-word"]
    assert decide("MURDER\u200b scene") == ["banned-word"]
    assert decide("a skillful painter") == []  # whole words only
    assert decide("pay with 4111 1111 1111 1111") == ["card-pattern"]
    assert decide("x" * 101) == ["long"]


def test_missing_and_failed_signals_and_per_signal_on_error():
    policy = compile_single_policy("""
name: presence
on_error:
  default: {action: review, queue: errors}
  nsfw: block
rules:
  - {id: no-image, when: "missing(nsfw)", then: {action: review, queue: text-only}}
  - {id: pii-down, when: "failed(pii)", then: {action: review, queue: pii-down}}
""", SCHEMAS)
    text_only = evaluate(policy, {"toxicity": {"scores": {}}})
    assert [r.rule_id for r in text_only.reasons] == ["no-image"]
    nsfw_failed = evaluate(policy, {"toxicity": {"scores": {}}}, failed={"nsfw": "TimeoutError"})
    assert nsfw_failed.action == "block"  # per-signal on_error; and a failed signal is not "missing"
    assert [r.rule_id for r in nsfw_failed.reasons] == ["classifier-error.nsfw"]
    pii_failed = evaluate(policy, {"nsfw": {"probability": 0.1}}, failed={"pii": "RuntimeError"})
    assert pii_failed.review_queue == "errors"  # the failure outranks the rule of the same action
    assert [r.rule_id for r in pii_failed.reasons] == ["classifier-error.pii", "pii-down"]


def test_rule_priority_breaks_ties_before_file_order():
    policy = compile_single_policy("""
name: ties
rules:
  - {id: first, when: "nsfw.probability > 0.1", then: {action: review, queue: low}}
  - {id: urgent, priority: 10, when: "nsfw.probability > 0.1", then: {action: review, queue: urgent}}
""", SCHEMAS)
    assert evaluate(policy, {"nsfw": {"probability": 0.5}}).review_queue == "urgent"


def test_the_shipped_policy_suites_pass_and_cover_every_rule(real_classifiers):
    shipped = load_policy_set(POLICIES, SCHEMAS)

    def classify(prompt, image):
        return classify_offline(real_classifiers, prompt, image, ImageLimits())

    results, problems = run_suites(shipped, POLICIES / "tests", classify)
    assert problems == [] and results, format_results(results, problems)
    assert all(result.passed for result in results), format_results(results, problems)
    assert uncovered_rules(shipped, POLICIES / "tests") == {}


def test_a_failing_case_prints_a_clear_diff(tmp_path):
    (tmp_path / "wrong.yaml").write_text("""
policy: default
cases:
  - name: wrongly expects an explicit image to pass
    signals: {nsfw: {probability: 0.97}}
    expect: {decision: allow, rules: []}
""")
    results, problems = run_suites(load_policy_set(POLICIES, SCHEMAS), tmp_path)
    report = format_results(results, problems)
    assert not results[0].passed
    assert f"FAIL {tmp_path / 'wrong.yaml'}:4: wrongly expects an explicit image to pass" in report
    assert "decision: expected allow, got block" in report
    assert "rules fired: expected [], got ['nsfw-explicit', 'nsfw-borderline']" in report
    assert report.splitlines()[-1] == "0 passed, 1 failed"
