"""Problems found in policy files, each at file:line:column with a plain sentence."""
from __future__ import annotations

from dataclasses import dataclass

from moderation_service.policy.yaml_source import Position


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    column: int
    severity: str  # "error" or "warning"
    message: str

    @classmethod
    def at(cls, file: str, position: Position, message: str, severity: str = "error") -> "Problem":
        return cls(file, position.line, position.column, severity, message)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {self.message}"


class PolicyError(ValueError):
    """An invalid policy. ``problems`` lists every error found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))
