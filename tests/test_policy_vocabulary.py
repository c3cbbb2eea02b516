"""Lint knows what the configured classifiers can say: a rule that can never fire,
or that always fires, is an error, and one run reports every problem."""
from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest

from classifiers.base import Classifier, Modality, Signal
from classifiers.registry import load_config
from moderation_service.policy import PolicyError
from moderation_service.policy.policy_set import compile_single_policy
from moderation_service.policy.schema import signal_schemas

MODERATION = str(Path(sys.executable).with_name("moderation"))

# (condition, fragment of the error). The first three are the issue's own.
NEVER_OR_ALWAYS = [
    ("toxicity.scores.hatred >= 0.5", "toxicity.scores has no key 'hatred'"),
    ("pii.entities.type in [EMAIL, PHONE]", "pii.entities.type is never EMAIL, PHONE"),
    ("nsfw.probability >= 1.5", "nsfw.probability >= 1.5 never holds: nsfw.probability is between 0 and 1"),
    ("nsfw.probability >= thresholds.too_high", "thresholds.too_high (1.5) never holds"),
    ("nsfw.probability < 0", "never holds"),
    ("nsfw.probability <= 1", "always holds"),
    ("toxicity.scores.toxic >= 0", "always holds"),
    ("1.2 > toxicity.scores.hate", "toxicity.scores.hate < 1.2 always holds"),
    ("nsfw.probability != 7", "always holds"),
    ("count(pii.entities) >= 0", "always holds"),
    ("count(pii.entities) < 0", "never holds"),
    ("pii.entities.score > 1", "never holds"),
    ("pii.entities.type == EMAIL", "never holds"),
    ("pii.entities.type not in [PHONE]", "always true"),
    ("pii.entities.type in [EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, IBAN_CODE, PERSON, LOCATION, IP_ADDRESS, "
     "US_SSN, URL]", "always holds"),
    ("pdq.quality > 100", "never holds"),
    ("prompt.length < 0", "never holds"),
    ("banks.matches.signal_type == md5", "never holds"),
    ("banks.matches.purpose == deny", "never holds"),
    ("banks.matches.distance > 256", "never holds"),
    ("image_hash.near_duplicates.distance <= 256", "always holds"),
    ("image_hash.near_duplicates.signal_type == dhash", "never holds"),
    ("image_hash.near_duplicates.decision == blocked", "never holds"),
]

CORRECT = [
    "toxicity.scores.hate >= 0.5",
    "pii.entities.type in [EMAIL_ADDRESS, PHONE_NUMBER]",
    "nsfw.probability >= 1",  # a probability may be exactly 1
    "nsfw.probability > 0",
    "0.2 > nsfw.probability",
    "count(pii.entities) >= 1",
    "pii.entities.type == URL",
    "pii.entities.type not in [PERSON]",
    "pdq.quality >= 50",
    "banks.matches.signal_type == pdq",
    "banks.matches.distance <= 31",
    "image_hash.near_duplicates.distance <= 63",
    "image_hash.near_duplicates.decision == block",
    "toxicity.scores.self-harm >= thresholds.fine",
]


def _policy(conditions: list[str], thresholds: str = "{too_high: 1.5, fine: 0.7}") -> str:
    rules = "".join(f"  - id: r{index}\n    when: \"{condition}\"\n    then: block\n"
                    for index, condition in enumerate(conditions))
    return f"name: default\nthresholds: {thresholds}\nrules:\n{rules}"


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", **extra}


