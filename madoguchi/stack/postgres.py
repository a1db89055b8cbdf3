"""A project-local PostgreSQL cluster: initdb, start, stop, status, wait until ready, DSN.

The cluster lives in a data directory (e.g. ``var/pg``), listens only on 127.0.0.1 at one port
(default 5433) plus a unix socket in ``<var>/pg-socket``, and has one database and one role, both
named ``madoguchi``, with a random password kept in ``<var>/pg.password`` (mode 0600).
PostgreSQL refuses to run as root, so when we are root the server runs as the unprivileged system
user ``madoguchi`` (``madoguchi.stack.pg_user``).

Every operation is idempotent: ``start`` reuses a running or stopped cluster, initialises a missing
one, removes a stale ``postmaster.pid``, and refuses a broken one with a one-line reason and fix.
``madoguchi.stack.database.start_database`` is the stack runner's entry point (it honours
``DATABASE_URL``). Log: ``<var>/pg.log``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal
from urllib.parse import quote

from madoguchi.stack.pg_client import DB_NAME, DB_ROLE, ensure_database, wait_ready
from madoguchi.stack.pg_tools import (
    LISTEN_HOST,
    ClusterError,
    find_pg_bin,
    is_postgres_process,
    last_line,
    port_is_free,
    tail,
)
from madoguchi.stack.pg_user import ServerUser

DEFAULT_PORT: Final[int] = 5433
DEFAULT_OS_USER: Final[str] = "madoguchi"
MIN_FREE_BYTES: Final[int] = 64 * 1024 * 1024

ClusterState = Literal["absent", "stopped", "running", "broken"]


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    state: ClusterState
    detail: str
    pid: int | None = None
    port: int | None = None


class LocalCluster:
    """One PostgreSQL cluster in ``data_dir``; see the module docstring."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int = DEFAULT_PORT,
        socket_dir: Path | None = None,
        os_user: str = DEFAULT_OS_USER,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        var = self.data_dir.parent
        self.socket_dir = (socket_dir or var / f"{self.data_dir.name}-socket").absolute()
        self.password_file = var / f"{self.data_dir.name}.password"
        self.log_file = var / f"{self.data_dir.name}.log"
        self.os_user = os_user
        self._user = ServerUser(os_user)

    # -- addresses -------------------------------------------------------------------------

    @property
    def dsn(self) -> str:
        """DSN with the password (never log it; use ``display_dsn``)."""
        return (
            f"postgresql://{DB_ROLE}:{quote(self._password(), safe='')}"
            f"@{LISTEN_HOST}:{self.port}/{DB_NAME}"
        )

    @property
    def display_dsn(self) -> str:
        return f"postgresql://{DB_ROLE}:***@{LISTEN_HOST}:{self.port}/{DB_NAME}"

    def _password(self) -> str:
        try:
            return self.password_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError as exc:
            raise ClusterError(
                f"password file {self.password_file} is missing: the cluster in {self.data_dir} "
                "cannot be used; delete that data directory to re-initialise it"
            ) from exc

    # -- status ----------------------------------------------------------------------------

    def status(self) -> ClusterStatus:
        if not self.data_dir.exists() or not any(self.data_dir.iterdir()):
            return ClusterStatus("absent", f"no cluster in {self.data_dir}")
        version_file = self.data_dir / "PG_VERSION"
        if not version_file.is_file():
            return ClusterStatus(
                "broken",
                f"{self.data_dir} is not empty but is not a PostgreSQL data directory "
                "(no PG_VERSION): move it away or delete it to re-initialise",
            )
        if not self.password_file.is_file():
            return ClusterStatus(
                "broken",
                f"{self.data_dir} has no password file {self.password_file}: "
                "delete the data directory to re-initialise",
            )
        pid, port = self._postmaster()
        if pid is None:
            return ClusterStatus("stopped", f"cluster in {self.data_dir} is stopped")
        if not is_postgres_process(pid):
            return ClusterStatus(
                "stopped", f"stale postmaster.pid (process {pid} is not running)", pid=pid
            )
        return ClusterStatus("running", f"running as pid {pid} on port {port}", pid=pid, port=port)

    def _postmaster(self) -> tuple[int | None, int | None]:
        try:
            lines = (self.data_dir / "postmaster.pid").read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return None, None
        try:
            pid = int(lines[0])
        except (IndexError, ValueError):
            return -1, None
        try:
            port: int | None = int(lines[3])
        except (IndexError, ValueError):
            port = None
        return pid, port

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> str:
        """Initialise if needed, start if stopped, wait until ready, create the database.

        Returns the DSN. Raises ClusterError with a one-line cause and fix.
        """
        status = self.status()
        if status.state == "broken":
            raise ClusterError(status.detail)
        if status.state == "running":
            if status.port is not None and status.port != self.port:
                raise ClusterError(
                    f"the cluster in {self.data_dir} is already running on port {status.port}, "
                    f"not {self.port}: stop it first (python -m madoguchi.stack.database stop) "
                    "or use that port"
                )
            self.wait_ready(timeout)
            self._ensure_database()
            return self.dsn
        if status.state == "absent":
            self.initialise()
        elif status.pid is not None:  # stale postmaster.pid
            (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
        bin_dir = self._bin_dir()
        if not port_is_free(self.port):
            raise ClusterError(
                f"port {self.port} on {LISTEN_HOST} is already in use (another PostgreSQL?): "
                "stop that server or choose another port"
            )
        self._check_disk_space()
        self._prepare_runtime_dirs()
        self._write_settings()
        result = self._run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ],
            timeout=timeout + 10,
        )
        if result.returncode != 0:
            raise ClusterError(f"PostgreSQL did not start: {self._failure_reason(result)}")
        self.wait_ready(timeout)
        self._ensure_database()
        return self.dsn

    def stop(self, timeout: float = 60.0) -> None:
        """Stop the cluster (fast shutdown); does nothing when it is not running."""
        status = self.status()
        if status.state != "running":
            return
        result = self._run(
            [
                str(self._bin_dir() / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-m",
                "fast",
                "-w",
                "-t",
                str(int(timeout)),
                "stop",
            ],
            timeout=timeout + 10,
        )
        if result.returncode != 0 and self.status().state == "running":
            raise ClusterError(f"PostgreSQL did not stop: {self._failure_reason(result)}")

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Poll pg_isready until the server accepts connections or ``timeout`` passes."""
        wait_ready(self._bin_dir(), self.port, timeout, self.log_file)

    def initialise(self) -> None:
        """initdb into the data directory (which must be absent or empty)."""
        bin_dir = find_pg_bin()
        self._check_disk_space()
        self._user.ensure_exists()
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.data_dir.chmod(0o700)
        self._user.chown(self.data_dir)
        self._user.check_can_write(self.data_dir, self.log_file)
        password = secrets.token_urlsafe(24)
        self.password_file.unlink(missing_ok=True)
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(password + "\n")
        # initdb reads the password from a file the server user can open (not a root-owned pipe).
        self._prepare_runtime_dirs()
        pwfile = self.socket_dir / "initdb.pw"
        pwfile.unlink(missing_ok=True)
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(password + "\n")
        self._user.chown(pwfile)
        try:
            result = self._run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    DB_ROLE,
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--auth-host=scram-sha-256",
                    "--auth-local=scram-sha-256",
                    f"--pwfile={pwfile}",
                ],
                timeout=300,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            self.password_file.unlink(missing_ok=True)
            raise ClusterError(f"initdb failed: {self._failure_reason(result)}")
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as fh:
            fh.write("\n# madoguchi: listen address, port and socket (rewritten at each start)\n")
            fh.write("include_if_exists = 'madoguchi.conf'\n")

    # -- helpers ---------------------------------------------------------------------------

    def _bin_dir(self) -> Path:
        version_file = self.data_dir / "PG_VERSION"
        major = version_file.read_text().strip() if version_file.is_file() else None
        return find_pg_bin(major)

    def _write_settings(self) -> None:
        settings = {
            "listen_addresses": LISTEN_HOST,
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "max_connections": "60",
            "logging_collector": "off",
            "timezone": "UTC",
        }
        body = "".join(
            f"{key} = '{value.replace(chr(39), chr(39) * 2)}'\n" for key, value in settings.items()
        )
        path = self.data_dir / "madoguchi.conf"
        path.write_text(body, encoding="utf-8")
        self._user.chown(path)

    def _prepare_runtime_dirs(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.chmod(0o755)
        self._user.chown(self.socket_dir)
        self.log_file.touch(mode=0o640, exist_ok=True)
        self._user.chown(self.log_file)

    def _ensure_database(self) -> None:
        ensure_database(self._bin_dir(), self.port, self._password())

    def _check_disk_space(self) -> None:
        probe = self.data_dir
        while not probe.exists():
            probe = probe.parent
        free = shutil.disk_usage(probe).free
        if free < MIN_FREE_BYTES:
            raise ClusterError(
                f"no disk space for PostgreSQL: {free // (1024 * 1024)} MB free on the filesystem "
                f"of {probe}: free some space (need {MIN_FREE_BYTES // (1024 * 1024)} MB)"
            )

    def _run(self, cmd: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
        return self._user.run(cmd, timeout, self.log_file)

    def _failure_reason(self, result: subprocess.CompletedProcess[str]) -> str:
        text = f"{result.stderr}\n{result.stdout}\n{tail(self.log_file)}"
        if "No space left on device" in text:
            return "no disk space left: free some space and retry"
        if "Address already in use" in text or "could not bind" in text:
            return f"port {self.port} is already in use: stop that server or choose another port"
        fatal = [line for line in text.splitlines() if "FATAL" in line or "error" in line.lower()]
        reason = (fatal[-1] if fatal else last_line(text)).strip()
        return f"{reason} (see {self.log_file})"
