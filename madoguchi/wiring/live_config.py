"""The configuration in force: read at each use, replaced as a whole by a reload."""

from __future__ import annotations

from madoguchi.config import Config


class LiveConfig:
    """One holder the composition root shares, so a reload changes what every reader sees."""

    def __init__(self, config: Config) -> None:
        self.current = config

    def get(self) -> Config:
        return self.current
