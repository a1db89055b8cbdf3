"""Where things live: the project tree, the var dir (state), the cached Asterisk root."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Paths:
    project: Path
    config: Path
    var: Path
    rootfs: Path

    @property
    def asterisk_static_etc(self) -> Path:
        return self.project / "asterisk" / "etc"

    @property
    def asterisk_sounds(self) -> Path:
        return self.project / "asterisk" / "sounds"

    @property
    def asterisk_var(self) -> Path:
        """Bind-mounted at /madoguchi inside the Asterisk root."""
        return self.var / "asterisk"

    @property
    def run(self) -> Path:
        return self.var / "run"

    @property
    def logs(self) -> Path:
        return self.var / "log"

    @property
    def pg_data(self) -> Path:
        return self.var / "pg"

    @property
    def spool(self) -> Path:
        return self.var / "spool"


def default_paths(config_dir: Path | None = None) -> Paths:
    env = os.environ
    return Paths(
        project=PROJECT_ROOT,
        config=Path(config_dir or env.get("MADOGUCHI_CONFIG") or PROJECT_ROOT / "config"),
        var=Path(env.get("MADOGUCHI_VAR") or PROJECT_ROOT / "var"),
        rootfs=Path(env.get("MADOGUCHI_ROOTFS") or "/var/cache/madoguchi/rootfs"),
    )
