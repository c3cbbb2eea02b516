"""Hostile policy files: the loader only ever raises PolicyError, and stays bounded."""
from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings, strategies as st

from classifiers.registry import load_config
from moderation_service.policy import build_policy_set
from moderation_service.policy.schema import signal_schemas

SCHEMAS = signal_schemas(load_config())
SEED_POLICY = open("policies/default.yaml").read()


def load(text: str) -> None:
    """Either a usable policy set, or problems that say why not; never an exception."""
    built, problems = build_policy_set([("fuzz.yaml", text.encode("utf-8", "surrogatepass"))], SCHEMAS,
                                       serve_all_surfaces=True)
    errors = [problem for problem in problems if problem.severity == "error"]
    assert (built is None) == bool(errors)
    assert all(problem.line >= 1 and problem.column >= 1 and problem.message for problem in problems)


yaml_fragments = st.sampled_from([
    "name: x\n", "rules:\n", "  - id: a\n", "    when: ", "nsfw.probability", " >= ", "thresholds.t", "0.5",
    "\n", "    then: block\n", "{all: [", "]}", "&a [1, 2]", "*a", "!!python/object:os.system ['x']\n",
    "thresholds: {t: 0.5}\n", "extends: x\n", ": : :", "- - -", "'", '"', "\t", "{", "[", "~", "null",
    "matches \"(a+)+\"", "count(pii.entities)", "not:", "any:", "<<: *a\n", "? complex\n", "%YAML 1.1\n---\n",
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(yaml_fragments, max_size=40).map("".join))
def test_fragment_soup_never_escapes_as_anything_but_a_policy_error(text):
    load(text)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_default_policy_never_escapes(data):
    text = SEED_POLICY
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["delete", "insert", "replace"]))
        piece = data.draw(st.text(alphabet=string.printable + "\u00e9\u200b", max_size=8))
        if action == "delete":
            text = text[:position] + text[position + len(piece):]
        elif action == "insert":
            text = text[:position] + piece + text[position:]
        else:
            text = text[:position] + piece + text[position + len(piece):]
    load(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_escapes(text):
    load(text)


def test_alias_bomb_and_oversized_files_are_refused_quickly():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 10) + "]\n"
    for text, fragment in ((bomb, "nodes"), ("name: x\n" + "#" * 300_000, "bytes"),
                           ("!!python/object/apply:os.system ['true']", "invalid")):
        built, problems = build_policy_set([("hostile.yaml", text.encode())], SCHEMAS, serve_all_surfaces=True)
        assert built is None
        assert fragment in str(problems[0]), problems
