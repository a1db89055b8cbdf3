"""A stand-in for Asterisk's side of (Fast)AGI, for transport tests over a real socket.

parse_args is a line-by-line port of res_agi.c's parse_args(), so the tests check what
Asterisk itself would make of every command line the IVR sends.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable

from ivr_fakes import HANGUP, WAIT

# res_agi.c's commands marked as allowed on a dead channel (those the IVR sends).
DEAD_CHANNEL_COMMANDS = frozenset({"NOOP", "EXEC", "VERBOSE", "SET VARIABLE", "GET VARIABLE"})


def parse_args(line: str) -> list[str]:
    argv: list[str] = []
    cur: list[str] | None = None
    quoted = escaped = False
    whitespace = True
    for ch in line:
        if ch == '"' and not escaped:
            quoted = not quoted
            if quoted and whitespace:
                cur = []
                argv.append("")
                whitespace = False
            escaped = False
            continue
        if ch in " \t" and not quoted and not escaped:
            whitespace = True
            if cur is not None:
                argv[-1] = "".join(cur)
                cur = None
            continue
        if ch == "\\" and not escaped:
            escaped = True
            continue
        if whitespace:
            cur = []
            argv.append("")
            whitespace = False
        assert cur is not None
        cur.append(ch)
        escaped = False
        argv[-1] = "".join(cur)
    return argv


def environment(script: str = "main", **overrides: str) -> bytes:
    env = {
        "agi_network": "yes",
        "agi_network_script": script,
        "agi_request": f"agi://127.0.0.1/{script}",
        "agi_channel": "PJSIP/sipp-00000001",
        "agi_language": "en",
        "agi_type": "PJSIP",
        "agi_uniqueid": "1700000000.1",
        "agi_callerid": "0312345678",
        "agi_calleridname": "Yamada",
        "agi_context": "from-callers",
        "agi_extension": "100",
    }
    env.update(overrides)
    return "".join(f"{k}: {v}\n" for k, v in env.items()).encode() + b"\n"


class FakeAsterisk:
    """Places one call: sends the environment, then answers each command like Asterisk."""

    def __init__(self, keys: Iterable[str] = (), missing_files: Iterable[str] = ()) -> None:
        self.keys: deque[str] = deque(keys)
        self.missing_files = set(missing_files)
        self.commands: list[list[str]] = []
        self.raw_lines: list[str] = []
        self.variables: dict[str, str] = {}
        self.dead = False

    def reply(self, argv: list[str]) -> str:
        verb = " ".join(argv[:2]) if len(argv) > 1 else argv[0]
        # res_agi runs a few commands on a dead channel too (NOOP, variables, EXEC).
        if self.dead and argv[0] not in DEAD_CHANNEL_COMMANDS and verb not in DEAD_CHANNEL_COMMANDS:
            return "511 Command Not Permitted on a dead channel or intercepted"
        if self.keys and self.keys[0] == HANGUP:
            self.dead = True
            return "HANGUP\n200 result=-1"
        if argv[0] in ("ANSWER", "NOOP"):
            return "200 result=0"
        if verb == "CHANNEL STATUS":
            return "200 result=6"  # up
        if argv[0] == "HANGUP":
            self.dead = True
            return "200 result=1"
        if verb == "SET VARIABLE" and len(argv) == 4:
            self.variables[argv[2]] = argv[3]
            return "200 result=1"
        if verb == "GET VARIABLE" and len(argv) == 3:
            value = self.variables.get(argv[2])
            return "200 result=0" if value is None else f"200 result=1 ({value})"
        if verb == "STREAM FILE" and len(argv) == 4:
            if argv[2] in self.missing_files:
                return "200 result=-1 endpos=0"
            return self._keyed(argv[3]) + " endpos=8000"
        if verb in ("SAY DIGITS", "SAY NUMBER") and len(argv) == 4:
            return self._keyed(argv[3])
        if argv[:3] == ["WAIT", "FOR", "DIGIT"] and len(argv) == 4:
            if not self.keys:
                return "200 result=0"
            key = self.keys.popleft()
            return "200 result=0" if key == WAIT else f"200 result={ord(key)}"
        if argv[0] == "EXEC" and len(argv) == 3:
            return "200 result=0"
        return "510 Invalid or unknown command"

    def _keyed(self, escape: str) -> str:
        if self.keys and self.keys[0] == WAIT:
            self.keys.popleft()
            return "200 result=0"
        if self.keys and len(self.keys[0]) == 1:
            key = self.keys.popleft()
            return f"200 result={ord(key) if key in escape else 0}"
        return "200 result=0"

    async def call(
        self, port: int, env: bytes | None = None, local_addr: tuple[str, int] | None = None
    ) -> bool:
        """Run the call; True if the server spoke AGI at all (False: it hung up on us)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=local_addr)
        spoke = await self.converse(reader, writer, env)
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionResetError:
            pass
        return spoke

    async def converse(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, env: bytes | None = None
    ) -> bool:
        """Send the environment, then answer commands until the other side closes."""
        writer.write(env if env is not None else environment())
        await writer.drain()
        spoke = False
        while True:
            try:
                raw = await reader.readline()
            except ConnectionResetError:
                break  # closed with our environment unread: the server refused us
            if not raw:
                break
            spoke = True
            line = raw.decode()
            assert line.endswith("\n") and "\n" not in line[:-1]
            self.raw_lines.append(line)
            argv = parse_args(line[:-1])
            self.commands.append(argv)
            writer.write((self.reply(argv) + "\n").encode())
            try:
                await writer.drain()
            except (BrokenPipeError, ConnectionResetError):
                break
        return spoke
