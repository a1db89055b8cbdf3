"""The FastAGI server answers Asterisk only: a connection from an address outside
`[fastagi] allowed_peers` is closed without a single AGI command, whatever it sends."""

from __future__ import annotations

import asyncio

from madoguchi.stack.runner import Stack
from tests.polling import wait_for

ENV = (
    b"agi_network: yes\nagi_network_script: main\nagi_request: agi://127.0.0.1/main\n"
    b"agi_channel: PJSIP/intruder-00000001\nagi_language: en\n"
    b"agi_callerid: 0399006001\nagi_calleridname: Intruder\n\n"
)


async def _first_reply(local_host: str, stack: Stack) -> bytes:
    """What the IVR sends after an AGI environment from `local_host` (b"" = closed)."""
    agi = stack.config.service.fastagi
    reader, writer = await asyncio.open_connection(agi.host, agi.port, local_addr=(local_host, 0))
    try:
        try:
            writer.write(ENV)
            await writer.drain()
            return await asyncio.wait_for(reader.readline(), 10)
        except ConnectionResetError:
            return b""
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass


async def test_fastagi_refuses_a_peer_that_is_not_allowed(stack: Stack) -> None:
    assert "127.0.0.2" not in stack.config.service.fastagi.allowed_peers
    log = stack.paths.logs / "service.log"
    before = len(log.read_bytes())

    assert await _first_reply("127.0.0.2", stack) == b""

    # The same request from Asterisk's address is served: the flow answers the call.
    assert await _first_reply("127.0.0.1", stack) == b"ANSWER\n"

    async def refusal_logged() -> bool:
        text = log.read_bytes()[before:].decode("utf-8", errors="replace")
        return "('127.0.0.2'" in text and "not an allowed peer" in text

    await wait_for("the refusal in the service's log", refusal_logged, 10)
