"""The stack the call benchmarks run on: a private config and var dir, own ports.

The bench copies config/ into a temporary dir and changes only what a benchmark needs:
extra agents 2001.. in queue `support` (their SIP phones are SIPp UASes), wrap-up 0 in
every queue (app_queue's baseline has `wrapuptime = 0`: same work per call), and ports
of its own so it can run beside a demo stack or the integration tests' stack.

Asterisk starts first, alone: (a) and (b) measure Asterisk as a site without madoguchi
runs it. PostgreSQL and `madoguchi serve` start before (c) and (d).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from bench.call_sipp import BenchAgent, udp_port_free
from madoguchi.paths import Paths, default_paths
from madoguchi.service_config import load_service_config
from madoguchi.stack import asterisk
from madoguchi.stack.asterisk import StackError
from madoguchi.stack.runner import Stack

Progress = Callable[[str], None]

FIRST_AGENT = 2001
BENCH_QUEUE = "support"


@dataclass(frozen=True, slots=True)
class BenchPorts:
    sip: int
    ami: int
    fastagi: int
    cti: int


def _tcp_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_ports(base: int = 15060) -> BenchPorts:
    """Four consecutive free ports near `base` (SIP udp, AMI, FastAGI, CTI tcp)."""
    for start in range(base, base + 400, 10):
        if udp_port_free(start) and all(_tcp_free(start + i) for i in (1, 2, 3)):
            return BenchPorts(start, start + 1, start + 2, start + 3)
    raise StackError(f"no free ports for the bench stack between {base} and {base + 400}")


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _set_ports(text: str, ports: BenchPorts) -> str:
    wanted = {"sip": ports.sip, "ami": ports.ami, "fastagi": ports.fastagi, "cti": ports.cti}
    out: list[str] = []
    section = ""
    for line in text.splitlines():
        head = re.fullmatch(r"\s*\[([a-z_]+)\]\s*(#.*)?", line)
        if head:
            section = head.group(1)
        elif section in wanted and re.match(r"\s*port\s*=", line):
            line = f"port = {wanted[section]}"
        elif section == "cti" and re.match(r"\s*allowed_origins\s*=", line):
            line = f'allowed_origins = ["http://127.0.0.1:{ports.cti}"]'
        out.append(line)
    return "\n".join(out) + "\n"


def write_bench_config(dst: Path, agents: int, ports: BenchPorts) -> Path:
    """config/ plus `agents` bench agents (2001..) in queue support, wrap-up 0, own ports."""
    src = default_paths().config
    shutil.copytree(src, dst)
    service = dst / "madoguchi.toml"
    service.write_text(_set_ports(service.read_text(encoding="utf-8"), ports), encoding="utf-8")
    queues = dst / "queues.toml"
    queues.write_text(
        re.sub(r"(?m)^wrapup\s*=\s*\d+", "wrapup = 0", queues.read_text(encoding="utf-8")),
        encoding="utf-8",
    )
    lines = [
        "",
        "# Added by the benchmark (bench/call_stack.py): SIPp phones, one port each.",
    ]
    for ext in agent_ids(agents):
        lines += [
            "[[agent]]",
            f'id = "{ext}"',
            f'name = "ベンチ {ext}"',
            f'password = "pw{ext}"',
            f'pin = "{ext}"',
            f"queues = {{ {BENCH_QUEUE} = 1 }}",
            "",
        ]
    agents_file = dst / "agents.toml"
    text = agents_file.read_text(encoding="utf-8")
    # [[agent]] tables must come before [states]/[[supervisor]] would be fine in TOML, but
    # appending after a plain table would nest them: insert before the first non-agent table.
    cut = re.search(r"(?m)^\[(?!\[agent\]\])", text)
    pos = cut.start() if cut else len(text)
    agents_file.write_text(text[:pos] + "\n".join(lines) + "\n" + text[pos:], encoding="utf-8")
    return dst


def agent_ids(count: int) -> list[str]:
    return [str(FIRST_AGENT + i) for i in range(count)]


class BenchStack:
    """The bench's Asterisk, PostgreSQL and service, plus the agents' SIPp phones."""

    def __init__(self, workdir: Path, agents: int, ring_ms: int, talk_ms: int) -> None:
        self.workdir = workdir
        self.ports = pick_ports()
        var = Path(tempfile.mkdtemp(prefix="madoguchi-bench-"))
        # PostgreSQL runs as an unprivileged user and must reach its data dir.
        var.chmod(0o755)
        self.var = var
        # One more phone than the pool: the first one takes (a)'s plain Dial() calls only, so
        # (a)'s overload steps cannot leave anything behind in the queues' agents.
        config_dir = write_bench_config(workdir / "config", agents + 1, self.ports)
        base = default_paths()
        self.paths = Paths(project=base.project, config=config_dir, var=var, rootfs=base.rootfs)
        self.config = load_service_config(config_dir)
        self.stack = Stack(self.paths, self.config)
        self.server = f"127.0.0.1:{self.ports.sip}"
        self.agents = [
            BenchAgent(
                ext,
                f"pw{ext}",
                port=port,
                media_port=port + 2000,
                workdir=workdir / "agents",
                server=self.server,
                ring_ms=ring_ms,
                talk_ms=talk_ms,
            )
            for ext, port in zip(agent_ids(agents + 1), self._agent_ports(agents + 1), strict=True)
        ]
        self.dial_agent = self.agents[0]
        self.pool = self.agents[1:]
        self.service_started = False

    @staticmethod
    def _agent_ports(count: int) -> list[int]:
        # Outside Asterisk's RTP range (rtp.conf: 20000-29999); media ports at +2000.
        ports: list[int] = []
        port = 31000
        while len(ports) < count and port < 33000:
            if udp_port_free(port) and udp_port_free(port + 2000):
                ports.append(port)
            port += 4
        if len(ports) < count:
            raise StackError("not enough free UDP ports for the bench agents in 31000-35000")
        return ports

    # -- lifecycle ------------------------------------------------------------------------

    def start_asterisk(self, progress: Progress) -> None:
        self.stack.preflight(for_asterisk=True, for_service=False)
        self.stack.start_asterisk(progress)

    def start_agents(self, progress: Progress) -> None:
        for agent in self.agents:
            agent.start()
        deadline = time.monotonic() + 60
        pending = list(self.agents)
        while pending and time.monotonic() < deadline:
            pending = [a for a in pending if not a.register()]
        if pending:
            raise StackError(f"agents did not register: {[a.extension for a in pending]}")
        progress(
            f"{len(self.agents)} SIPp agents registered (ports {self.agents[0].port}..;"
            f" {self.dial_agent.extension} for plain Dial(), {len(self.pool)} in the queues)"
        )

    def restart_asterisk(self, progress: Progress) -> None:
        """A fresh Asterisk, as the first phase had: one that took overload steps keeps
        their traces (a heap grown past 1 GB at (a)'s 300 calls/s) and answers slower."""
        self.stack.stop_asterisk(progress)
        self.stack.start_asterisk(progress)

    def start_service(self, progress: Progress) -> None:
        self.stack.preflight(for_asterisk=False, for_service=True)
        dsn = self.stack.start_database(progress)
        self.service_started = True
        self.stack.start_service(dsn, progress)

    def reregister_agents(self, progress: Progress) -> None:
        """Unregisters and registers every phone so the ACD sees each contact appear.

        Asterisk 22's ContactList rows (PJSIPShowContacts, used by the ACD's resync) carry no
        `Aor` header, so phones registered before the service started are only known as
        reachable from a fresh ContactStatus event.
        """
        for agent in self.pool:
            agent.register(expires=0)
            if not agent.register():
                raise StackError(f"agent {agent.extension} did not register again")
        progress(f"{len(self.pool)} SIPp agents registered again for the ACD")

    def stop(self, progress: Progress) -> None:
        """Stops everything this bench started; safe to call more than once."""
        for agent in self.agents:
            try:
                agent.stop(unregister=False)
            except Exception as exc:  # keep stopping the others
                progress(f"agent {agent.extension}: stop failed: {exc}")
        self.stack.down(progress)

    @contextlib.asynccontextmanager
    async def agi_floor(self) -> AsyncIterator[None]:
        """bench/agi_floor.py on the FastAGI port (free until the service starts)."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.agi_floor",
            "--port",
            str(self.ports.fastagi),
            "--agents",
            ",".join(a.extension for a in self.pool),
            cwd=str(self.paths.project),
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert proc.stdout is not None
            async with asyncio.timeout(15):
                line = await proc.stdout.readline()
            if line.strip() != b"ready":
                raise StackError(f"bench/agi_floor.py did not start (exit {proc.returncode})")
            yield
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    async with asyncio.timeout(5):
                        await proc.wait()
                except TimeoutError:
                    proc.kill()
                    await proc.wait()

    def cleanup(self) -> None:
        shutil.rmtree(self.var, ignore_errors=True)

    # -- Asterisk -------------------------------------------------------------------------

    def asterisk_pid(self) -> int | None:
        """The asterisk process itself (the container's first child), for /proc sampling."""
        pid = self.stack.asterisk_pid()
        if pid is None:
            return None
        try:
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return None
        return int(kids[0]) if kids else None

    def cli(self, command: str) -> str:
        pid = self.stack.asterisk_pid()
        if pid is None:
            raise StackError("Asterisk is not running")
        return asterisk.cli(self.paths, pid, command, timeout=15)

    def channels(self) -> tuple[list[str], list[str]]:
        """Channels up now (concise listing): (real ones, Surrogate/ leftovers).

        A Surrogate channel is what a masquerade leaves behind; ones that stay (state Down,
        in madoguchi-wait) cannot be hung up and carry no call, so a step does not wait for
        them: they are counted in the report instead.
        """
        lines = [ln for ln in self.cli("core show channels concise").splitlines() if ln.strip()]
        surrogates = [ln for ln in lines if ln.startswith("Surrogate/")]
        return [ln for ln in lines if not ln.startswith("Surrogate/")], surrogates

    def add_baseline_members(self) -> None:
        for agent in self.pool:
            self.cli(f"queue add member PJSIP/{agent.extension} to baseline")

    def remove_baseline_members(self) -> None:
        for agent in self.pool:
            self.cli(f"queue remove member PJSIP/{agent.extension} from baseline")
