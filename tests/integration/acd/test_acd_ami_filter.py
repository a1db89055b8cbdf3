"""The ACD's AMI user on the real Asterisk: sent only the events the ACD reads."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest
from acd_it_helpers import AMI_PORT, Pbx

from bench.harness.caller import CallerScript, place_calls
from madoguchi.config.asterisk import AMI_EVENTS

pytestmark = pytest.mark.integration


async def test_the_acd_user_is_sent_only_the_events_it_reads(pbx: Pbx, tmp_path: Path) -> None:
    ami = pbx.config.service.ami
    reader, writer = await asyncio.open_connection(ami.host, AMI_PORT)
    names: list[str] = []
    try:
        await reader.readline()  # banner
        writer.write(
            f"Action: Login\r\nUsername: {ami.user}\r\nSecret: {ami.secret}\r\n"
            "Events: on\r\n\r\n".encode()
        )
        await writer.drain()
        # A call that answers, plays a prompt and ends: Newstate, Newexten, VarSet, DTMF and
        # more happen in classes the user reads or not; only the filtered names may arrive.
        script = CallerScript(number="9000", caller_name="Filter", hangup_after_ms=500)
        callers = place_calls(script, tmp_path / "callers", server=pbx.server)
        deadline = time.monotonic() + 20
        while "Hangup" not in names and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    line = await reader.readline()
                    if line.startswith(b"Event: "):
                        names.append(line[7:].decode().strip())
        assert callers.wait(10) == 0, callers.errors()
    finally:
        writer.close()
    assert {"Newchannel", "Hangup"} <= set(names), names
    assert set(names) <= set(AMI_EVENTS), sorted(set(names) - set(AMI_EVENTS))
