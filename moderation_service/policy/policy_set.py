"""Loads every policy in a folder (or one file), resolves ``extends`` and maps surfaces.

A request's ``surface`` picks the policy that lists it under ``surfaces``; the
policy named ``default`` serves every other surface. A single file given
instead of a folder serves every surface.
"""
from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from pydantic import ValidationError

from moderation_service.policy.compiler import CompiledPolicy, RuleOrigin, compile_rules
from moderation_service.policy.fast_path import compile_fast_path
from moderation_service.policy.problems import PolicyError, Problem
from moderation_service.policy.spec import PolicySpec, deprecated_action_keys
from moderation_service.policy.yaml_source import SourceDocument, YamlSourceError, load_source

DEFAULT_POLICY = "default"


@dataclass(frozen=True)
class PolicySet:
    policies: Mapping[str, CompiledPolicy]
    surfaces: Mapping[str, str]  # surface -> policy name
    default: str

    def for_surface(self, surface: str) -> CompiledPolicy:
        return self.policies[self.surfaces.get(surface, self.default)]

    def shadow_of(self, policy: CompiledPolicy) -> CompiledPolicy | None:
        return self.policies.get(policy.spec.shadow) if policy.spec.shadow else None

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256("".join(sorted(p.sha256 for p in self.policies.values())).encode()).hexdigest()


@dataclass
class _Parsed:
    document: SourceDocument
    raw: bytes
    spec: PolicySpec
    rule_lines: list[int]  # each validated rule's index in the file, past any left out


def policy_files(path: Path) -> list[Path]:
    path = Path(path)
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def load_policy_set(path: Path, schemas: Mapping[str, Any] | None = None) -> PolicySet:
    """Raises PolicyError listing every error; warnings do not stop loading."""
    files = []
    for file in policy_files(path):
        try:
            files.append((str(file), file.read_bytes()))
        except OSError as exc:
            raise PolicyError([Problem(str(file), 1, 1, "error", f"cannot read: {exc.strerror or exc}")]) from None
    if not files:
        raise PolicyError([Problem(str(path), 1, 1, "error", "no policy files (*.yaml) here")])
    policy_set, problems = build_policy_set(files, schemas, serve_all_surfaces=not Path(path).is_dir())
    errors = [problem for problem in problems if problem.severity == "error"]
    if errors or policy_set is None:
        raise PolicyError(errors)
    return policy_set


def build_policy_set(files: list[tuple[str, bytes]], schemas: Mapping[str, Any] | None,
                     serve_all_surfaces: bool) -> tuple[PolicySet | None, list[Problem]]:
    problems: list[Problem] = []
    parsed: dict[str, _Parsed] = {}
    for name, raw in files:
        entry = _parse(name, raw, problems)
        if entry is None:
            continue
        if entry.spec.name in parsed:
            problems.append(Problem.at(name, entry.document.position(("name",)),
                                       f"policy name {entry.spec.name!r} is already used by "
                                       f"{parsed[entry.spec.name].document.name}"))
            continue
        parsed[entry.spec.name] = entry
    compiled: dict[str, CompiledPolicy] = {}
    for name, entry in parsed.items():
        chain = _extends_chain(name, parsed, problems)
        if chain is None:
            continue
        spec, origins = _merge(chain)
        rules, rule_problems = compile_rules(spec, origins, schemas)
        problems.extend(rule_problems)
        problems.extend(_duplicate_rule_problems(entry, spec, schemas))
        digest = hashlib.sha256(b"".join(hashlib.sha256(link.raw).digest() for link in chain)).hexdigest()
        sources = tuple(link.raw.decode() for link in chain)
        fires = compile_fast_path([(rule.spec.when, rule.matches) for rule in rules], spec.thresholds, schemas)
        compiled[name] = CompiledPolicy(spec, tuple(rules), digest, sources, entry.document.name, fires)
    # An inherited rule is compiled once per policy that extends it: report its problems once.
    problems = list(dict.fromkeys(problems))
    if any(problem.severity == "error" for problem in problems):
        return None, problems
    if serve_all_surfaces:
        only = next(iter(compiled))
        return PolicySet(compiled, {}, only), problems
    surfaces = _surfaces(parsed, problems)
    return (PolicySet(compiled, surfaces, DEFAULT_POLICY), problems) if not any(
        problem.severity == "error" for problem in problems) else (None, problems)


