"""Helpers of the ACD integration tests: Asterisk alone (no PostgreSQL, no serve),
with the ACD runtime in the test process.

The ACD tests drive the runtime directly (restart Asterisk, cut the AMI socket, read the
router), so they run their own Asterisk from a copy of config/ on other ports than the shared
stack (both can run in one session): SIP 45060, AMI 45038, FastAGI 44573, CTI 48080 (outside
Asterisk's RTP range 20000-29999; agents use 41xxx with media on 42xxx), each moved by
MADOGUCHI_TEST_PORT_OFFSET like the shared stack's ports. The support queue rings for 5 s and
wraps up for 1 s so no-answer cases stay short.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from acd.ami.connection import Backoff
from acd.ami.event_path import ListenerEvent
from acd.ami.resync_apply import Resynced
from acd.ami.runtime import AcdRuntime
from acd.core.agent_state import AgentState
from acd.core.commands import CallEnded, Command
from acd.core.router import Router
from bench.harness.agent import SippAgent
from bench.harness.sipp_process import SippProcess
from madoguchi.config.acd import agent_specs, queue_specs
from madoguchi.config.model import Config
from madoguchi.paths import PROJECT_ROOT, Paths
from madoguchi.stack import asterisk
from madoguchi.stack.runner import Stack
from tests.polling import wait_until

PORT_OFFSET = int(os.environ.get("MADOGUCHI_TEST_PORT_OFFSET", "0"))
SIP_PORT = 45060 + PORT_OFFSET
AMI_PORT = 45038 + PORT_OFFSET
AGI_PORT = 44573 + PORT_OFFSET
CTI_PORT = 48080 + PORT_OFFSET
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "acd-integration"


def _edit(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text(encoding="utf-8")
    new, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    assert count, f"{pattern!r} not found in {path}"
    path.write_text(new, encoding="utf-8")


@dataclass
class Pbx:
    paths: Paths
    config: Config
    stack: Stack
    pid: int

    @property
    def server(self) -> str:
        return f"127.0.0.1:{SIP_PORT}"

    def cli(self, command: str) -> str:
        return asterisk.cli(self.paths, self.pid, command)

    def restart(self) -> None:
        self.stack.down(lambda _msg: None)
        self.stack.start_asterisk(lambda _msg: None)
        pid = self.stack.asterisk_pid()
        assert pid is not None
        self.pid = pid

    def active_channels(self) -> int:
        out = self.cli("core show channels count")
        found = re.search(r"(\d+) active channel", out)
        return int(found.group(1)) if found else -1


@dataclass
class Acd:
    runtime: AcdRuntime
    pbx: Pbx
    workdir: Path
    seen: list[tuple[ListenerEvent, tuple[Command, ...]]] = field(default_factory=list)
    agents: list[SippAgent] = field(default_factory=list)

    def restart_runtime(self) -> AcdRuntime:
        """A fresh router and runtime, as after a restart of `madoguchi serve` (not started)."""
        self.runtime = new_runtime(self.pbx, self.seen)
        return self.runtime

    async def restart_recovering(self, what: str) -> AcdRuntime:
        """Stop the runtime, start a fresh one as after a restart of the service, and wait
        until its resync recovered the one call in progress."""
        await self.runtime.stop()
        fresh = self.restart_runtime()
        await fresh.start()
        await wait_until(
            what,
            lambda: any(isinstance(e, Resynced) and e.calls_recovered == 1 for e, _ in self.seen),
        )
        return fresh

    def commands(self) -> list[Command]:
        return [c for _, cs in self.seen for c in cs]

    def endings(self) -> list[CallEnded]:
        return [c for c in self.commands() if isinstance(c, CallEnded)]

    def agent_state(self, agent_id: str) -> AgentState | None:
        """The router's state of the agent now (None: an agent it does not know)."""
        view = self.runtime.router.agent_view(agent_id, time.monotonic())
        return None if view is None else view.state

    async def callers_done(self, callers: SippProcess, what: str, within: float = 30) -> None:
        """The SIPp callers exited, every one having followed its script."""
        await wait_until(what, lambda: not callers.running(), within)
        assert callers.wait(5) == 0, callers.errors()

    def agent(self, extension: str, port: int, **kwargs: object) -> SippAgent:
        """A SIPp phone for ``extension`` on ``port`` (41xxx, moved by the port offset)."""
        agent = SippAgent(
            extension=extension,
            password=self.pbx.config.agents[extension].password,
            port=port + PORT_OFFSET,
            workdir=self.workdir,
            server=self.pbx.server,
            **kwargs,  # type: ignore[arg-type]
        )
        agent.start()
        self.agents.append(agent)
        assert agent.register() == 0, f"agent {extension} could not register"
        return agent

    async def reachable(self, *agent_ids: str) -> None:
        router = self.runtime.router
        await wait_until(
            f"contacts of {agent_ids} reachable",
            lambda: all(
                (v := router.agent_view(a, time.monotonic())) is not None and v.reachable
                for a in agent_ids
            ),
        )


def new_runtime(pbx: Pbx, seen: list[tuple[ListenerEvent, tuple[Command, ...]]]) -> AcdRuntime:
    cfg = pbx.config
    router = Router(queue_specs(cfg).values(), agent_specs(cfg).values(), now=time.monotonic())
    ami = cfg.service.ami
    runtime = AcdRuntime(
        host=ami.host,
        port=ami.port,
        username=ami.user,
        secret=ami.secret,
        router=router,
        clock=time.monotonic,
        backoff=Backoff(first=0.2, limit=2.0),
        action_timeout=5.0,
        ring_ahead_yield=ami.ring_ahead_yield_ms / 1000,  # as the service runs it
    )
    runtime.add_listener(lambda event, commands, now: seen.append((event, tuple(commands))))
    return runtime
