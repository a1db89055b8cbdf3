"""Set-up failures end with one line naming the cause and the fix, and leave nothing running."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from madoguchi.paths import PROJECT_ROOT, Paths
from madoguchi.stack.asterisk import StackError
from madoguchi.stack.runner import Stack
from tests.integration.madoguchi_command import run_madoguchi


def _paths_with(var: Path, rootfs: Path, base: Paths) -> Paths:
    return Paths(project=base.project, config=base.config, var=var, rootfs=rootfs)


def test_missing_root_filesystem_names_the_fix(stack: Stack, tmp_path: Path) -> None:
    other = Stack(_paths_with(tmp_path / "var", tmp_path / "no-rootfs", stack.paths), stack.config)
    with pytest.raises(StackError, match=r"root filesystem is missing .*fix: run `make setup`"):
        other.preflight(for_asterisk=True, for_service=True)


def test_up_with_ports_taken_fails_in_one_line_and_starts_nothing(stack: Stack) -> None:
    # The session's stack holds SIP, AMI, FastAGI and CTI: a second `up` must refuse.
    var = Path(tempfile.mkdtemp(prefix="madoguchi-second-"))
    var.chmod(0o755)
    env = dict(os.environ, MADOGUCHI_VAR=str(var), MADOGUCHI_PG_PORT="5499")
    result = run_madoguchi("--config", str(stack.paths.config), "up", env=env, timeout=120)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "already taken" in lines[0] and "fix:" in lines[0]
    assert not (var / "pg").exists(), "PostgreSQL was started although up failed"
    assert not (var / "run" / "asterisk.pid").exists()


def test_rootfs_build_refuses_when_the_disk_is_too_small(tmp_path: Path) -> None:
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(small)], check=True)
    try:
        result = subprocess.run(
            ["bash", str(PROJECT_ROOT / "scripts" / "build-rootfs.sh")],
            capture_output=True,
            text=True,
            env=dict(os.environ, MADOGUCHI_ROOTFS=str(small / "rootfs")),
            timeout=60,
        )
    finally:
        subprocess.run(["umount", str(small)], check=False)
    assert result.returncode != 0
    assert "MB free" in result.stderr and "fix:" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_asterisk_that_never_becomes_ready_is_stopped(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Something that is not Asterisk's manager holds the AMI port: Asterisk runs but never
    # answers there. Left running it would hold its SIP port against the next start.
    import dataclasses
    import socket

    from madoguchi.stack import probes, runner

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sip.bind(("127.0.0.1", 0))
    sip_port = sip.getsockname()[1]
    sip.close()
    service = stack.config.service
    config = dataclasses.replace(
        stack.config,
        service=dataclasses.replace(
            service,
            ami=dataclasses.replace(service.ami, port=holder.getsockname()[1]),
            sip=dataclasses.replace(service.sip, port=sip_port),
        ),
    )
    other = Stack(_paths_with(tmp_path / "var", stack.paths.rootfs, stack.paths), config)
    monkeypatch.setattr(runner, "READY_TIMEOUT_S", 5.0)
    try:
        with pytest.raises(StackError, match="did not become ready"):
            other.start_asterisk(lambda _msg: None)
        assert other.asterisk_pid() is None
        assert probes.port_free("127.0.0.1", sip_port, socket.SOCK_DGRAM)
    finally:
        holder.close()
        other.down(lambda _msg: None)
