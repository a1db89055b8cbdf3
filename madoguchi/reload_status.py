"""The outcome of the service's last reload, kept in var/run so `madoguchi reload` can report it.

The service writes one small JSON file after every reload attempt (atomically); the CLI reads
it before sending SIGHUP and waits for a newer one from the same process.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

STATUS_FILE = "reload-status.json"


@dataclass(frozen=True, slots=True)
class ReloadStatus:
    pid: int  # the service process that reloaded
    seq: int  # 1, 2, ... per service process
    ok: bool  # False: refused (invalid config) or failed part-way; see lines
    lines: tuple[str, ...]  # what changed, or each problem (file: key: reason)
    finished_at: float


def status_path(run_dir: Path) -> Path:
    return run_dir / STATUS_FILE


def write_status(run_dir: Path, status: ReloadStatus) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=run_dir, prefix=".reload-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(status), out, ensure_ascii=False)
    os.replace(tmp, status_path(run_dir))


def read_status(run_dir: Path) -> ReloadStatus | None:
    """The last status written, or None (no reload yet, or an unreadable file)."""
    try:
        data = json.loads(status_path(run_dir).read_text(encoding="utf-8"))
        return ReloadStatus(
            pid=int(data["pid"]),
            seq=int(data["seq"]),
            ok=bool(data["ok"]),
            lines=tuple(str(line) for line in data["lines"]),
            finished_at=float(data["finished_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