def _duplicate_rule_problems(entry: _Parsed, spec: PolicySpec, schemas: Mapping[str, Any] | None) -> list[Problem]:
    """A rule whose id repeats an earlier one is not served, but its condition is still
    checked, so fixing the id does not reveal new errors one run later."""
    seen: set[str] = set()
    problems: list[Problem] = []
    for index, rule in enumerate(entry.spec.rules):
        if rule.id in seen:
            origin = RuleOrigin(entry.document, ("rules", entry.rule_lines[index]))
            alone = spec.model_copy(update={"rules": [rule]})
            problems.extend(p for p in compile_rules(alone, {rule.id: origin}, schemas)[1] if p.severity == "error")
        seen.add(rule.id)
    return problems


def _parse(name: str, raw: bytes, problems: list[Problem]) -> _Parsed | None:
    try:
        document = load_source(raw, name)
    except YamlSourceError as exc:
        problems.append(Problem.at(name, exc.position, exc.message))
        return None
    except UnicodeDecodeError:
        problems.append(Problem(name, 1, 1, "error", "the file is not UTF-8 text"))
        return None
    if not isinstance(document.data, dict):
        problems.append(Problem(name, 1, 1, "error", "a policy is a mapping with at least `name` and `rules`"))
        return None
    for path, old, new in deprecated_action_keys(document.data):
        problems.append(Problem.at(name, document.position(path + ("<key>",)),
                                   f"{'.'.join(map(str, path))} is deprecated: write {new} (the item's place in its "
                                   f"review queue; the rule-level priority decides which rule wins)", "warning"))
    validated = _validate_reporting_all(document, problems)
    if validated is None:
        return None
    spec, rule_lines = validated
    ids: dict[str, int] = {}
    for index, rule in enumerate(spec.rules):
        if rule.id in ids:
            problems.append(Problem.at(name, document.position(("rules", index, "id")),
                                       f"duplicate rule id {rule.id!r} (first used in rule {ids[rule.id] + 1})"))
        ids.setdefault(rule.id, index)
    return _Parsed(document, raw, spec, rule_lines)


def _validate_reporting_all(document: SourceDocument, problems: list[Problem]) -> tuple[PolicySpec, list[int]] | None:
    """Validate, and keep going past every error so one run reports every problem:
    each is reported, then repaired (a bad key dropped to its default, a bad action
    replaced by a placeholder, a rule with no usable condition left out) and the rest
    validated again, so a schema error never hides duplicate ids or undefined thresholds."""
    data = copy.deepcopy(document.data)
    rules = data.get("rules")
    surviving = list(range(len(rules))) if isinstance(rules, list) else []
    for _attempt in range(50):
        try:
            return PolicySpec.model_validate(data), surviving
        except ValidationError as exc:
            repairs = []
            for error in exc.errors():
                problems.append(Problem.at(document.name, _error_position(document, error), _plain(error)))
                repairs.append(_repair_for(error, document.name))
            if None in repairs or not _apply(data, repairs, surviving):
                return None
    return None


# A placeholder action keeps a rule whose `then` is invalid, so its id and condition are still checked.
_PLACEHOLDER_THEN = "allow"


def _repair_for(error: dict[str, Any], file_name: str) -> tuple[str, tuple, Any] | None:
    """("delete" | "set", location, value): how to get past an error and keep checking."""
    location = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        return "delete", location, None
    if not location:
        return None
    if location[0] == "name":
        stem = "".join(c if c.isalnum() or c in "_-" else "-" for c in Path(file_name).stem.lower()).strip("-_")
        return "set", ("name",), f"invalid-{stem or 'name'}"[:64]
    if location[0] == "rules" and len(location) == 1:
        return "set", ("rules",), []
    if location[0] == "rules" and len(location) >= 3 and isinstance(location[1], int):
        part = location[2]
        if part == "then":
            return "set", location[:3], _PLACEHOLDER_THEN
        if part == "id" and error["type"] != "missing":
            return "set", location[:3], f"invalid-id-{location[1]}"
        if part in ("priority", "description"):
            return "delete", location[:3], None
    if location[0] == "rules" and len(location) >= 2:
        return "delete", location[:2], None  # no usable id or condition: the rule is left out
    if location[0] in ("thresholds", "on_error") and len(location) >= 2:
        return "delete", location[:2], None
    return "delete", location[:1], None  # a top-level key falls back to its default


