"""Set-up (e) of `make bench`: the least any routing decision outside Asterisk can cost.

    python -m bench.agi_floor --port 15062 --agents 2002,2003,...

A FastAGI server that does no routing work at all. Each caller's AGI session (number 7001
in context madoguchi-bench) stamps queue entry on the channel (``STRFTIME``, as
madoguchi-wait does) and sends the queue-entry UserEvent ``AcdEnqueue`` through the
session itself, and the moment Asterisk confirms it, sends ``Dial`` to the next free agent
(round robin). Nothing is looked up, recorded or pushed to a desktop, and the session is
already open when the caller enters the queue. So queue entry -> agent INVITE here is only
the one round trip that every out-of-process ACD pays (AMI or AGI, Python or not) plus
Asterisk's own Dial: a floor to read madoguchi's figures (c) and (d) against. app_queue (b)
decides inside Asterisk and pays no round trip.

Prints ``ready`` on stdout once it listens; runs until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import re

STAMP = "GET FULL VARIABLE ${STRFTIME(,,%s.%6q)}"
STAMP_REPLY = re.compile(r"200 result=1 \(([0-9]+\.[0-9]+)\)")
WAIT_FOR_AGENT_S = 10.0  # a caller finding every agent busy waits this long, then hangs up
RING_S = 15


class Floor:
    def __init__(self, agents: list[str]) -> None:
        self._order = itertools.cycle(agents)
        self._count = len(agents)
        self._busy: set[str] = set()
        self._freed = asyncio.Condition()

    async def _take(self) -> str | None:
        async with self._freed:
            try:
                async with asyncio.timeout(WAIT_FOR_AGENT_S):
                    await self._freed.wait_for(lambda: len(self._busy) < self._count)
            except TimeoutError:
                return None
            while True:
                agent = next(self._order)
                if agent not in self._busy:
                    self._busy.add(agent)
                    return agent

    async def _free(self, agent: str) -> None:
        async with self._freed:
            self._busy.discard(agent)
            self._freed.notify()

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        agent: str | None = None
        try:
            env: dict[str, str] = {}
            while True:
                line = await reader.readline()
                if not line or line in (b"\n", b"\r\n"):
                    break
                key, _, value = line.decode(errors="replace").partition(":")
                env[key.strip()] = value.strip()
            if not env.get("agi_uniqueid"):
                return
            # Queue entry: the caller's channel stamps it (as madoguchi-wait does) and the
            # same UserEvent as (c) and (d) reports it to the decision.
            entered = _value(await _command(reader, writer, STAMP))
            if entered is None:
                return
            enqueue = f'EXEC UserEvent "AcdEnqueue,Queue: floor,Entered: {entered}"'
            if await _command(reader, writer, enqueue) is None:
                return
            agent = await self._take()
            if agent is None:
                return
            await _command(reader, writer, f"EXEC Dial PJSIP/{agent},{RING_S}")
        finally:
            if agent is not None:
                await self._free(agent)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def _command(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: str
) -> str | None:
    """Sends one AGI command; Asterisk's 200 reply, or None (a hang-up ends the session)."""
    writer.write(line.encode() + b"\n")
    await writer.drain()
    while True:
        reply = await reader.readline()
        if not reply:
            return None
        if reply.startswith(b"200"):
            return reply.decode(errors="replace").strip()
        if not reply.startswith(b"HANGUP"):
            return None


def _value(reply: str | None) -> str | None:
    """The value of a ``200 result=1 (value)`` reply."""
    match = STAMP_REPLY.fullmatch(reply or "")
    return match.group(1) if match else None


async def main(port: int, agents: list[str]) -> None:
    floor = Floor(agents)
    server = await asyncio.start_server(floor.session, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.agi_floor", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--agents", required=True, help="comma list of agent extensions")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.port, [a for a in args.agents.split(",") if a]))
