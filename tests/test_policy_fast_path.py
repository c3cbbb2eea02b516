"""The generated fast path agrees with the reference closures on every input."""
from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given, settings, strategies as st

from classifiers.registry import load_config
from classifiers.text_categories import CATEGORIES
from moderation_service.policy.conditions import CACHE_KEY, FAILED_KEY
from moderation_service.policy.policy_set import compile_single_policy
from moderation_service.policy.schema import signal_schemas

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from policy_eval import generated_policy  # noqa: E402

SCHEMAS = signal_schemas(load_config())
POLICIES = [compile_single_policy(generated_policy(60, seed), SCHEMAS) for seed in (1, 2, 3)]
POLICIES.append(compile_single_policy(Path("policies/default.yaml").read_text(), SCHEMAS))
POLICIES.append(compile_single_policy("""
name: edge
thresholds: {t: 0.5}
rules:
  - {id: a, when: "pii.entities.type not in [PERSON]", then: review}
  - {id: b, when: {not: "nsfw.probability < thresholds.t"}, then: block}
  - {id: c, when: "count(pii.entities) == 0", then: allow}
  - {id: d, when: "image_hash.near_duplicates.decision == block", then: block}
  - {id: e, when: "prompt.text contains_any [kill, 'hate speech']", then: block}
  - {id: f, when: "missing(nsfw)", then: review}
  - {id: g, when: "toxicity.scores.hate != 0.5", then: review}
  - {id: h, when: "toxicity.scores.self-harm/intent >= thresholds.t", then: review}
  - {id: i, when: {any: ["toxicity.scores.hate/threatening > 0.9", "count(toxicity.scores.sexual/minors) == 1"]}, then: block}
""", SCHEMAS))

anything = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False), st.integers(-3, 3),
                     st.sampled_from(["PERSON", "US_SSN", "block", "kill", "a kill b", "Hate speech now", ""]),
                     st.lists(st.integers(), max_size=2))
score = st.one_of(st.floats(0, 1), anything)
entity = st.fixed_dictionaries({"type": st.one_of(st.sampled_from(["PERSON", "US_SSN", "EMAIL_ADDRESS"]), anything)})
signals = st.fixed_dictionaries({}, optional={
    "toxicity": st.fixed_dictionaries({"scores": st.dictionaries(
        st.sampled_from(list(CATEGORIES) + ["self_harm"]), score)}),
    "nsfw": st.one_of(st.fixed_dictionaries({"probability": score}), st.just({})),
    "pii": st.fixed_dictionaries({"entities": st.one_of(st.lists(entity, max_size=4), anything)}),
    "image_hash": st.fixed_dictionaries({"near_duplicates": st.lists(
        st.fixed_dictionaries({"decision": st.sampled_from(["block", "allow"]), "distance": st.integers(0, 9)}),
        max_size=3)}),
    "prompt": st.fixed_dictionaries({"text": st.one_of(st.text(max_size=30), anything), "length": st.integers(0, 99)}),
})


@settings(max_examples=400, deadline=None)
@given(signals, st.sampled_from(range(len(POLICIES))))
def test_fast_path_fires_exactly_the_rules_the_closures_fire(facts, policy_index):
    policy = POLICIES[policy_index]
    reference = {}
    for index, rule in enumerate(policy.rules):
        observed: dict = {}
        if rule.matches({**facts, FAILED_KEY: frozenset(), CACHE_KEY: {}}, observed):
            reference[index] = observed
    fast = policy.fires({**facts, FAILED_KEY: frozenset(), CACHE_KEY: {}})
    assert [index for index, _values in fast] == list(reference)
    for index, values in fast:
        assert values is None or values == reference[index]
