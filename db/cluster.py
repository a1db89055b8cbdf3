"""A project-local PostgreSQL cluster: initdb, start, stop, status, wait until ready, DSN.

The cluster lives in a data directory (e.g. ``var/pg``), listens only on 127.0.0.1 at one port
(default 5433) plus a unix socket in ``<var>/pg-socket``, and has one database and one role, both
named ``madoguchi``, with a random password kept in ``<var>/pg.password`` (mode 0600).
PostgreSQL refuses to run as root, so when we are root the server runs as the unprivileged system
user ``madoguchi`` (created with useradd when missing) via ``runuser``.

Every operation is idempotent: ``start`` reuses a running or stopped cluster, initialises a missing
one, removes a stale ``postmaster.pid``, and refuses a broken one with a one-line reason and fix.
``start_database`` is the entry point for the stack runner: it honours ``DATABASE_URL``.

Log: ``<var>/pg.log``. Usage from a shell: ``python -m db.cluster start|stop|status [VAR_DIR]``.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal
from urllib.parse import quote

DEFAULT_PORT: Final[int] = 5433
DEFAULT_OS_USER: Final[str] = "madoguchi"
DB_NAME: Final[str] = "madoguchi"  # also spelled out in _ensure_database's SQL
DB_ROLE: Final[str] = "madoguchi"
LISTEN_HOST: Final[str] = "127.0.0.1"
PG_ROOT: Final[Path] = Path("/usr/lib/postgresql")
MIN_FREE_BYTES: Final[int] = 64 * 1024 * 1024

ClusterState = Literal["absent", "stopped", "running", "broken"]


class ClusterError(RuntimeError):
    """A cluster operation failed; the message is one line naming the cause and the fix."""


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    state: ClusterState
    detail: str
    pid: int | None = None
    port: int | None = None


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
        self._as_root = os.geteuid() == 0

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
        if not _is_postgres_process(pid):
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
                    f"not {self.port}: stop it first (python -m db.cluster stop) or use that port"
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
        deadline = time.monotonic() + timeout
        isready = str(self._bin_dir() / "pg_isready")
        while True:
            result = subprocess.run(
                [isready, "-q", "-h", LISTEN_HOST, "-p", str(self.port), "-d", "postgres"],
                capture_output=True,
                check=False,
                timeout=30,
            )
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"PostgreSQL on {LISTEN_HOST}:{self.port} not ready after {timeout:.0f} s: "
                    f"see {self.log_file}"
                )
            time.sleep(0.1)

    def initialise(self) -> None:
        """initdb into the data directory (which must be absent or empty)."""
        bin_dir = find_pg_bin()
        self._check_disk_space()
        self._ensure_os_user()
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.data_dir.chmod(0o700)
        self._chown(self.data_dir)
        self._check_user_can_write(self.data_dir)
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
        self._chown(pwfile)
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
        self._chown(path)

    def _prepare_runtime_dirs(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.chmod(0o755)
        self._chown(self.socket_dir)
        self.log_file.touch(mode=0o640, exist_ok=True)
        self._chown(self.log_file)

    def _ensure_database(self) -> None:
        psql = str(self._bin_dir() / "psql")
        env = {**os.environ, "PGPASSWORD": self._password(), "PGCONNECT_TIMEOUT": "10"}
        base = [psql, "-X", "-q", "-h", LISTEN_HOST, "-p", str(self.port), "-U", DB_ROLE]
        probe = subprocess.run(
            [
                *base,
                "-d",
                "postgres",
                "-tAc",
                "SELECT 1 FROM pg_database WHERE datname = 'madoguchi'",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )
        if probe.returncode != 0:
            raise ClusterError(f"cannot query the cluster: {_last_line(probe.stderr)}")
        if probe.stdout.strip() == "1":
            return
        create = subprocess.run(
            [*base, "-d", "postgres", "-c", f"CREATE DATABASE {DB_NAME}"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=60,
        )
        if create.returncode != 0 and "already exists" not in create.stderr:
            raise ClusterError(f"cannot create database {DB_NAME}: {_last_line(create.stderr)}")

    def _ensure_os_user(self) -> None:
        if not self._as_root:
            return
        try:
            pwd.getpwnam(self.os_user)
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
                self.os_user,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 and "already exists" not in result.stderr:
            raise ClusterError(
                f"cannot create system user {self.os_user}: {_last_line(result.stderr)}; "
                f"create it yourself (useradd --system {self.os_user})"
            )

    def _chown(self, path: Path) -> None:
        if self._as_root:
            entry = pwd.getpwnam(self.os_user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _check_user_can_write(self, path: Path) -> None:
        if not self._as_root:
            return
        result = self._run(["test", "-w", str(path), "-a", "-x", str(path)], timeout=30)
        if result.returncode != 0:
            raise ClusterError(
                f"user {self.os_user} cannot reach {path}: a parent directory is not searchable "
                "by it; chmod o+x the parent directories or use another var dir"
            )

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
        if self._as_root:
            cmd = ["runuser", "-u", self.os_user, "--", *cmd]
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
                f"{Path(cmd[0]).name} took longer than {timeout:.0f} s: see {self.log_file}"
            ) from exc

    def _failure_reason(self, result: subprocess.CompletedProcess[str]) -> str:
        text = f"{result.stderr}\n{result.stdout}\n{_tail(self.log_file)}"
        if "No space left on device" in text:
            return "no disk space left: free some space and retry"
        if "Address already in use" in text or "could not bind" in text:
            return f"port {self.port} is already in use: stop that server or choose another port"
        fatal = [line for line in text.splitlines() if "FATAL" in line or "error" in line.lower()]
        reason = (fatal[-1] if fatal else _last_line(text)).strip()
        return f"{reason} (see {self.log_file})"


def _is_postgres_process(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        comm = Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
    except OSError:
        return False
    return comm.startswith("postgres") or comm.startswith("postmaster")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def _tail(path: Path, size: int = 4000) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(max(0, path.stat().st_size - size))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


@dataclass(frozen=True, slots=True)
class Database:
    """The database the service uses: a local cluster we manage, or an external server."""

    dsn: str
    display_dsn: str
    cluster: LocalCluster | None

    def stop(self) -> None:
        """Stop the local cluster; an external server (DATABASE_URL) is left alone."""
        if self.cluster is not None:
            self.cluster.stop()


def start_database(
    var_dir: Path,
    *,
    port: int = DEFAULT_PORT,
    url: str | None = None,
    timeout: float = 60.0,
) -> Database:
    """Entry point for the stack runner.

    ``url`` (e.g. config ``[database] url``) wins, then the ``DATABASE_URL`` environment variable;
    when both are empty, the local cluster in ``var_dir/pg`` is initialised/started on ``port``.
    """
    external = url or os.environ.get("DATABASE_URL") or ""
    if external:
        return Database(dsn=external, display_dsn=_mask_password(external), cluster=None)
    cluster = LocalCluster(Path(var_dir) / "pg", port=port)
    dsn = cluster.start(timeout=timeout)
    return Database(dsn=dsn, display_dsn=cluster.display_dsn, cluster=cluster)


def configured_dsn(var_dir: Path, *, port: int = DEFAULT_PORT, url: str | None = None) -> str:
    """The DSN ``start_database`` would use, without starting anything (for CLI tools).

    Raises ClusterError when the local cluster was never initialised.
    """
    external = url or os.environ.get("DATABASE_URL") or ""
    return external or LocalCluster(Path(var_dir) / "pg", port=port).dsn


def _mask_password(dsn: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", dsn)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in {"start", "stop", "status"}:
        print("usage: python -m db.cluster start|stop|status [VAR_DIR] [PORT]", file=sys.stderr)
        return 2
    var_dir = Path(args[1]) if len(args) > 1 else Path("var")
    port = int(args[2]) if len(args) > 2 else DEFAULT_PORT
    cluster = LocalCluster(var_dir / "pg", port=port)
    try:
        if args[0] == "start":
            cluster.start()
            print(f"PostgreSQL running: {cluster.display_dsn}")
        elif args[0] == "stop":
            cluster.stop()
            print("PostgreSQL stopped")
        else:
            status = cluster.status()
            print(f"{status.state}: {status.detail}")
            return 0 if status.state == "running" else 3
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
