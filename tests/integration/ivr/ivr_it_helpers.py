"""Helpers of the IVR integration tests: what the dialplan tells the ACD, seen over AMI.

`AmiWatch` is a plain AMI client in a thread (the configured AMI user, events of class
`user` only) that keeps every `UserEvent(AcdEnqueue)`: the hand-off the IVR prepared
(queue, priority, skills, ACD_CONTEXT) as the ACD receives it. Tests find "their" call by
its caller number, so every scenario dials with a number of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness.caller import CallerScript, Pause, caller_scenario
from bench.harness.dtmf import dtmf_pcaps
from bench.harness.ports import free_media_port, free_udp_port
from bench.harness.sipp_process import SippProcess, default_server, run_sipp
from ivr.outcome import decode_context
from madoguchi.stack.runner import Stack
from tests.polling import block_until, wait_for, wait_until

AmiEvent = dict[str, list[str]]


def _last(event: AmiEvent, key: str) -> str:
    """The dialplan's UserEvent repeats Context, Priority and Uniqueid: the channel's own
    value comes first, the value the dialplan passed comes last."""
    values = event.get(key.lower(), [])
    return values[-1] if values else ""


@dataclass(frozen=True)
class Enqueued:
    """One AcdEnqueue UserEvent: a caller the IVR handed to the ACD."""

    uniqueid: str
    channel: str
    caller_number: str
    caller_name: str
    queue: str
    priority: int
    skills: str
    context: dict[str, Any]
    raw: AmiEvent

    @classmethod
    def from_event(cls, event: AmiEvent) -> Enqueued:
        ctx_text = _last(event, "AcdContext")
        return cls(
            uniqueid=_last(event, "Uniqueid"),
            channel=_last(event, "Channel"),
            caller_number=_last(event, "CallerIDNum"),
            caller_name=_last(event, "CallerIDName"),
            queue=_last(event, "Queue"),
            priority=int(_last(event, "AcdPriority") or "0"),
            skills=_last(event, "Skills"),
            context=decode_context(ctx_text) if ctx_text else {},
            raw=event,
        )

    def steps(self) -> list[tuple[str, str, str | None]]:
        """The IVR path as (node, kind, value) triples."""
        return [(s["node"], s["kind"], s.get("value")) for s in self.context.get("path", [])]


class AmiWatch:
    """Collects AcdEnqueue user events from Asterisk's AMI in a background thread."""

    def __init__(self, host: str, port: int, user: str, secret: str) -> None:
        self._sock = socket.create_connection((host, port), timeout=10)
        self._file = self._sock.makefile("rb")
        banner = self._file.readline()
        assert banner.startswith(b"Asterisk Call Manager"), banner
        login = (
            f"Action: Login\r\nUsername: {user}\r\nSecret: {secret}\r\n"
            "Events: user\r\nActionID: ivr-it-login\r\n\r\n"
        )
        self._sock.sendall(login.encode())
        reply = self._read_block()
        assert reply is not None and reply.get("response") == ["Success"], reply
        self._sock.settimeout(None)
        self._lock = threading.Lock()
        self._events: list[AmiEvent] = []
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="ivr-it-ami", daemon=True)
        self._thread.start()

    def _read_block(self) -> AmiEvent | None:
        block: AmiEvent = {}
        while True:
            raw = self._file.readline()
            if not raw:
                return None
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line:
                if block:
                    return block
                continue
            key, _, value = line.partition(": ")
            block.setdefault(key.lower(), []).append(value)

    def _run(self) -> None:
        while True:
            try:
                block = self._read_block()
            except (OSError, ValueError):
                return
            if block is None:
                return
            if block.get("userevent") == ["AcdEnqueue"]:
                with self._lock:
                    self._events.append(block)

    def enqueued(self) -> list[Enqueued]:
        with self._lock:
            return [Enqueued.from_event(e) for e in self._events]

    def for_caller(self, number: str) -> list[Enqueued]:
        return [e for e in self.enqueued() if e.caller_number == number]

    async def wait_for_caller(self, number: str, limit: float = 60) -> Enqueued:
        """The first hand-off of the call(s) from `number`, waiting up to `limit` seconds."""
        found = await wait_until(
            f"an AcdEnqueue from caller {number}", lambda: self.for_caller(number), limit, every=0.1
        )
        return found[0]

    def close(self) -> None:
        try:
            self._sock.sendall(b"Action: Logoff\r\n\r\n")
        except OSError:
            pass
        self._sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        self._file.close()
        self._sock.close()


