"""Fixtures of the ACD integration tests (see acd_it_helpers for the set-up)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from acd_it_helpers import (
    AGI_PORT,
    AMI_PORT,
    ARTIFACTS,
    CTI_PORT,
    SIP_PORT,
    Acd,
    Pbx,
    _edit,
    new_runtime,
    wait_until,
)
from panoramisk.fast_agi import Application

from acd.ami.agi_routes import register_acd_routes
from acd.ami.event_path import ListenerEvent
from acd.ami.resync_apply import Resynced
from acd.core.commands import Command
from madoguchi.paths import Paths, default_paths
from madoguchi.service_config import load_service_config
from madoguchi.stack.runner import Stack


@pytest.fixture(scope="module")
def pbx() -> Iterator[Pbx]:
    base = default_paths()
    var = Path(tempfile.mkdtemp(prefix="madoguchi-acd-it-"))
    var.chmod(0o755)
    config_dir = var / "config"
    shutil.copytree(base.config, config_dir)
    service = config_dir / "madoguchi.toml"
    _edit(service, r"^port = 5060\b", f"port = {SIP_PORT}")
    _edit(service, r"^port = 5038\b", f"port = {AMI_PORT}")
    _edit(service, r"^port = 4573\b", f"port = {AGI_PORT}")
    _edit(service, r"^port = 8080\b", f"port = {CTI_PORT}")
    queues = config_dir / "queues.toml"
    _edit(queues, r"^ring_timeout = 15", "ring_timeout = 5")
    _edit(queues, r"^wrapup = 10", "wrapup = 1")
    paths = Paths(project=base.project, config=config_dir, var=var, rootfs=base.rootfs)
    config = load_service_config(config_dir)
    stack = Stack(paths, config)
    stack.start_asterisk(lambda _msg: None)
    pid = stack.asterisk_pid()
    assert pid is not None
    box = Pbx(paths, config, stack, pid)
    try:
        yield box
    finally:
        stack.down(lambda _msg: None)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        log = var / "log" / "asterisk.log"
        if log.exists():
            shutil.copy(log, ARTIFACTS / "asterisk.log")
        shutil.rmtree(var, ignore_errors=True)


@pytest.fixture
async def acd(pbx: Pbx, tmp_path: Path) -> AsyncIterator[Acd]:
    cfg = pbx.config
    seen: list[tuple[ListenerEvent, tuple[Command, ...]]] = []
    box = Acd(new_runtime(pbx, seen), pbx, tmp_path / "sipp", seen)
    app = Application()
    register_acd_routes(app, box.runtime, {a.id: a.pin for a in cfg.agents.values()})
    server = await asyncio.start_server(app.handler, "127.0.0.1", AGI_PORT)
    try:
        await box.runtime.start()
        await wait_until(
            "AMI login and the first resync",
            lambda: any(isinstance(event, Resynced) for event, _ in box.seen),
        )
        yield box
    finally:
        for agent in box.agents:
            agent.stop(unregister=True)
        await box.runtime.stop()
        server.close()
        await server.wait_closed()
        # Leave no call behind for the next test.
        pbx.cli("channel request hangup all")
        await wait_until("no channels left", lambda: pbx.active_channels() == 0)
