"""Policy test cases written in YAML beside the policies (``policies/tests/*.yaml``).

    policy: default            # or `surface: avatar`
    cases:
      - name: an explicit image is blocked
        signals: {nsfw: {probability: 0.97}}
        failed: []             # optional: classifiers that failed
        prompt: "..."          # optional: fills the `prompt` signal
        expect:
          decision: block
          rules: [nsfw-explicit, nsfw-borderline]   # exactly these fired, in this order
          # or rules_include: [...] to name only some

A case may give `input: {prompt: ..., image: path}` instead of `signals`; the
real classifiers then produce the signals.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from moderation_service.policy.engine import evaluate
from moderation_service.policy.policy_set import PolicySet
from moderation_service.policy.problems import Problem
from moderation_service.policy.spec import Action
from moderation_service.policy.yaml_source import YamlSourceError, load_source

Classify = Callable[[str | None, bytes | None], tuple[dict[str, Any], dict[str, str]]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Expectation(_Strict):
    decision: Action
    rules: list[str] | None = None
    rules_include: list[str] | None = None
    review_queue: str | None = None
    reportable: bool | None = None


class CaseInput(_Strict):
    prompt: str | None = None
    image: str | None = None


class Case(_Strict):
    name: str
    signals: dict[str, Any] | None = None
    failed: list[str] = Field(default_factory=list)
    prompt: str | None = None
    input: CaseInput | None = None
    expect: Expectation

    @model_validator(mode="after")
    def _one_source(self) -> "Case":
        if (self.signals is None) == (self.input is None):
            raise ValueError("give either `signals` or `input`")
        return self


class Suite(_Strict):
    policy: str | None = None
    surface: str | None = None
    cases: list[Case] = Field(min_length=1)


@dataclass
class CaseResult:
    file: str
    line: int
    name: str
    passed: bool
    diff: list[str] = field(default_factory=list)


def load_suites(folder: Path) -> tuple[list[tuple[str, Suite, Any]], list[Problem]]:
    suites, problems = [], []
    for file in sorted(Path(folder).glob("*.y*ml")):
        try:
            document = load_source(file.read_bytes(), str(file))
            suites.append((str(file), Suite.model_validate(document.data), document))
        except YamlSourceError as exc:
            problems.append(Problem.at(str(file), exc.position, exc.message))
        except ValidationError as exc:
            for error in exc.errors():
                where = document.position(tuple(error["loc"]))
                location = ".".join(map(str, error["loc"]))
                problems.append(Problem.at(str(file), where, f"{location}: {error['msg']}"))
    return suites, problems


def run_suites(policy_set: PolicySet, folder: Path, classify: Classify | None = None) -> tuple[list[CaseResult], list[Problem]]:
    suites, problems = load_suites(folder)
    results = []
    for file, suite, document in suites:
        if suite.policy is not None and suite.policy not in policy_set.policies:
            problems.append(Problem.at(file, document.position(("policy",)), f"no policy named {suite.policy!r}"))
            continue
        policy = policy_set.policies[suite.policy] if suite.policy else policy_set.for_surface(suite.surface or "")
        for index, case in enumerate(suite.cases):
            line = document.position(("cases", index)).line
            signals, failed = _signals_for(case, Path(file).parent, classify)
            decision = evaluate(policy, signals, failed)
            results.append(CaseResult(file, line, case.name, *_compare(case.expect, decision)))
    return results, problems


def _signals_for(case: Case, base: Path, classify: Classify | None) -> tuple[Mapping[str, Any], dict[str, str]]:
    if case.signals is not None:
        signals = dict(case.signals)
        if case.prompt is not None:
            from classifiers.text_normalization import normalize_for_classification

            signals["prompt"] = {"text": normalize_for_classification(case.prompt), "length": len(case.prompt)}
        return signals, {name: "failed in test" for name in case.failed}
    if classify is None:
        raise RuntimeError("this case needs the real classifiers (it has `input`), but none were loaded")
    image = (base / case.input.image).read_bytes() if case.input.image else None
    return classify(case.input.prompt, image)


def _compare(expect: Expectation, decision) -> tuple[bool, list[str]]:
    fired = [reason.rule_id for reason in decision.reasons]
    diff = []
    if decision.action != expect.decision:
        diff.append(f"decision: expected {expect.decision}, got {decision.action}")
    if expect.rules is not None and fired != expect.rules:
        diff.append(f"rules fired: expected {expect.rules}, got {fired}")
    if expect.rules_include is not None and (missing := [r for r in expect.rules_include if r not in fired]):
        diff.append(f"rules fired: expected to include {missing}, got {fired}")
    if expect.review_queue is not None and decision.review_queue != expect.review_queue:
        diff.append(f"review queue: expected {expect.review_queue}, got {decision.review_queue}")
    if expect.reportable is not None and decision.reportable != expect.reportable:
        diff.append(f"reportable: expected {expect.reportable}, got {decision.reportable}")
    if diff:
        diff.extend(f"  {reason.rule_id} ({reason.action}) on {reason.values}" for reason in decision.reasons)
    return not diff, diff


def format_results(results: list[CaseResult], problems: list[Problem]) -> str:
    lines = [str(problem) for problem in problems]
    for result in results:
        if not result.passed:
            lines.append(f"FAIL {result.file}:{result.line}: {result.name}")
            lines.extend(f"    {line}" for line in result.diff)
    passed = sum(result.passed for result in results)
    lines.append(f"{passed} passed, {len(results) - passed} failed")
    return "\n".join(lines)


def uncovered_rules(policy_set: PolicySet, folder: Path) -> dict[str, list[str]]:
    """Per tested policy, the rules no case fires (signal cases only; no models needed)."""
    suites, _ = load_suites(folder)
    fired: dict[str, set[str]] = {}
    for _file, suite, _document in suites:
        policy = policy_set.policies.get(suite.policy) if suite.policy else policy_set.for_surface(suite.surface or "")
        if policy is None:
            continue
        seen = fired.setdefault(policy.name, set())
        for case in suite.cases:
            if case.signals is not None:
                signals, failed = _signals_for(case, Path(folder), None)
                seen.update(reason.rule_id for reason in evaluate(policy, signals, failed).reasons)
    # Only the rules a policy writes itself: inherited ones are covered by their own policy's cases.
    return {name: missing for name, seen in fired.items()
            if (missing := [rule.spec.id for rule in policy_set.policies[name].rules
                            if rule.spec.id not in seen and rule.origin.document.name == policy_set.policies[name].file])}