def ami_watch_for(stack: Stack) -> AmiWatch:
    ami = stack.config.service.ami
    return AmiWatch(ami.host, ami.port, ami.user, ami.secret)


@dataclass
class Caller:
    """One SIPp caller process placed for a named scenario."""

    name: str
    script: CallerScript
    process: SippProcess

    @property
    def number(self) -> str:
        return self.script.caller_num

    async def finished(self, limit: float) -> int:
        """SIPp's exit code once the caller is done (0: it followed its script)."""
        return await asyncio.to_thread(self.process.wait, limit)


def place_ivr_call(script: CallerScript, workdir: Path, server: str | None = None) -> SippProcess:
    """One caller running `script` (bench.harness.caller.place_calls with count 1), with
    key presses from dtmf_pcaps() and a media port of its own."""
    presses = "".join(step.digits for step in script.steps if not isinstance(step, Pause))
    scenario = caller_scenario(script, dtmf_pcaps(presses, workdir / "dtmf"))
    args = [
        "-s", script.number, "-m", "1", "-r", "1", "-rp", "1000", "-p", str(free_udp_port()),
        "-timeout", "180", "-timeout_error", "-max_recv_loops", "1000",
        "-mp", str(free_media_port()),
    ]  # fmt: skip
    return run_sipp("caller", workdir, scenario, args, server or default_server())


def start_callers(
    scripts: Sequence[tuple[str, CallerScript]], workdir: Path, server: str | None = None
) -> dict[str, Caller]:
    """Start one SIPp process per script at once (they run concurrently)."""
    started: dict[str, Caller] = {}
    try:
        for name, script in scripts:
            process = place_ivr_call(script, workdir / name, server=server)
            started[name] = Caller(name, script, process)
    except BaseException:
        stop_callers(started.values())
        raise
    return started


def stop_callers(callers: Iterable[Caller], finish_within: float = 0) -> None:
    """Stop every caller, each given `finish_within` s to end its script first."""
    callers = list(callers)
    for caller in callers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            caller.process.wait(finish_within)
    for caller in callers:
        caller.process.stop()


@contextlib.contextmanager
def callers_running(
    stack: Stack,
    scripts: Sequence[tuple[str, CallerScript]],
    workdir: Path,
    finish_within: float,
    server: str | None = None,
) -> Iterator[dict[str, Caller]]:
    """Callers started at once (start_callers); afterwards each gets `finish_within` s to end
    its script, every one is stopped, and no call may be left in Asterisk."""
    callers = start_callers(scripts, workdir, server)
    try:
        yield callers
    finally:
        stop_callers(callers.values(), finish_within)
        wait_no_channels(stack)


def wait_no_channels(stack: Stack, limit: float = 30) -> None:
    """Every call of a test gone from Asterisk (tests share the stack)."""

    from madoguchi.stack.asterisk import cli

    def channels() -> str:
        pid = stack.asterisk_pid()
        assert pid is not None, "Asterisk is not running"
        return cli(stack.paths, pid, "core show channels count")

    def none_left(out: str) -> bool:
        found = re.search(r"(\d+) active channel", out)
        return found is not None and int(found.group(1)) == 0

    block_until(
        "no call left in Asterisk after the test", channels, limit, until=none_left, every=0.2
    )