def lint(path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([MODERATION, "policy", "lint", str(path)], capture_output=True, text=True, timeout=180,
                          env=_env(**env))


@pytest.fixture(scope="module")
def never_report(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    file = tmp_path_factory.mktemp("never") / "default.yaml"
    file.write_text(_policy([condition for condition, _ in NEVER_OR_ALWAYS]))
    return lint(file), file


@pytest.mark.parametrize(("index", "fragment"), [(i, fragment) for i, (_, fragment) in enumerate(NEVER_OR_ALWAYS)],
                         ids=[condition for condition, _ in NEVER_OR_ALWAYS])
def test_a_comparison_that_never_or_always_holds_is_an_error_where_it_is(never_report, index, fragment):
    result, file = never_report
    assert result.returncode == 1
    line = 5 + 3 * index  # each rule takes three lines after the two header lines
    prefix = f"{file}:{line}:11: error: rule 'r{index}': "
    assert any(entry.startswith(prefix) and fragment in entry for entry in result.stderr.splitlines()), result.stderr


def test_correct_rules_lint_clean_with_no_warning(tmp_path):
    file = tmp_path / "default.yaml"
    file.write_text(_policy(CORRECT))
    result = lint(file)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "default ok (14 rules" in result.stdout


SCHEMAS = signal_schemas(load_config())


def test_redact_names_only_entity_types_pii_reports():
    text = ("name: default\nrules:\n  - id: mail\n    when: count(pii.entities) >= 1\n"
            "    then: {action: redact, entities: [EMAIL_ADDRESS, EMAIL]}\n")
    with pytest.raises(PolicyError) as raised:
        compile_single_policy(text, SCHEMAS)
    [problem] = raised.value.problems
    assert (problem.line, problem.column) == (5, 54)
    assert "redact names 'EMAIL', which pii never reports" in problem.message


def test_the_entity_vocabulary_is_the_configured_one():
    config = copy.deepcopy(load_config())
    config["pii"]["entities"] = ["EMAIL_ADDRESS"]
    schemas = signal_schemas(config)
    rule = "name: default\nrules:\n  - {id: phone, when: 'pii.entities.type == PHONE_NUMBER', then: block}\n"
    compile_single_policy(rule, SCHEMAS)  # configured by default
    with pytest.raises(PolicyError, match="pii.entities.type is never 'PHONE_NUMBER'; its values are: EMAIL_ADDRESS"):
        compile_single_policy(rule, schemas)


class _RenamedSignal(Signal):
    scores: dict[str, float]


class RenamingClassifier(Classifier[str, _RenamedSignal]):
    """A fake around nothing: only its hooks are read, it never classifies."""

    name = "renaming"
    modality = Modality.TEXT

    @classmethod
    def field_vocabulary(cls, options):
        return {"scores": tuple(options["categories"])}

    @classmethod
    def renamed_fields(cls):
        return {"scores.identity_hate": "hate"}

    def classify_batch(self, inputs):
        raise NotImplementedError


def test_a_renamed_category_says_its_new_name():
    schemas = signal_schemas({"renaming": {"class": f"{__name__}.RenamingClassifier", "categories": ["hate"]}})
    compile_single_policy("name: default\nrules:\n  - {id: ok, when: 'renaming.scores.hate > 0.5', then: block}\n",
                          schemas)
    with pytest.raises(PolicyError, match=r"renaming.scores has no key 'identity_hate' \(renamed to 'hate'\)"):
        compile_single_policy(
            "name: default\nrules:\n  - {id: old, when: 'renaming.scores.identity_hate > 0.5', then: block}\n",
            schemas)


def test_a_schema_error_hides_nothing_else(tmp_path):
    (tmp_path / "default.yaml").write_text("""\
name: default
default_action: ban
thresholds: {a: 0.5}
rules:
  - id: one
    when: nsfw.probability >= thresholds.b
    then: ban
  - id: one
    when: nsfw.probability >= thresholds.c
    then: block
  - id: two
    when: toxicity.scores.hatred >= 0.5
    then: {action: review, queue: text, colour: red}
""")
    result = lint(tmp_path)
    assert result.returncode == 1
    expected = [
        "2:17: error: default_action",
        "6:11: error: rule 'one': undefined threshold 'b'",
        "7:11: error: rules.0.then.action",
        "8:9: error: duplicate rule id 'one'",
        "9:11: error: rule 'one': undefined threshold 'c'",
        "12:11: error: rule 'two': toxicity.scores has no key 'hatred'",
        "13:41: error: unknown key 'colour' in rules.2.then",
    ]
    for fragment in expected:
        assert f"{tmp_path / 'default.yaml'}:{fragment}" in result.stderr, result.stderr


def _bank_database(folder: Path, names: list[str]) -> str:
    from sqlalchemy import create_engine, text

    from moderation_service.db.engine import upgrade_to_head

    url = f"sqlite:///{folder / 'moderation.db'}"
    upgrade_to_head(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        for name in names:
            connection.execute(text("INSERT INTO hash_banks (name, purpose, thresholds, description, created_at) "
                                    "VALUES (:name, 'block', '{}', '', CURRENT_TIMESTAMP)"), {"name": name})
    engine.dispose()
    return url


BANK_RULES = """\
name: default
rules:
  - id: known
    when: banks.matches.bank == csam-known
    then: block
  - id: typo
    when: banks.matches.bank == csam-knwon
    then: block
"""


def test_bank_names_come_from_the_database(tmp_path):
    url = _bank_database(tmp_path, ["csam-known", "reviewer-rejected"])
    (tmp_path / "default.yaml").write_text(BANK_RULES)
    result = lint(tmp_path / "default.yaml", MODERATION_DATABASE_URL=url)
    assert result.returncode == 1
    assert result.stderr.count("error") == 1, result.stderr
    assert (f"{tmp_path / 'default.yaml'}:7:11: error: rule 'typo': banks.matches.bank == csam-knwon never holds"
            in result.stderr)
    (tmp_path / "default.yaml").write_text(BANK_RULES.replace("knwon", "known"))
    assert lint(tmp_path / "default.yaml", MODERATION_DATABASE_URL=url).returncode == 0


def test_bank_names_unchecked_without_a_database_is_a_warning(tmp_path):
    (tmp_path / "default.yaml").write_text(BANK_RULES)
    missing = tmp_path / "nowhere" / "moderation.db"
    result = lint(tmp_path / "default.yaml", MODERATION_DATABASE_URL=f"sqlite:///{missing}")
    assert result.returncode == 0, result.stderr
    assert "warning: bank names not checked: cannot read the banks (no database file" in result.stderr
    assert not missing.parent.exists()  # lint only reads


def test_an_undeclared_review_queue_is_a_warning(tmp_path):
    (tmp_path / "default.yaml").write_text(
        "name: default\nrules:\n  - id: typo\n    when: nsfw.probability > 0.5\n"
        "    then: {action: review, queue: txt}\n")
    result = lint(tmp_path)
    assert result.returncode == 0
    assert f"{tmp_path / 'default.yaml'}:5:35: warning: review queue 'txt' is not declared" in result.stderr
    declared = lint(tmp_path, MODERATION_REVIEW_QUEUE_PRIORITIES='{"txt": 3}')
    assert declared.returncode == 0 and declared.stderr == ""


def test_then_priority_is_now_queue_priority_and_the_old_spelling_warns():
    from moderation_service.policy import build_policy_set, evaluate

    old = ("name: default\nrules:\n  - id: q\n    when: nsfw.probability > 0.5\n"
           "    then: {action: review, queue: nsfw, priority: 2}\n")
    policy_set, problems = build_policy_set([("p.yaml", old.encode())], SCHEMAS, serve_all_surfaces=True)
    [warning] = problems
    assert (warning.severity, warning.line, warning.column) == ("warning", 5, 41)
    assert "rules.0.then.priority is deprecated: write queue_priority" in warning.message
    decision = evaluate(policy_set.policies["default"], {"nsfw": {"probability": 0.9}})
    assert (decision.review_queue, decision.review_priority) == ("nsfw", 2)
    new = compile_single_policy(old.replace("priority: 2", "queue_priority: 2"), SCHEMAS)
    assert evaluate(new, {"nsfw": {"probability": 0.9}}).review_priority == 2
    with pytest.raises(PolicyError, match="give queue_priority only"):
        compile_single_policy(old.replace("priority: 2", "priority: 2, queue_priority: 3"), SCHEMAS)


def test_lint_says_which_review_rule_wins(tmp_path):
    (tmp_path / "default.yaml").write_text("""\
name: default
rules:
  - id: text-review
    when: toxicity.scores.toxic > 0.5
    then: {action: review, queue: text, queue_priority: 1}
  - id: urgent-images
    when: nsfw.probability > 0.5
    then: {action: review, queue: nsfw, queue_priority: 9}
  - id: first-of-all
    priority: 5
    when: toxicity.scores.hate > 0.5
    then: {action: review, queue: text}
""")
    result = lint(tmp_path)
    assert result.returncode == 0, result.stderr
    assert ("the first of these wins (rule `priority`, then file order) and its queue and queue_priority are the "
            "item's: first-of-all (priority 5; queue text, queue_priority 0) > text-review (priority 0; queue text, "
            "queue_priority 1) > urgent-images (priority 0; queue nsfw, queue_priority 9)") in result.stdout
