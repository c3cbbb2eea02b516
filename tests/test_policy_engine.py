"""The policy engine is a pure function; these tests feed it plain signals."""
from __future__ import annotations

import pytest

from classifiers.registry import load_config
from moderation_service.policy import PolicyError, evaluate
from moderation_service.policy.policy_set import compile_single_policy
from moderation_service.policy.schema import signal_schemas

SCHEMAS = signal_schemas(load_config())
DEFAULT_POLICY_PATH = "policies/default.yaml"


def policy(text: str):
    return compile_single_policy(text, SCHEMAS)


BENIGN = {
    "toxicity": {"scores": {"toxic": 0.02, "hate": 0.01, "sexual": 0.01, "violence": 0.0, "self_harm": 0.0}},
    "pii": {"entities": [], "redacted_text": "a cat"},
    "nsfw": {"probability": 0.01},
    "image_hash": {"phash": "0" * 16, "dhash": "0" * 16, "near_duplicates": []},
}


def with_changes(**changes):
    signals = {name: dict(fields) for name, fields in BENIGN.items()}
    for name, fields in changes.items():
        signals[name] = {**signals[name], **fields}
    return signals


def test_default_policy_allows_benign_content(default_policy):
    decision = evaluate(default_policy, BENIGN)
    assert decision.action == "allow"
    assert decision.reasons == []


def test_default_policy_blocks_an_explicit_image_and_reports_values(default_policy):
    decision = evaluate(default_policy, with_changes(nsfw={"probability": 0.97}))
    assert decision.action == "block"
    fired = {reason.rule_id: reason for reason in decision.reasons}
    # Both the block rule and the weaker review rule fired; both are reported.
    assert set(fired) == {"nsfw-explicit", "nsfw-borderline"}
    assert fired["nsfw-explicit"].values == {"nsfw.probability": 0.97, "thresholds.nsfw_block": 0.85}


def test_default_policy_reviews_borderline_text_in_its_queue(default_policy):
    decision = evaluate(default_policy, with_changes(toxicity={"scores": {"toxic": 0.8, "hate": 0.1}}))
    assert decision.action == "review"
    assert decision.review_queue == "text"
    assert [r.rule_id for r in decision.reasons] == ["toxicity-borderline"]


def test_default_policy_redacts_personal_data(default_policy):
    entities = [{"type": "EMAIL_ADDRESS", "start": 0, "end": 5, "score": 1.0}]
    decision = evaluate(default_policy, with_changes(pii={"entities": entities}))
    assert decision.action == "redact"
    assert "EMAIL_ADDRESS" in decision.redact_entities


def test_default_policy_blocks_near_duplicate_of_item_blocked_for_its_image(default_policy):
    duplicates = [{"item_id": "x", "distance": 2, "decision": "block", "image_decision": "block"}]
    decision = evaluate(default_policy, with_changes(image_hash={"near_duplicates": duplicates}))
    assert decision.action == "block"
    assert decision.reasons[0].rule_id == "near-duplicate-of-blocked"


def test_default_policy_ignores_a_block_its_image_did_not_cause(default_policy):
    duplicates = [{"item_id": "x", "distance": 0, "decision": "block", "image_decision": "allow"},
                  {"item_id": "y", "distance": 1, "decision": "review", "image_decision": "review"}]
    decision = evaluate(default_policy, with_changes(image_hash={"near_duplicates": duplicates}))
    assert decision.action == "allow"


def test_most_severe_action_wins_whatever_the_rule_order():
    compiled = policy("""
name: order
rules:
  - {id: redact-first, when: "pii.entities.type in [EMAIL_ADDRESS]", then: {action: redact, entities: [EMAIL_ADDRESS]}}
  - {id: review-second, when: "nsfw.probability >= 0.5", then: {action: review, queue: q1, priority: 3}}
  - {id: review-third, when: "nsfw.probability >= 0.6", then: {action: review, queue: q2, priority: 9}}
""")
    signals = {"pii": {"entities": [{"type": "EMAIL_ADDRESS"}]}, "nsfw": {"probability": 0.7}}
    decision = evaluate(compiled, signals)
    assert decision.action == "review"
    assert decision.review_queue == "q1"  # ties go by rule order
    assert [r.rule_id for r in decision.reasons] == ["redact-first", "review-second", "review-third"]


