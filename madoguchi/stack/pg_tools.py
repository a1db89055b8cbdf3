"""PostgreSQL's server programs on this machine, free ports, and reading their output."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Final

LISTEN_HOST: Final[str] = "127.0.0.1"
PG_ROOT: Final[Path] = Path("/usr/lib/postgresql")


class ClusterError(RuntimeError):
    """A cluster operation failed; the message is one line naming the cause and the fix."""


def find_pg_bin(major: str | None = None) -> Path:
    """The bin directory of installed PostgreSQL ``major`` (or the newest installed)."""
    candidates = sorted(
        (
            p
            for p in PG_ROOT.glob("*/bin")
            if (p / "postgres").is_file() and (p / "initdb").is_file()
        ),
        key=lambda p: _version_key(p.parent.name),
    )
    if major is not None:
        candidates = [p for p in candidates if p.parent.name == major]
        if not candidates:
            raise ClusterError(
                f"PostgreSQL {major} server binaries not found under {PG_ROOT}/{major}/bin: "
                f"apt-get install postgresql-{major}"
            )
    if not candidates:
        raise ClusterError(
            f"PostgreSQL server binaries not found under {PG_ROOT}/*/bin: "
            "apt-get install postgresql"
        )
    return candidates[-1]


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def port_is_free(port: int, host: str = LISTEN_HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like PostgreSQL itself: connections in TIME_WAIT from a previous run do not count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = LISTEN_HOST) -> int:
    """A TCP port on ``host`` nobody listens on right now (for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def is_postgres_process(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        comm = Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
    except OSError:
        return False
    return comm.startswith("postgres") or comm.startswith("postmaster")


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def tail(path: Path, size: int = 4000) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(max(0, path.stat().st_size - size))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