def run_in_thread(make: Any) -> Any:
    """Run the coroutine `make()` on an event loop of its own, in a worker thread: for
    module-scoped (synchronous) fixtures, whatever loop the current test uses."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def wait_crm_seeded(stack: Stack, at_least: int = 12, limit: float = 30) -> int:
    """The service seeds the demo CRM from config/crm_seed.csv into an empty database
    after its migrations: wait until the customers are there."""
    import asyncpg

    from madoguchi.service_config import database_dsn

    async def seeded() -> int:
        conn = await asyncpg.connect(database_dsn(stack.paths, stack.config))

        async def count() -> int:
            try:
                return int(await conn.fetchval("SELECT count(*) FROM customers"))
            except asyncpg.UndefinedTableError:
                return 0

        try:
            what = f"at least {at_least} customers in the demo CRM"
            return await wait_for(what, count, limit, until=lambda n: n >= at_least, every=0.2)
        finally:
            await conn.close()

    found: int = run_in_thread(seeded)
    return found


# -- test-only flows and numbers, added to a stack's config copy and reloaded -----------------

HOURS_FLOW = """# Test-only ({name}): the business-hours branch of schedule "{schedule}" alone.
[flow]
start = "hours"
language = "ja"
languages = ["ja", "en"]
default_queue = "support"

[node.hours]
type = "hours"
schedule = "{schedule}"
open = "connect"
closed = "closed"
holiday = "holiday"

[node.connect]
type = "queue"

[node.closed]
type = "hangup"
prompt = "custom/closed"

[node.holiday]
type = "voicemail"
mailbox = "support@madoguchi"
options = "s"
prompt = "custom/holiday"
"""


def add_hours_flows(config: Path, schedules: dict[str, str], numbers: dict[str, str]) -> None:
    """Append test schedules to calendar.toml ({name: TOML body}), write one hours-only flow
    per schedule (config/ivr/it_<schedule>.toml) and route `numbers` ({number: schedule})."""
    calendar = config / "calendar.toml"
    text = calendar.read_text(encoding="utf-8")
    for name, body in schedules.items():
        text += f"\n[hours.{name}]\n{body.strip()}\n"
        flow = f"it_{name}"
        (config / "ivr" / f"{flow}.toml").write_text(
            HOURS_FLOW.format(name=flow, schedule=name), encoding="utf-8"
        )
    calendar.write_text(text, encoding="utf-8")
    routes = "".join(
        f'\n[number."{number}"]\nflow = "it_{schedule}"\n' for number, schedule in numbers.items()
    )
    with (config / "numbers.toml").open("a", encoding="utf-8") as f:
        f.write(routes)


def reload_service(stack: Stack, limit: float = 30) -> None:
    """SIGHUP the service (what `madoguchi reload` does) and wait for its verdict."""
    import os
    import signal

    log = stack.paths.logs / "service.log"
    before = log.read_text(encoding="utf-8", errors="replace")
    pid = stack.service_pid()
    assert pid is not None, "the service is not running"
    os.kill(pid, signal.SIGHUP)

    def logged_since() -> str:
        new = log.read_text(encoding="utf-8", errors="replace")[len(before) :]
        assert "reload refused" not in new, f"reload refused:\n{new[-3000:]}"
        return new

    block_until(
        "the reload's verdict", logged_since, limit, until=lambda new: "reload applied" in new
    )


def wait_dialplan(stack: Stack, number: str, limit: float = 15) -> None:
    """Asterisk knows `number` (the reload regenerated and reloaded the dialplan)."""
    from madoguchi.stack.asterisk import cli

    def dialplan() -> str:
        pid = stack.asterisk_pid()
        assert pid is not None
        return cli(stack.paths, pid, f"dialplan show {number}@numbers")

    what = f"number {number} in Asterisk's dialplan"
    block_until(what, dialplan, limit, until=lambda out: f"'{number}' =>" in out, every=0.2)
