"""Configuration problems: every one names the file, the key path and the reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    file: str
    key: str
    reason: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.reason}" + (
            " (warning)" if self.severity == "warning" else ""
        )


class ConfigError(Exception):
    """Raised when a configuration cannot be used; carries every problem found."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
