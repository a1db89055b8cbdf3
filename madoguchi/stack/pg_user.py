"""The unprivileged system user PostgreSQL runs as when we are root (it refuses root):
created with useradd when missing; the cluster's files are chowned to it and its programs
run through runuser."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

from madoguchi.stack.pg_tools import ClusterError, last_line


class ServerUser:
    """``name`` when running as root; as anyone else, the programs simply run as ourselves."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.as_root = os.geteuid() == 0

    def ensure_exists(self) -> None:
        if not self.as_root:
            return
        try:
            pwd.getpwnam(self.name)
            return
        except KeyError:
            pass
        result = subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                self.name,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 and "already exists" not in result.stderr:
            raise ClusterError(
                f"cannot create system user {self.name}: {last_line(result.stderr)}; "
                f"create it yourself (useradd --system {self.name})"
            )

    def chown(self, path: Path) -> None:
        if self.as_root:
            entry = pwd.getpwnam(self.name)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def check_can_write(self, path: Path, log_file: Path) -> None:
        if not self.as_root:
            return
        result = self.run(["test", "-w", str(path), "-a", "-x", str(path)], 30, log_file)
        if result.returncode != 0:
            raise ClusterError(
                f"user {self.name} cannot reach {path}: a parent directory is not searchable "
                "by it; chmod o+x the parent directories or use another var dir"
            )

    def run(
        self, cmd: list[str], timeout: float, log_file: Path
    ) -> subprocess.CompletedProcess[str]:
        """Run ``cmd`` as this user; a timeout is a ClusterError pointing at ``log_file``."""
        if self.as_root:
            cmd = ["runuser", "-u", self.name, "--", *cmd]
        # cwd=/ : the unprivileged user may not be allowed into our current directory.
        try:
            return subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=False,
                timeout=timeout,
                cwd="/",
            )
        except subprocess.TimeoutExpired as exc:
            raise ClusterError(
                f"{Path(cmd[0]).name} took longer than {timeout:.0f} s: see {log_file}"
            ) from exc
