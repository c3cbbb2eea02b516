"""Per-category labels from reviewers' verdicts, mapped declaratively (``datasets/reason_codes.yaml``).

``labels_for("reject", "hate")`` is ``{"hate": 1}``: positive for the categories the reason code
names, unknown (absent) for the rest. ``labels_for("approve", code)`` is negative for every
category. Callers mask absent categories out of losses and metrics.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

DEFAULT_REASON_CODES = Path(__file__).resolve().parent.parent / "datasets" / "reason_codes.yaml"


class ReasonCodeMapError(ValueError):
    pass


@dataclass(frozen=True)
class ReasonCodeMap:
    categories: dict[str, tuple[str, ...]]  # reason code -> harm categories it means
    negative: frozenset[str]

    def labels_for(self, verdict: str, reason_code: str | None, known: tuple[str, ...]) -> dict[str, int]:
        """{category: 0 or 1} for the categories of ``known`` that the verdict says something about."""
        if verdict == "approve":
            return dict.fromkeys(known, 0)
        if verdict != "reject" or reason_code in self.negative or reason_code not in self.categories:
            return {}
        return {category: 1 for category in self.categories[reason_code] if category in known}


def load_reason_codes(path: Path = DEFAULT_REASON_CODES) -> ReasonCodeMap:
    """Raises ReasonCodeMapError naming the file for a missing file or a malformed mapping."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ReasonCodeMapError(f"cannot read reason-code map {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("categories"), dict):
        raise ReasonCodeMapError(f"{path}: expected a mapping with `categories: {{code: [category, ...]}}`")
    categories = {}
    for code, names in data["categories"].items():
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise ReasonCodeMapError(f"{path}: categories.{code} must be a list of category names")
        categories[str(code)] = tuple(names)
    negative = data.get("negative") or []
    if not isinstance(negative, list):
        raise ReasonCodeMapError(f"{path}: `negative` must be a list of reason codes")
    return ReasonCodeMap(categories, frozenset(map(str, negative)))