def _apply(data: dict[str, Any], repairs: list[tuple[str, tuple, Any]], surviving: list[int]) -> bool:
    # Deepest and last first, so removing one entry does not shift another's index.
    def order(repair: tuple) -> tuple:
        location = repair[1]
        return len(location), tuple((0, part, "") if isinstance(part, int) else (1, 0, str(part))
                                    for part in location)

    unique = {(kind, location): value for kind, location, value in repairs}
    for (kind, location), value in sorted(unique.items(), key=lambda entry: order((entry[0][0], entry[0][1])),
                                          reverse=True):
        try:
            parent = data
            for part in location[:-1]:
                parent = parent[part]
            if kind == "set":
                if parent.get(location[-1]) == value if isinstance(parent, dict) else False:
                    return False  # the placeholder itself was refused: stop rather than loop
                parent[location[-1]] = value
                continue
            del parent[location[-1]]
        except (KeyError, IndexError, TypeError):
            return False  # the error is about data a validator reshaped: reported, not worth going on
        if len(location) == 2 and location[0] == "rules":
            del surviving[location[1]]
    return bool(repairs)


def _error_position(document: SourceDocument, error: dict[str, Any]):
    location = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        return document.position(location + ("<key>",))
    return document.position(location)


def _plain(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown key {error['loc'][-1]!r}" + (f" in {'.'.join(map(str, error['loc'][:-1]))}"
                                                     if len(error["loc"]) > 1 else "")
    if error["type"] == "missing":
        return f"{location} is required"
    return f"{location}: {error['msg']}"


def _extends_chain(name: str, parsed: Mapping[str, _Parsed], problems: list[Problem]) -> list[_Parsed] | None:
    """The policy's ancestors, root first, ending with the policy itself."""
    chain = [parsed[name]]
    seen = [name]
    while (parent := chain[0].spec.extends) is not None:
        child = chain[0]
        if parent in seen:
            start = parsed[name].document
            cycle = " -> ".join(seen + [parent])
            problems.append(Problem.at(start.name, start.position(("extends",)), f"extends cycle: {cycle}"))
            return None
        if parent not in parsed:
            problems.append(Problem.at(child.document.name, child.document.position(("extends",)),
                                       f"extends unknown policy {parent!r}"))
            return None
        seen.append(parent)
        chain.insert(0, parsed[parent])
    return chain


def _merge(chain: list[_Parsed]) -> tuple[PolicySpec, dict[str, RuleOrigin]]:
    """Child keys override the parent's; a rule with a parent's id replaces it in place."""
    merged: dict[str, Any] = {}
    rules: dict[str, Any] = {}
    origins: dict[str, RuleOrigin] = {}
    for link in chain:
        spec = link.spec
        own = spec.model_fields_set
        for key in ("version", "description", "default_action"):
            if key in own or key not in merged:
                merged[key] = getattr(spec, key)
        if "on_error" in own or "on_error" not in merged:
            merged["on_error"] = {**merged.get("on_error", {}), **spec.on_error}
        merged["thresholds"] = {**merged.get("thresholds", {}), **spec.thresholds}
        own_ids: set[str] = set()
        for index, rule in enumerate(spec.rules):
            if rule.id in own_ids:  # a duplicate in one file is reported already; the first counts
                continue
            own_ids.add(rule.id)
            rules[rule.id] = rule
            origins[rule.id] = RuleOrigin(link.document, ("rules", link.rule_lines[index]))
    own = chain[-1].spec
    effective = own.model_copy(update={**merged, "rules": list(rules.values())})
    return effective, origins


def _surfaces(parsed: Mapping[str, _Parsed], problems: list[Problem]) -> dict[str, str]:
    surfaces: dict[str, str] = {}
    if DEFAULT_POLICY not in parsed:
        first = next(iter(parsed.values()))
        problems.append(Problem(first.document.name, 1, 1, "error",
                                f"no policy is named {DEFAULT_POLICY!r}; it serves surfaces no other policy lists"))
    for name, entry in parsed.items():
        for index, surface in enumerate(entry.spec.surfaces):
            if surface in surfaces:
                problems.append(Problem.at(entry.document.name, entry.document.position(("surfaces", index)),
                                           f"surface {surface!r} is already served by policy {surfaces[surface]!r}"))
            surfaces.setdefault(surface, name)
        shadow = entry.spec.shadow
        if shadow is not None and (shadow not in parsed or shadow == name):
            problems.append(Problem.at(entry.document.name, entry.document.position(("shadow",)),
                                       f"shadow names {'itself' if shadow == name else f'unknown policy {shadow!r}'}"))
    return surfaces


def compile_single_policy(text: str | bytes, schemas: Mapping[str, Any] | None = None,
                          name: str = "<policy>") -> CompiledPolicy:
    """One policy from text (no ``extends``): for tests, benchmarks and tools."""
    raw = text.encode() if isinstance(text, str) else text
    policy_set, problems = build_policy_set([(name, raw)], schemas, serve_all_surfaces=True)
    if policy_set is None:
        raise PolicyError([problem for problem in problems if problem.severity == "error"])
    return next(iter(policy_set.policies.values()))
