"""A candidate policy seen as the service would see it: beside the live policy
folder, replacing the live policy of the same name, so ``extends`` resolves
against the folder. And its promotion, once it lints and passes the tests."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

from moderation_service.policy import PolicySet, Problem, build_policy_set
from moderation_service.policy.policy_set import policy_files


def policy_name_of(raw: bytes) -> str | None:
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError:
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def live_file_named(live_folder: Path, name: str, besides: Path | None = None) -> Path | None:
    """The file of the live folder that defines policy ``name``."""
    for file in policy_files(live_folder):
        if besides is not None and file.resolve() == besides.resolve():
            continue
        if policy_name_of(file.read_bytes()) == name:
            return file
    return None


def candidate_files(candidate: Path, live_folder: Path) -> tuple[list[tuple[str, bytes]], str | None]:
    """The live folder's files with ``candidate`` in place of the policy it names."""
    raw = candidate.read_bytes()
    name = policy_name_of(raw)
    files = []
    if live_folder.is_dir():
        for file in policy_files(live_folder):
            if file.resolve() == candidate.resolve() or (name is not None and policy_name_of(file.read_bytes()) == name):
                continue
            files.append((str(file), file.read_bytes()))
    return files + [(str(candidate), raw)], name


def candidate_policy_set(candidate: Path, live_folder: Path, schemas: Mapping[str, Any] | None
                         ) -> tuple[PolicySet | None, list[Problem], str | None]:
    files, name = candidate_files(candidate, live_folder)
    policy_set, problems = build_policy_set(files, schemas, serve_all_surfaces=not live_folder.is_dir())
    return policy_set, problems, name


def promote(candidate: Path, live_folder: Path, schemas: Mapping[str, Any] | None,
            passes_tests: Callable[[PolicySet], bool]) -> tuple[Path | None, list[Problem]]:
    """Replace the live policy of the candidate's name by the candidate, atomically,
    only when the whole folder then lints without an error and ``passes_tests``.

    Returns (the file written, problems); (None, problems) when nothing was written."""
    policy_set, problems, name = candidate_policy_set(candidate, live_folder, schemas)
    if policy_set is None or name is None or any(problem.severity == "error" for problem in problems):
        return None, problems
    if not passes_tests(policy_set):
        return None, problems
    target = live_file_named(live_folder, name, besides=candidate) or live_folder / f"{name}.yaml"
    # Written beside the target and renamed over it: the hot reload sees the old file or the new one.
    handle, temporary = tempfile.mkstemp(dir=live_folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(candidate.read_bytes())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target, problems
