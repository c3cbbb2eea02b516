"""Policy paths name the moderation taxonomy's categories as they are, `/` and `-` included."""
from __future__ import annotations

import pytest

from classifiers.registry import load_config
from moderation_service.policy import evaluate
from moderation_service.policy.conditions import ConditionError
from moderation_service.policy.policy_set import compile_single_policy
from moderation_service.policy.schema import signal_schemas

SCHEMAS = signal_schemas(load_config())
POLICY = """
name: taxonomy
thresholds: {intent: 0.5, threat: 0.8}
rules:
  - {id: intent, when: "toxicity.scores.self-harm/intent >= thresholds.intent", then: review}
  - {id: threat, when: {any: ["toxicity.scores.hate/threatening >= thresholds.threat",
                              "toxicity.scores.harassment/threatening >= thresholds.threat"]}, then: block}
  - {id: minors, when: "toxicity.scores.sexual/minors > 0.3", then: block}
"""


@pytest.fixture(scope="module")
def policy():
    return compile_single_policy(POLICY, SCHEMAS)


@pytest.mark.parametrize("scores, action, rules", [
    ({"self-harm/intent": 0.7}, "review", ["intent"]),
    ({"self-harm/intent": 0.2, "self-harm": 0.9}, "allow", []),
    ({"harassment/threatening": 0.85}, "block", ["threat"]),
    ({"hate/threatening": 0.9, "self-harm/intent": 0.6}, "block", ["intent", "threat"]),
    ({"sexual/minors": 0.31, "sexual": 0.0}, "block", ["minors"]),
    ({"sexual": 0.99}, "allow", []),
])
def test_slash_and_hyphen_category_paths_read_the_right_score(policy, scores, action, rules):
    decision = evaluate(policy, {"toxicity": {"scores": scores}})
    assert decision.action == action
    assert sorted(reason.rule_id for reason in decision.reasons) == sorted(rules)


def test_a_reason_names_the_path_as_written(policy):
    decision = evaluate(policy, {"toxicity": {"scores": {"self-harm/intent": 0.75}}})
    assert decision.reasons[0].values["toxicity.scores.self-harm/intent"] == 0.75


@pytest.mark.parametrize("condition", ["toxicity.scores.self harm >= 0.5", "toxicity.scores./x >= 0.5"])
def test_malformed_paths_are_still_refused(condition):
    with pytest.raises((ConditionError, ValueError, Exception)):
        compile_single_policy(f"name: bad\nrules:\n  - {{id: a, when: \"{condition}\", then: block}}\n", SCHEMAS)
