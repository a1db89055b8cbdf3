"""The foundation: the stack starts, a call completes, agents authenticate, AMI is locked down."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from bench.harness.agent import SippAgent
from bench.harness.caller import CallerScript, place_calls
from bench.harness.ports import free_udp_port
from madoguchi.stack import asterisk, probes
from madoguchi.stack.runner import Stack


def test_status_reports_every_part_up(stack: Stack) -> None:
    parts = {p.name: p for p in stack.status()}
    assert parts["database"].ok, parts["database"].detail
    assert parts["asterisk"].ok, parts["asterisk"].detail
    assert parts["service"].ok, parts["service"].detail
    # The service's own parts: the AMI link and the database writer.
    assert parts["service.ami"].ok, parts["service.ami"].detail
    assert parts["service.database"].ok, parts["service.database"].detail


def test_asterisk_started_without_errors(stack: Stack) -> None:
    log: str = stack.boot_log  # type: ignore[attr-defined]
    assert "Asterisk" in log
    errors = [line for line in log.splitlines() if " ERROR[" in line or " WARNING[" in line]
    assert errors == []


def test_line_test_number_answers_plays_prompt_and_hangs_up(stack: Stack, sipp_dir: Path) -> None:
    started = time.monotonic()
    caller = place_calls(CallerScript("9000", max_wait_ms=15_000), sipp_dir)
    assert caller.wait(timeout=30) == 0, caller.errors()
    # hello-world lasts about 1.4 s: a call that ends at once played nothing.
    assert time.monotonic() - started > 1.2


def test_agent_registers_with_digest_auth_and_wrong_password_is_refused(
    stack: Stack, sipp_dir: Path
) -> None:
    agent = SippAgent("1001", "pw1001", port=free_udp_port(), workdir=sipp_dir)
    assert agent.register(expires=0, password="not-the-password") != 0
    assert agent.register(expires=60) == 0
    pid = stack.asterisk_pid()
    assert pid is not None
    contacts = asterisk.cli(stack.paths, pid, "pjsip show contacts")
    assert f"1001/sip:1001@127.0.0.1:{agent.port}" in contacts
    assert agent.register(expires=0) == 0


def test_unknown_caller_cannot_reach_anything_but_the_numbers(stack: Stack, sipp_dir: Path) -> None:
    # An agent extension dialled from the caller-facing side must not ring anything.
    caller = place_calls(CallerScript("1001", max_wait_ms=3000), sipp_dir)
    assert caller.wait(timeout=20) != 0
    assert "404" in caller.errors() or "404" in caller.output()


async def _ami_login(host: str, port: int, user: str, secret: str) -> bool:
    """A raw AMI Login: True only on `Response: Success`."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=5)
    try:
        banner = await asyncio.wait_for(reader.readline(), timeout=5)
        assert banner.startswith(b"Asterisk Call Manager")
        login = f"Action: Login\r\nActionID: t1\r\nUsername: {user}\r\nSecret: {secret}\r\n"
        writer.write(login.encode() + b"\r\n")
        await writer.drain()
        response = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        return b"Response: Success" in response
    finally:
        writer.close()


async def test_ami_login_with_configured_user_only(stack: Stack) -> None:
    ami = stack.config.service.ami
    assert await _ami_login(ami.host, ami.port, ami.user, ami.secret)
    assert not await _ami_login(ami.host, ami.port, ami.user, ami.secret + "x")
    assert not await _ami_login(ami.host, ami.port, "admin", "admin")


def test_services_listen_on_loopback_only(stack: Stack) -> None:
    s = stack.config.service
    for host in (s.ami.host, s.fastagi.host, s.cti.host, s.sip.bind):
        assert host.startswith("127.")
    assert probes.tcp_listening(s.fastagi.host, s.fastagi.port)
    with socket.socket() as sock:
        sock.settimeout(1)
        assert sock.connect_ex(("127.0.0.1", s.cti.port)) == 0


@pytest.mark.parametrize("port_kind", ["cti"])
def test_up_refuses_a_taken_port_with_a_clear_error(stack: Stack, port_kind: str) -> None:
    from madoguchi.stack.asterisk import StackError

    # The running stack holds the CTI port: a second stack must refuse to start its service.
    other = Stack(
        stack.paths.__class__(
            project=stack.paths.project,
            config=stack.paths.config,
            var=stack.paths.var / "second",
            rootfs=stack.paths.rootfs,
        ),
        stack.config,
    )
    with pytest.raises(StackError, match=r"already taken.*fix:"):
        other.preflight(for_asterisk=False, for_service=True)
