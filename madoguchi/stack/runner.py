"""The demo stack: PostgreSQL, Asterisk (in its namespace) and `madoguchi serve`.

`up` starts what is not running and returns when every part answers; `down` stops all
of it; `status` says which part is down and why. Processes are tracked by pid files
in var/run so `down` and `status` work from another shell.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from madoguchi.config import Config, render
from madoguchi.paths import Paths
from madoguchi.stack import asterisk, probes
from madoguchi.stack.asterisk import StackError
from madoguchi.stack.database import start_database
from madoguchi.stack.pg_tools import ClusterError
from madoguchi.stack.postgres import LocalCluster
from madoguchi.stack.spawn import spawn_logged

Progress = Callable[[str], None]


def db_port() -> int:
    """The local cluster's port (MADOGUCHI_PG_PORT, default 5433)."""
    return int(os.environ.get("MADOGUCHI_PG_PORT", "5433"))


@dataclass(frozen=True, slots=True)
class PartStatus:
    name: str
    ok: bool
    detail: str


def read_pid(path: Path) -> int | None:
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return None if asterisk.process_gone(pid) else pid


READY_TIMEOUT_S = 60.0  # for Asterisk, then the service, to answer after they start


def _wait_until(
    what: str, check: Callable[[], bool], timeout: float, alive: Callable[[], bool]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if not alive():
            raise StackError(f"{what} exited during start-up")
        time.sleep(0.2)
    raise StackError(f"{what} did not become ready within {timeout:.0f} s")


class Stack:
    def __init__(self, paths: Paths, config: Config) -> None:
        self.paths = paths
        self.config = config
        self.paths.run.mkdir(parents=True, exist_ok=True)
        self.paths.logs.mkdir(parents=True, exist_ok=True)
        # Processes this object started: kept so they are reaped by `down`, not leaked.
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    # -- pid files ----------------------------------------------------------------------

    @property
    def asterisk_pidfile(self) -> Path:
        return self.paths.run / "asterisk.pid"

    @property
    def service_pidfile(self) -> Path:
        return self.paths.run / "service.pid"

    def asterisk_pid(self) -> int | None:
        return read_pid(self.asterisk_pidfile)

    def service_pid(self) -> int | None:
        return read_pid(self.service_pidfile)

    def cluster(self) -> LocalCluster | None:
        if self.config.service.database.url or os.environ.get("DATABASE_URL"):
            return None
        return LocalCluster(self.paths.pg_data, port=db_port())

    # -- pre-flight ---------------------------------------------------------------------

    def _ports(self) -> list[tuple[str, str, int, int]]:
        s = self.config.service
        return [
            ("SIP", s.sip.bind, s.sip.port, socket.SOCK_DGRAM),
            ("AMI", s.ami.host, s.ami.port, socket.SOCK_STREAM),
            ("FastAGI", s.fastagi.host, s.fastagi.port, socket.SOCK_STREAM),
            ("CTI", s.cti.host, s.cti.port, socket.SOCK_STREAM),
        ]

    def preflight(self, for_asterisk: bool, for_service: bool) -> None:
        asterisk.check_rootfs(self.paths)
        owners = {
            "SIP": for_asterisk,
            "AMI": for_asterisk,
            "FastAGI": for_service,
            "CTI": for_service,
        }
        keys = {
            "SIP": "[sip] port",
            "AMI": "[ami] port",
            "FastAGI": "[fastagi] port",
            "CTI": "[cti] port",
        }
        for name, host, port, kind in self._ports():
            if owners[name] and not probes.port_free(host, port, kind):
                who = probes.who_listens(port, udp=kind == socket.SOCK_DGRAM)
                proto = "udp" if kind == socket.SOCK_DGRAM else "tcp"
                raise StackError(
                    f"{name} port {host}:{port}/{proto} is already taken by {who}; "
                    f"fix: stop it, or change {keys[name]} in config/madoguchi.toml"
                )

    # -- parts --------------------------------------------------------------------------

    def start_database(self, progress: Progress) -> str:
        progress("PostgreSQL: starting")
        try:
            url = self.config.service.database.url
            db = start_database(self.paths.var, port=db_port(), url=url)
        except ClusterError as exc:
            raise StackError(f"PostgreSQL: {exc}") from exc
        progress(f"PostgreSQL: ready at {db.display_dsn}")
        return db.dsn

    def write_asterisk_config(self) -> list[str]:
        return asterisk.assemble_etc(self.paths, asterisk_files(self.config))

    def start_asterisk(self, progress: Progress) -> None:
        progress("Asterisk: starting in its namespace")
        self.write_asterisk_config()
        proc = asterisk.start(self.paths, self.paths.logs / "asterisk.log")
        self._children["asterisk"] = proc
        self.asterisk_pidfile.write_text(str(proc.pid))
        ami = self.config.service.ami
        try:
            _wait_until(
                "Asterisk",
                lambda: (
                    probes.ami_banner(ami.host, ami.port) is not None
                    and self._fully_booted(proc.pid)
                ),
                READY_TIMEOUT_S,
                lambda: proc.poll() is None,
            )
        except BaseException:
            self._abandon("asterisk", self.asterisk_pidfile)
            raise
        progress(
            f"Asterisk: ready (SIP udp {self.config.service.sip.bind}:"
            f"{self.config.service.sip.port}, AMI {ami.host}:{ami.port})"
        )

    def _fully_booted(self, pid: int) -> bool:
        try:
            out = asterisk.cli(self.paths, pid, "core waitfullybooted", timeout=10)
            return "fully booted" in out.lower()
        except StackError:
            return False

    def start_service(self, dsn: str, progress: Progress) -> None:
        progress("madoguchi service: starting")
        env = dict(os.environ)
        env["MADOGUCHI_DATABASE_DSN"] = dsn
        env["MADOGUCHI_CONFIG"] = str(self.paths.config)
        env["MADOGUCHI_VAR"] = str(self.paths.var)
        proc = spawn_logged(
            [sys.executable, "-m", "madoguchi", "serve"], env, self.paths.logs / "service.log"
        )
        self._children["service"] = proc
        self.service_pidfile.write_text(str(proc.pid))
        s = self.config.service
        try:
            _wait_until(
                "madoguchi service (see var/log/service.log)",
                lambda: (
                    probes.tcp_listening(s.fastagi.host, s.fastagi.port)
                    and probes.http_health(s.cti.host, s.cti.port) is not None
                ),
                READY_TIMEOUT_S,
                lambda: proc.poll() is None,
            )
        except BaseException:
            self._abandon("service", self.service_pidfile)
            raise
        progress(
            f"madoguchi service: ready (FastAGI {s.fastagi.host}:{s.fastagi.port}, CTI http://{s.cti.host}:{s.cti.port}/)"
        )

    # -- whole stack --------------------------------------------------------------------

    def up(self, progress: Progress) -> None:
        run_asterisk = self.asterisk_pid() is None
        run_service = self.service_pid() is None
        self.preflight(run_asterisk, run_service)
        try:
            dsn = self.start_database(progress)
            if run_asterisk:
                self.start_asterisk(progress)
            else:
                progress("Asterisk: already running")
            if run_service:
                self.start_service(dsn, progress)
            else:
                progress("madoguchi service: already running")
        except BaseException:
            # Nothing half-running: stop whatever this call started or found.
            self.down(lambda _msg: None)
            raise

    def _abandon(self, name: str, pidfile: Path) -> None:
        """Stop a child that never became ready: half-started, it would still hold its
        ports against whatever starts next."""
        proc = self._children.pop(name, None)
        if proc is not None:
            asterisk.stop(proc.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)
        pidfile.unlink(missing_ok=True)

    def stop_asterisk(self, progress: Progress) -> None:
        pid = self.asterisk_pid()
        if pid is not None:
            progress("Asterisk: stopping")
            asterisk.stop(pid)
        self.asterisk_pidfile.unlink(missing_ok=True)
        proc = self._children.pop("asterisk", None)
        if proc is not None:
            proc.wait(timeout=15)

    def down(self, progress: Progress) -> None:
        pid = self.service_pid()
        if pid is not None:
            progress("madoguchi service: stopping")
            asterisk.stop(pid)
        self.service_pidfile.unlink(missing_ok=True)
        self.stop_asterisk(progress)
        for proc in self._children.values():
            proc.wait(timeout=15)
        self._children.clear()
        cluster = self.cluster()
        if cluster is not None and cluster.status().state == "running":
            progress("PostgreSQL: stopping")
            cluster.stop()

    def status(self) -> list[PartStatus]:
        s = self.config.service
        parts: list[PartStatus] = []
        cluster = self.cluster()
        if cluster is None:
            parts.append(
                PartStatus("database", True, "external server (DATABASE_URL / [database] url)")
            )
        else:
            st = cluster.status()
            parts.append(
                PartStatus(
                    "database", st.state == "running", f"local cluster {st.state}: {st.detail}"
                )
            )
        apid = self.asterisk_pid()
        if apid is None:
            parts.append(PartStatus("asterisk", False, "not running (madoguchi up starts it)"))
        elif probes.ami_banner(s.ami.host, s.ami.port) is None:
            parts.append(
                PartStatus(
                    "asterisk",
                    False,
                    f"pid {apid} runs but AMI {s.ami.host}:{s.ami.port} does not answer",
                )
            )
        else:
            parts.append(
                PartStatus("asterisk", True, f"pid {apid}, AMI {s.ami.host}:{s.ami.port} answers")
            )
        spid = self.service_pid()
        if spid is None:
            parts.append(PartStatus("service", False, "not running (madoguchi up starts it)"))
        else:
            agi = probes.tcp_listening(s.fastagi.host, s.fastagi.port)
            health = probes.http_health(s.cti.host, s.cti.port)
            if not agi:
                parts.append(
                    PartStatus(
                        "service",
                        False,
                        f"pid {spid} runs but FastAGI {s.fastagi.host}:{s.fastagi.port}"
                        " is not listening",
                    )
                )
            elif health is None:
                parts.append(
                    PartStatus(
                        "service",
                        False,
                        f"pid {spid} runs but CTI {s.cti.host}:{s.cti.port} does not answer",
                    )
                )
            else:
                parts.append(PartStatus("service", True, f"pid {spid}, FastAGI and CTI answer"))
                components = health.get("components")
                found = components.items() if isinstance(components, dict) else ()
                for name, ok in sorted(found):
                    info = ok if isinstance(ok, dict) else {"ok": bool(ok)}
                    detail = ", ".join(f"{k}={v}" for k, v in info.items() if k != "ok")
                    parts.append(PartStatus(f"service.{name}", bool(info.get("ok")), detail))
        return parts


def asterisk_files(config: Config) -> dict[str, str]:
    """Generated Asterisk files: from config/, plus where this runner keeps the AGI Python."""
    files = render(config)
    files["extensions_globals.conf"] += f"MADOGUCHI_PYTHON = {asterisk.AGI_PYTHON}\n"
    return files


def status_dict(parts: list[PartStatus]) -> dict[str, object]:
    return {"ok": all(p.ok for p in parts), "parts": [asdict(p) for p in parts]}


def wait_for_signal(stack: Stack, progress: Progress) -> int:
    """Foreground supervision for `madoguchi run`: Ctrl-C (or a dead part) stops all."""
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    code = 0
    while not stopping:
        time.sleep(0.5)
        if stack.asterisk_pid() is None:
            progress("Asterisk exited unexpectedly (see var/log/asterisk.log); stopping everything")
            code = 1
            break
        if stack.service_pid() is None:
            progress(
                "madoguchi service exited unexpectedly (see var/log/service.log);"
                " stopping everything"
            )
            code = 1
            break
    stack.down(progress)
    return code