def test_a_missing_signal_never_fires_a_rule():
    compiled = policy("""
name: missing
rules:
  - {id: nsfw, when: "nsfw.probability >= 0.05", then: block}
  - {id: not-nsfw, when: {not: "nsfw.probability >= 0.5"}, then: review}
""")
    assert evaluate(compiled, {"toxicity": {"scores": {}}}).action == "review"
    assert evaluate(compiled, {"nsfw": {"probability": 0.1}}).action == "block"


def test_a_failed_classifier_applies_on_error_and_says_so():
    compiled = policy("""
name: errors
on_error: {action: block}
rules:
  - {id: high, when: "nsfw.probability > 0.9", then: review}
""")
    decision = evaluate(compiled, {}, failed={"nsfw": "TimeoutError"})
    assert decision.action == "block"
    assert decision.reasons[0].rule_id == "classifier-error.nsfw"
    assert decision.reasons[0].values == {"nsfw.error": "TimeoutError"}


def test_count_and_all_conditions():
    compiled = policy("""
name: counts
thresholds: {many: 2}
rules:
  - id: lots-of-pii
    when: {all: ["count(pii.entities) > thresholds.many", "toxicity.scores.toxic < 0.5"]}
    then: review
""")
    two = {"pii": {"entities": [{"type": "A"}, {"type": "B"}]}, "toxicity": {"scores": {"toxic": 0.1}}}
    three = {"pii": {"entities": [{"type": "A"}] * 3}, "toxicity": {"scores": {"toxic": 0.1}}}
    assert evaluate(compiled, two).action == "allow"
    decision = evaluate(compiled, three)
    assert decision.action == "review"
    assert decision.reasons[0].values["count(pii.entities)"] == 3


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("name: x\nrules: [{id: a, when: 'nsfw.probability > 1', then: block, colour: red}]", "colour"),
        ("name: x\nrules: [{id: a, when: 'nsfw.probability > thresholds.nope', then: block}]", "undefined threshold"),
        ("name: x\nrules: [{id: a, when: 'nudity.score > 1', then: block}]", "unknown signal"),
        ("name: x\nrules: [{id: a, when: 'nsfw.prob > 1', then: block}]", "no field 'prob'"),
        ("name: x\nrules: [{id: a, when: 'nsfw.probability == explicit', then: block}]", "type mismatch"),
        ("name: x\nrules: [{id: a, when: 'prompt.text matches \"(?<=a)b\"', then: block}]", "RE2"),
        ("name: x\nrules: [{id: a, when: 'prompt.text matches \"([a-z\"', then: block}]", "regex"),
        ("name: x\nrules: [{id: a, when: 'nsfw.probability > 1', then: block}, "
         "{id: a, when: 'nsfw.probability > 1', then: block}]", "duplicate rule id"),
        ("name: x\nrules: [{id: a, when: 'nsfw.probability > 1', then: banish}]", "then"),
        ("name: [unclosed", "invalid YAML"),
        ("name: x\nrules: [{id: a, when: 'nsfw.probability is big', then: block}]", "cannot parse"),
    ],
)
def test_invalid_policies_are_refused_with_a_reason(document, message):
    with pytest.raises(PolicyError, match=message):
        policy(document)


def test_policy_hash_is_of_the_file_bytes(default_policy):
    import hashlib
    from pathlib import Path

    own = hashlib.sha256(Path(DEFAULT_POLICY_PATH).read_bytes()).digest()
    assert default_policy.sha256 == hashlib.sha256(own).hexdigest()
